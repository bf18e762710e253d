package io.sparkformers.generation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The primitive key sort behind top-p / min-p / typical-p gives the stable sort's order (ties by index). */
class AscendingOrderTest {

    @Test
    void equalsStableBoxedSort() {
        SplittableRandom r = new SplittableRandom(3);
        float[] specials = {
            Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -0.0f, 0.0f, -Float.MAX_VALUE, Float.MIN_VALUE, -1e-30f
        };
        for (int round = 0; round < 20; round++) {
            float[] x = new float[1000 + round];
            for (int i = 0; i < x.length; i++) {
                double u = r.nextDouble();
                x[i] = u < 0.1
                        ? specials[r.nextInt(specials.length)]
                        : u < 0.3 ? (float) r.nextInt(-3, 4) : (float) (r.nextGaussian() * 10);
            }
            Integer[] boxed = IntStream.range(0, x.length).boxed().toArray(Integer[]::new);
            Arrays.sort(boxed, Comparator.comparingDouble(i -> x[i]));
            int[] expected = Arrays.stream(boxed).mapToInt(Integer::intValue).toArray();
            assertArrayEquals(expected, LogitsProcessors.ascending(x));
        }
    }
}
