package io.sparkformers.nn;

import ai.djl.ndarray.NDArray;

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
    public static NDArray attend(NDArray q, NDArray k, NDArray v, NDArray mask, int numHeads,
                                 UnaryOperator<NDArray> dropout) {
        long hs = q.getShape().get(2) / numHeads;
        return attendScaled(q.mul(scale(hs)), k, v, mask, numHeads, dropout);
    }

    /** 1/sqrt(hs), the factor the queries are scaled by. */
    public static float scale(long headSize) {
        return (float) (1.0 / Math.sqrt(headSize));
    }

    /**
     * {@link #attend} with the queries already scaled by {@link #scale} (a fused projection folds the factor into
     * its weights). q, k and v may be strided views, such as the three thirds of one (B, T, 3D) projection.
     */
    public static NDArray attendScaled(NDArray q, NDArray k, NDArray v, NDArray mask, int numHeads,
                                       UnaryOperator<NDArray> dropout) {
        long b = q.getShape().get(0);
        long t = q.getShape().get(1);
        long d = q.getShape().get(2);
        long hs = d / numHeads;
        NDArray qh = q.reshape(b, t, numHeads, hs).transpose(0, 2, 1, 3);  // (B, T, D) -> (B, nh, T, hs)
        NDArray kt = k.reshape(b, t, numHeads, hs).transpose(0, 2, 3, 1);   // (B, T, D) -> (B, nh, hs, T)
        NDArray vh = v.reshape(b, t, numHeads, hs).transpose(0, 2, 1, 3);   // (B, T, D) -> (B, nh, T, hs)
        NDArray scores = qh.matMul(kt);                                     // (B, nh, T, T)
        if (mask != null) scores.addi(mask);
        NDArray probs = dropout.apply(scores.softmax(-1));
        return probs.matMul(vh)                                             // (B, nh, T, hs)
                .transpose(0, 2, 1, 3)                                      // (B, nh, T, hs) -> (B, T, nh, hs)
                .reshape(b, t, d);                                          // (B, T, nh, hs) -> (B, T, D)
    }
}
