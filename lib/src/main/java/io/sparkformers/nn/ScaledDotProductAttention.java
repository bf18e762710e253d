package io.sparkformers.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.util.function.UnaryOperator;

/**
 * The attention kernel BERT's and ViT's self-attention share: softmax(Q K^T / sqrt(hs) + mask) V over heads, HF's
 * eager path. Q is scaled before the product (B·T·D multiplies instead of B·nh·T·T) and the mask is added in place
 * to the fresh score tensor (autograd keeps matMul's inputs, not its output, so that is safe in training too).
 */
public final class ScaledDotProductAttention {
    private ScaledDotProductAttention() {}

    /**
     * @param q       queries (B, T, D)
     * @param k       keys (B, T, D)
     * @param v       values (B, T, D)
     * @param mask    additive mask broadcastable to (B, nh, T, T) — 0 or the dtype's minimum — or null
     * @param dropout applied to the attention probabilities (identity outside training)
     * @return context (B, T, D)
     */
    public static NDArray attend(
            NDArray q, NDArray k, NDArray v, NDArray mask, int numHeads, UnaryOperator<NDArray> dropout) {
        long hs = q.getShape().get(2) / numHeads;
        return attendScaled(NativeArrays.mul(q, scale(hs)), k, v, mask, numHeads, dropout);
    }

    /** 1/sqrt(hs), the factor the queries are scaled by. */
    public static float scale(long headSize) {
        return (float) (1.0 / Math.sqrt(headSize));
    }

    /**
     * {@link #attend} with the queries already scaled by {@link #scale} (a fused projection folds the factor into
     * its weights). q, k and v may be strided views, such as the three thirds of one (B, T, 3D) projection.
     */
    public static NDArray attendScaled(
            NDArray q, NDArray k, NDArray v, NDArray mask, int numHeads, UnaryOperator<NDArray> dropout) {
        long b = q.getShape().get(0);
        long t = q.getShape().get(1);
        long perSequence = numHeads * t * t; // score elements of one sequence
        if (b > 1 && b * perSequence > CHUNK_ABOVE_SCORES && !NoGrad.isGradMode()) {
            long rows = Math.max(1, CHUNK_SCORES / perSequence); // sequences per chunk
            NDManager owner = q.getManager();
            NDList parts = new NDList();
            for (long s = 0; s < b; s += rows) {
                String r = s + ":" + Math.min(b, s + rows);
                NDList in = new NDList(q.get(r), k.get(r), v.get(r));
                if (mask != null && mask.getShape().get(0) > 1) in.add(mask.get(r));
                NDArray m = mask == null ? null : in.size() > 3 ? in.get(3) : mask;
                parts.add(LayerScope.scoped(
                        owner,
                        in,
                        new NDList(), // frees the chunk's scores at once
                        () -> attendAll(in.get(0), in.get(1), in.get(2), m, numHeads, dropout)));
            }
            NDArray context = NDArrays.concat(parts, 0);
            parts.close();
            return context;
        }
        return attendAll(q, k, v, mask, numHeads, dropout);
    }

    /**
     * Inference splits the batch when its (B, nh, T, T) scores would pass this many elements (64 MiB of floats): long
     * sequences in big batches otherwise materialise scores and probabilities at once — 400 MB each for 32 × 512 on
     * 12 heads — and stream them through memory. all-MiniLM-L6-v2, 2 threads: 32 × 512 3.6–3.7 s → 2.6 s per forward;
     * 32 × 128 (25 MB of scores) is faster whole (416 ms) than in chunks (428 ms), hence the threshold.
     */
    static final long CHUNK_ABOVE_SCORES = 16L << 20;

    /** Score elements per chunk (16 MiB of floats; 64 MiB chunks ran 3.6 s at 32 × 512, as unchunked). */
    static final long CHUNK_SCORES = 4L << 20;

    /**
     * The attention probabilities, HF's {@code attentions} (output_attentions): softmax(Q K^T + mask) per head.
     *
     * @param q queries (B, T, D), already scaled by {@link #scale}
     * @param k keys (B, T, D)
     * @param mask additive mask broadcastable to (B, nh, T, T), or null
     * @return (B, nh, T, T), each row summing to 1
     */
    public static NDArray probabilities(NDArray q, NDArray k, NDArray mask, int numHeads) {
        long b = q.getShape().get(0);
        long t = q.getShape().get(1);
        long hs = q.getShape().get(2) / numHeads;
        NDArray qh = q.reshape(b, t, numHeads, hs).transpose(0, 2, 1, 3); // (B, T, D) -> (B, nh, T, hs)
        NDArray kt = k.reshape(b, t, numHeads, hs).transpose(0, 2, 3, 1); // (B, T, D) -> (B, nh, hs, T)
        NDArray scores = qh.matMul(kt); // (B, nh, T, T)
        if (mask != null) scores.addi(mask);
        return scores.softmax(-1);
    }

    private static NDArray attendAll(
            NDArray q, NDArray k, NDArray v, NDArray mask, int numHeads, UnaryOperator<NDArray> dropout) {
        long b = q.getShape().get(0);
        long t = q.getShape().get(1);
        long d = q.getShape().get(2);
        long hs = d / numHeads;
        NDArray vh = v.reshape(b, t, numHeads, hs).transpose(0, 2, 1, 3); // (B, T, D) -> (B, nh, T, hs)
        NDArray probs = dropout.apply(probabilities(q, k, mask, numHeads));
        return probs.matMul(vh) // (B, nh, T, hs)
                .transpose(0, 2, 1, 3) // (B, nh, T, hs) -> (B, T, nh, hs)
                .reshape(b, t, d); // (B, T, nh, hs) -> (B, T, D)
    }
}
