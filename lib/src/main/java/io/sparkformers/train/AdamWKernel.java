package io.sparkformers.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * The fused AdamW update (as torch's {@code fused=True} kernel does it): one pass over each parameter's memory that
 * reads p, g, m, v and writes p, m, v once, instead of the fourteen tensor operations (four of them allocating) of
 * {@link AdamW}'s op-by-op form. Each element goes through the very float32 operations of that form, in its order
 * and with its scalars rounded to float as libtorch rounds them. The moments agree to the bit; the parameters to
 * within a float32 ulp or so, because libtorch's float sqrt comes from a vector math library that is not correctly
 * rounded (about one result in five is 1 ulp off) while Java's is ({@code AdamWTest}: within 1e-6 of the op-by-op
 * form and of {@code torch.optim.AdamW}). Large tensors are split over libtorch's intra-op thread count.
 *
 * <p>It works on CPU float32 tensors whose memory is contiguous, reached through DJL's direct buffers over the
 * tensor's own storage; {@link #applicable} tells when the caller must take the op-by-op form instead.
 */
final class AdamWKernel {

    /** Elements per parallel chunk: large enough that scheduling costs nothing beside the pass itself. */
    private static final int CHUNK = 1 << 16;

    private static volatile ForkJoinPool pool;

    private AdamWKernel() {}

    /** Whether the fused pass can update these tensors in place. */
    static boolean applicable(NDArray p, NDArray g, NDArray m, NDArray v) {
        for (NDArray a : new NDArray[] {p, g, m, v}) {
            if (a.getDataType() != DataType.FLOAT32 || !Device.cpu().equals(a.getDevice()) || a.isSparse()) {
                return false;
            }
        }
        return p.size() > 0;
    }

    /**
     * Updates {@code p}, {@code m}, {@code v} in place. Returns false, changing nothing, when a tensor that is
     * written is not contiguous (DJL would hand over a copy of it).
     */
    static boolean step(
            NDArray p,
            NDArray g,
            NDArray m,
            NDArray v,
            double lr,
            double weightDecay,
            double beta1,
            double beta2,
            double eps,
            long t) {
        FloatBuffer gf = g.toByteBuffer(true).asFloatBuffer(); // read only: a copy would do as well
        return stepRange(p, gf, m, v, 0, p.size(), 1f, lr, weightDecay, beta1, beta2, eps, t);
    }

    /**
     * Updates elements [from, to) of the flattened {@code p}, {@code m}, {@code v} in place, with gradient
     * {@code gradScale · g[i − from]} for element i (a data-parallel rank's share, its gradient summed over the ranks
     * and not yet clipped: the scale is the clipping coefficient, applied as torch's {@code g.mul_(coef)} rounds it).
     * Returns false, changing nothing, when a tensor that is written is not contiguous.
     */
    static boolean stepRange(
            NDArray p,
            FloatBuffer g,
            NDArray m,
            NDArray v,
            long from,
            long to,
            float gradScale,
            double lr,
            double weightDecay,
            double beta1,
            double beta2,
            double eps,
            long t) {
        ByteBuffer pb = p.toByteBuffer(true);
        ByteBuffer mb = m.toByteBuffer(true);
        ByteBuffer vb = v.toByteBuffer(true);
        if (!aliases(p, pb) || !aliases(m, mb) || !aliases(v, vb)) return false;
        FloatBuffer pf = pb.asFloatBuffer();
        FloatBuffer mf = mb.asFloatBuffer();
        FloatBuffer vf = vb.asFloatBuffer();
        // the scalars exactly as AdamW's tensor operations see them: double arithmetic, then rounded to float32
        Scalars k = new Scalars(
                (float) (1 - lr * weightDecay),
                weightDecay != 0,
                (float) (1 - beta1),
                (float) (1 - beta2),
                (float) beta2,
                (float) Math.sqrt(1 - StrictMath.pow(beta2, t)),
                (float) eps,
                (float) (lr / (1 - StrictMath.pow(beta1, t))),
                gradScale);
        int start = Math.toIntExact(from);
        int end = Math.toIntExact(to);
        int chunks = (end - start + CHUNK - 1) / CHUNK;
        if (chunks <= 1) {
            pass(pf, g, mf, vf, start, start, end, k);
        } else {
            pool().submit(() -> IntStream.range(0, chunks)
                            .parallel()
                            .forEach(c -> pass(
                                    pf,
                                    g,
                                    mf,
                                    vf,
                                    start,
                                    start + c * CHUNK,
                                    Math.min(end, start + (c + 1) * CHUNK),
                                    k)))
                    .join();
        }
        return true;
    }

    /** One update's scalars, each rounded to float32 as libtorch rounds them. */
    private record Scalars(
            float decay,
            boolean decays,
            float oneMinusBeta1,
            float oneMinusBeta2,
            float beta2,
            float biasCorrection2Sqrt,
            float eps,
            float stepSize,
            float gradScale) {}

    /**
     * Elements [from, to): AdamW's tensor operations, one element at a time (no FMA: Java rounds every step); the
     * gradient of element i is {@code g[i − gBase]}.
     */
    private static void pass(
            FloatBuffer p, FloatBuffer g, FloatBuffer m, FloatBuffer v, int gBase, int from, int to, Scalars k) {
        float decay = k.decay();
        boolean decays = k.decays();
        float oneMinusBeta1 = k.oneMinusBeta1();
        float oneMinusBeta2 = k.oneMinusBeta2();
        float beta2 = k.beta2();
        float biasCorrection2Sqrt = k.biasCorrection2Sqrt();
        float eps = k.eps();
        float stepSize = k.stepSize();
        float gradScale = k.gradScale();
        for (int i = from; i < to; i++) {
            float gi = g.get(i - gBase) * gradScale; //           g.mul_(clip coefficient); x · 1 is x
            float pi = p.get(i);
            if (decays) pi = pi * decay; //                    p.muli(1 − lr·wd)
            float mi = m.get(i) + (gi - m.get(i)) * oneMinusBeta1; // m.addi((g − m)·(1 − β1))
            float vi = v.get(i) * beta2 + (gi * oneMinusBeta2) * gi; // v.muli(β2).addi((g·(1 − β2))·g)
            float denom = (float) Math.sqrt(vi) / biasCorrection2Sqrt + eps; // sqrt(v) / sqrt(bc2) + ε
            p.put(i, pi - (mi / denom) * stepSize); //                        p − (m / denom)·(lr / bc1)
            m.put(i, mi);
            v.put(i, vi);
        }
    }

    /**
     * Whether {@code buffer} is {@code a}'s own storage rather than the contiguous copy DJL makes of a strided
     * tensor: flips the lowest bit of the first element through the buffer, reads it back through the tensor's
     * own first-element view, and restores it.
     */
    private static boolean aliases(NDArray a, ByteBuffer buffer) {
        int bits = buffer.getInt(0);
        buffer.putInt(0, bits ^ 1);
        boolean same;
        try (NDArray flat = a.flatten();
                NDArray first = flat.get(0)) {
            same = Float.floatToRawIntBits(first.getFloat()) == (bits ^ 1);
        }
        buffer.putInt(0, bits);
        return same;
    }

    private static ForkJoinPool pool() {
        ForkJoinPool p = pool;
        if (p == null) {
            synchronized (AdamWKernel.class) {
                p = pool;
                if (p == null) {
                    int threads = Math.max(1, JniUtils.getNumThreads());
                    p = new ForkJoinPool(
                            threads,
                            pool -> {
                                var w = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
                                w.setDaemon(true);
                                w.setName("sparkformers-adamw-" + w.getPoolIndex());
                                return w;
                            },
                            null,
                            false);
                    pool = p;
                }
            }
        }
        return p;
    }
}
