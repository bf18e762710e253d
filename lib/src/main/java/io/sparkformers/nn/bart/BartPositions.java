package io.sparkformers.nn.bart;

/**
 * How a BART-layout stack ({@link BartStack}) adds positions to its scaled token embeddings. BART and Marian share
 * every layer (HF's Marian modules are "Copied from Bart"); they differ only here.
 */
public enum BartPositions {
    /** BART: a learned table {@code embed_positions(P + 2)} (HF's offset), then {@code layernorm_embedding}. */
    LEARNED,
    /**
     * Marian: sinusoidal positions from 0 (HF {@code MarianSinusoidalPositionalEmbedding}: a function, not weights)
     * and no layernorm_embedding.
     */
    SINUSOIDAL;

    /** HF's sinusoidal table (n, dim) row-major: row p holds sin(p / 10000^(2i/dim)) for i < dim/2, then the cosines. */
    static float[] sinusoids(int n, int dim) {
        float[] out = new float[n * dim];
        int sentinel = dim % 2 == 0 ? dim / 2 : dim / 2 + 1;
        for (int p = 0; p < n; p++) {
            for (int j = 0; j < dim; j++) {
                double angle = p / Math.pow(10000, 2 * (j / 2) / (double) dim);
                if (j % 2 == 0) out[p * dim + j / 2] = (float) Math.sin(angle);
                else out[p * dim + sentinel + j / 2] = (float) Math.cos(angle);
            }
        }
        return out;
    }
}
