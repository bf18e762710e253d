package io.sparkformers.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** The in-place cache against plain concatenation (what HF's DynamicCache does), across capacity doublings. */
class KvBufferTest {

    @Test
    void viewsEqualConcatenationAcrossGrowthAndSelect() {
        try (NDManager m = NDManager.newBaseManager();
                KvBuffer buffer = new KvBuffer(m, 2)) {
            NDArray[] k = new NDArray[2];
            NDArray[] v = new NDArray[2];
            int[] chunks = {40, 1, 1, 30, 1, 70, 1}; // 40 → 41 … 144 positions: grows past 64 and past 2 × 71
            for (int t : chunks) {
                try (NDManager step = m.newSubManager()) {
                    for (int layer = 0; layer < 2; layer++) {
                        NDArray nk = step.randomNormal(new Shape(3, 2, t, 4));
                        NDArray nv = step.randomNormal(new Shape(3, 2, t, 4));
                        NDList got = buffer.append(layer, nk, nv);
                        NDArray ek = k[layer] == null ? nk : NDArrays.concat(new NDList(k[layer], nk), 2);
                        NDArray ev = v[layer] == null ? nv : NDArrays.concat(new NDList(v[layer], nv), 2);
                        ek.attach(m);
                        ev.attach(m);
                        k[layer] = ek;
                        v[layer] = ev;
                        assertEquals(ek.getShape(), got.get(0).getShape());
                        assertArrayEquals(ek.toFloatArray(), got.get(0).toFloatArray());
                        assertArrayEquals(ev.toFloatArray(), got.get(1).toFloatArray());
                    }
                    buffer.advance(t);
                }
            }
            assertEquals(144, buffer.length());
            // beam reorder: rows 2, 0, 0
            buffer.select(m.create(new long[] {2, 0, 0}));
            try (NDManager step = m.newSubManager()) {
                NDArray nk = step.zeros(new Shape(3, 2, 1, 4));
                NDList got = buffer.append(0, nk, nk);
                NDArray picked = k[0].get("{}", m.create(new long[] {2, 0, 0}));
                NDArray expected = NDArrays.concat(new NDList(picked, nk), 2);
                assertArrayEquals(expected.toFloatArray(), got.get(0).toFloatArray());
            }
        }
    }
}
