package io.sparkformers.nn.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Port of HF {@code LlamaRotaryEmbedding} with the inverse frequencies of {@code modeling_rope_utils} for the
 * default, linear, dynamic and llama3 rope types, and {@code apply_rotary_pos_emb} in HF's {@code rotate_half}
 * convention (the two halves of a head, not interleaved pairs). No parameters: HF's {@code inv_freq} is a
 * non-persistent buffer, absent from checkpoints.
 *
 * <p>Dynamic scaling: HF recomputes the frequencies when {@code max(position_ids) + 1} passes
 * max_position_embeddings and keeps the largest length seen in the module's state; here each call derives them from
 * its own positions, which agrees with HF whenever a sequence only grows (prefill, then decoding) — the case HF
 * itself is built for. Keys already in the cache keep the rotation they were given, as in HF.
 */
public final class LlamaRotaryEmbedding {

    private final LlamaConfig config;
    private final float[] defaultInvFreq;

    public LlamaRotaryEmbedding(LlamaConfig config) {
        this.config = config;
        this.defaultInvFreq = invFreq(config.maxPositionEmbeddings());
    }

    /** The inverse frequencies (headDim / 2) for a sequence of {@code seqLen} positions. */
    float[] invFreq(long seqLen) {
        int dim = config.headDim();
        LlamaConfig.RopeScaling s = config.ropeScaling();
        double base = config.ropeTheta();
        if (s != null && "dynamic".equals(s.ropeType())) {
            // HF computes this in float32 tensors: base * ((factor * L / max) - (factor - 1)) ** (dim / (dim - 2))
            float max = config.maxPositionEmbeddings();
            float len = Math.max(seqLen, config.maxPositionEmbeddings());
            float factor = (float) s.factor();
            float grown = factor * len / max - (factor - 1);
            base = (float) ((float) base * (float) Math.pow(grown, (double) dim / (dim - 2)));
        }
        float[] inv = new float[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            float exponent = (float) (2 * i) / dim;
            inv[i] = (float) (1.0 / (float) Math.pow(base, exponent));
        }
        if (s == null) return inv;
        switch (s.ropeType()) {
            case "linear" -> {
                for (int i = 0; i < inv.length; i++) inv[i] = (float) (inv[i] / s.factor());
            }
            case "llama3" -> llama3(inv, s);
            default -> {} // dynamic: done through the base
        }
        return inv;
    }

    /** HF {@code _compute_llama3_parameters}: wavelengths past the low band / factor, the middle band smoothed. */
    private static void llama3(float[] inv, LlamaConfig.RopeScaling s) {
        double factor = s.factor();
        double old = s.originalMaxPositionEmbeddings();
        double lowWavelen = old / s.lowFreqFactor();
        double highWavelen = old / s.highFreqFactor();
        for (int i = 0; i < inv.length; i++) {
            double wavelen = 2 * Math.PI / inv[i];
            double scaled = wavelen > lowWavelen ? inv[i] / factor : inv[i];
            if (!(wavelen < highWavelen) && !(wavelen > lowWavelen)) {
                double smooth = (old / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
                scaled = (1 - smooth) * scaled / factor + smooth * scaled;
            }
            inv[i] = (float) scaled;
        }
    }

    /**
     * cos and sin of every position's angles, both (B, 1, T, headDim), in the manager of {@code positionIds}.
     *
     * @param positionIds (B, T) int64
     */
    public NDList cosSin(NDArray positionIds) {
        float[] inv = defaultInvFreq;
        if (config.ropeScaling() != null
                && "dynamic".equals(config.ropeScaling().ropeType())) {
            long seqLen = positionIds.max().getLong() + 1;
            if (seqLen > config.maxPositionEmbeddings()) inv = invFreq(seqLen);
        }
        NDArray freq = positionIds.getManager().create(inv, new Shape(1, 1, inv.length));
        NDArray angles =
                positionIds.toType(DataType.FLOAT32, false).expandDims(2).mul(freq); // (B, T, hd/2)
        NDArray emb = NDArrays.concat(new NDList(angles, angles), -1).expandDims(1); // (B, 1, T, hd)
        return new NDList(emb.cos(), emb.sin());
    }

    /**
     * HF {@code apply_rotary_pos_emb} for one of q or k: {@code x * cos + rotate_half(x) * sin}.
     *
     * @param x (B, heads, T, hd)
     */
    public static NDArray apply(NDArray x, NDArray cos, NDArray sin) {
        long half = x.getShape().get(3) / 2;
        NDArray x1 = x.get(NDIndex.sliceAxis(3, 0, half)); // built, not parsed: this runs twice per layer and step
        NDArray x2 = x.get(NDIndex.sliceAxis(3, half, 2 * half));
        NDArray rotated = NDArrays.concat(new NDList(x2.neg(), x1), -1); // rotate_half
        return x.mul(cos).add(rotated.mul(sin));
    }
}
