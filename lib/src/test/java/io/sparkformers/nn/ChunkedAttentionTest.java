package io.sparkformers.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import org.junit.jupiter.api.Test;

/** Inference attention over long sequences runs in batch chunks and must give the whole batch's numbers. */
class ChunkedAttentionTest {

    @Test
    void chunkedInferenceAttentionEqualsTheWholeBatch() {
        int b = 8;
        int t = 512;
        int heads = 12;
        int d = 384;
        assertTrue(
                (long) b * heads * t * t > ScaledDotProductAttention.CHUNK_ABOVE_SCORES, "this shape must be chunked");
        try (NDManager m = NDManager.newBaseManager()) {
            m.getEngine().setRandomSeed(7);
            NDArray q = m.randomNormal(new Shape(b, t, d)).mul(0.2f);
            NDArray k = m.randomNormal(new Shape(b, t, d)).mul(0.2f);
            NDArray v = m.randomNormal(new Shape(b, t, d));
            float[] additive = new float[b * t]; // rows 1 and 6 padded after 100 and 300 tokens
            for (int j = 100; j < t; j++) additive[t + j] = -3.4028235e38f;
            for (int j = 300; j < t; j++) additive[6 * t + j] = -3.4028235e38f;
            NDArray mask = m.create(additive, new Shape(b, 1, 1, t));
            NDArray whole;
            boolean previous = NoGrad.isGradMode();
            JniUtils.setGradMode(true); // grad mode on: the unchunked path
            try {
                whole = ScaledDotProductAttention.attendScaled(q, k, v, mask, heads, p -> p);
            } finally {
                JniUtils.setGradMode(previous);
            }
            NDArray chunked;
            try (NoGrad g = NoGrad.enter()) {
                chunked = ScaledDotProductAttention.attendScaled(q, k, v, mask, heads, p -> p);
            }
            assertEquals(whole.getShape(), chunked.getShape());
            float diff = whole.sub(chunked).abs().max().getFloat();
            assertTrue(diff <= 1e-6f, "max |whole - chunked| = " + diff);
        }
    }
}
