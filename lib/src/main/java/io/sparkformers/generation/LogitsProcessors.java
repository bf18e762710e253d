package io.sparkformers.generation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Ports of HF's logits processors and warpers, and the list {@code GenerationMixin._get_logits_processor} builds from
 * a config, in its order: repetition penalty, no-repeat n-grams, bad words, min length, min new tokens, forced BOS,
 * forced EOS; then, when
 * sampling, temperature, top-k, top-p, min-p, typical-p. Scores are float32 as in HF; filtered tokens get -inf.
 */
public final class LogitsProcessors {

    private static final float NEG_INF = Float.NEGATIVE_INFINITY;

    private LogitsProcessors() {}

    /**
     * The processors of {@code config} for prompts of {@code promptLength} tokens (padding included), HF's order.
     * With beams, warpers keep at least (number of eos + 1) tokens, as HF.
     */
    public static List<LogitsProcessor> of(GenerationConfig c, int promptLength) {
        List<LogitsProcessor> list = new ArrayList<>();
        long[] eos = c.eosTokenIds();
        if (c.repetitionPenalty() != 1.0) list.add(repetitionPenalty((float) c.repetitionPenalty()));
        if (c.noRepeatNgramSize() > 0) list.add(noRepeatNgram(c.noRepeatNgramSize()));
        if (!c.badWordsIds().isEmpty()) list.add(noBadWords(c.badWordsIds(), eos));
        if (c.minLength() > 0 && eos.length > 0) list.add(minLength(c.minLength(), eos));
        if (c.minNewTokens() > 0 && eos.length > 0) list.add(minNewTokens(promptLength, c.minNewTokens(), eos));
        if (c.forcedBosTokenId() != null) list.add(forcedBos(c.forcedBosTokenId()));
        if (c.forcedEosTokenIds().length > 0) list.add(forcedEos(c.maxLengthFor(promptLength), c.forcedEosTokenIds()));
        if (c.doSample()) {
            int minKeep = c.numBeams() > 1 ? Math.max(2, eos.length + 1) : 1;
            if (c.temperature() != 1.0) list.add(temperature((float) c.temperature()));
            if (c.topK() != 0) list.add(topK(c.topK(), minKeep));
            if (c.topP() < 1.0) list.add(topP(c.topP(), minKeep));
            if (c.minP() != null) list.add(minP(c.minP(), minKeep));
            if (c.typicalP() < 1.0) list.add(typicalP(c.typicalP(), minKeep));
        }
        return List.copyOf(list);
    }

    /** Applies {@code processors} in order. */
    public static void apply(List<LogitsProcessor> processors, long[][] sequences, int length, float[][] scores) {
        for (LogitsProcessor p : processors) p.process(sequences, length, scores);
    }

    /** HF {@code TemperatureLogitsWarper}: scores / t. */
    public static LogitsProcessor temperature(float t) {
        return named("TemperatureLogitsWarper", (seqs, len, scores) -> {
            for (float[] row : scores) for (int i = 0; i < row.length; i++) row[i] /= t;
        });
    }

    /** HF {@code RepetitionPenaltyLogitsProcessor}: seen tokens' scores divided (≥ 0) or multiplied (< 0) by p. */
    public static LogitsProcessor repetitionPenalty(float p) {
        return named("RepetitionPenaltyLogitsProcessor", (seqs, len, scores) -> {
            for (int r = 0; r < scores.length; r++) {
                float[] row = scores[r];
                long[] seen = Arrays.stream(seqs[r], 0, len).distinct().toArray();
                for (long t : seen) {
                    float s = row[(int) t];
                    row[(int) t] = s < 0 ? s * p : s / p;
                }
            }
        });
    }

    /** HF {@code NoRepeatNGramLogitsProcessor}: a token completing an n-gram seen before in the row gets -inf. */
    public static LogitsProcessor noRepeatNgram(int n) {
        return named("NoRepeatNGramLogitsProcessor", (seqs, len, scores) -> {
            if (len + 1 < n) return;
            for (int r = 0; r < scores.length; r++) {
                long[] s = seqs[r];
                for (int i = 0; i + n <= len; i++) {
                    boolean match = true;
                    for (int j = 0; j < n - 1 && match; j++) match = s[i + j] == s[len - n + 1 + j];
                    if (match) scores[r][(int) s[i + n - 1]] = NEG_INF;
                }
            }
        });
    }

    /**
     * HF {@code NoBadWordsLogitsProcessor}: single tokens always banned; the last token of a longer sequence banned
     * when the row ends with the rest. A sequence that is just an eos token is dropped, as HF does.
     */
    public static LogitsProcessor noBadWords(List<long[]> badWords, long[] eos) {
        List<long[]> words = badWords.stream()
                .filter(w -> !(w.length == 1 && Arrays.stream(eos).anyMatch(e -> e == w[0])))
                .toList();
        return named("NoBadWordsLogitsProcessor", (seqs, len, scores) -> {
            for (int r = 0; r < scores.length; r++) {
                for (long[] w : words) {
                    int prefix = w.length - 1;
                    if (prefix > len) continue;
                    boolean match = true;
                    for (int j = 0; j < prefix && match; j++) match = seqs[r][len - prefix + j] == w[j];
                    if (match) scores[r][(int) w[prefix]] = NEG_INF;
                }
            }
        });
    }

    /** HF {@code MinLengthLogitsProcessor}: eos gets -inf while the sequence is shorter than {@code min}. */
    public static LogitsProcessor minLength(int min, long[] eos) {
        return named("MinLengthLogitsProcessor", (seqs, len, scores) -> {
            if (len < min) banEos(scores, eos);
        });
    }

    /** HF {@code MinNewTokensLengthLogitsProcessor}: eos gets -inf until {@code min} tokens follow the prompt. */
    public static LogitsProcessor minNewTokens(int promptLength, int min, long[] eos) {
        return named("MinNewTokensLengthLogitsProcessor", (seqs, len, scores) -> {
            if (len - promptLength < min) banEos(scores, eos);
        });
    }

    /** HF {@code ForcedBOSTokenLogitsProcessor}: after the first token (length 1) only {@code bos} may follow. */
    public static LogitsProcessor forcedBos(long bos) {
        return named("ForcedBOSTokenLogitsProcessor", (seqs, len, scores) -> {
            if (len == 1) forceOnly(scores, new long[] {bos});
        });
    }

    /** HF {@code ForcedEOSTokenLogitsProcessor}: one step before {@code maxLength} only the eos tokens may follow. */
    public static LogitsProcessor forcedEos(int maxLength, long[] eos) {
        long[] forced = eos.clone();
        return named("ForcedEOSTokenLogitsProcessor", (seqs, len, scores) -> {
            if (len == maxLength - 1) forceOnly(scores, forced);
        });
    }

    private static void forceOnly(float[][] scores, long[] tokens) {
        for (float[] row : scores) {
            Arrays.fill(row, NEG_INF);
            for (long t : tokens) row[(int) t] = 0f;
        }
    }

    /** HF {@code TopKLogitsWarper}: scores below the k-th largest get -inf (ties with it stay). */
    public static LogitsProcessor topK(int k, int minKeep) {
        return named("TopKLogitsWarper", (seqs, len, scores) -> {
            for (float[] row : scores) {
                int kk = Math.min(Math.max(k, minKeep), row.length);
                float[] sorted = row.clone();
                Arrays.sort(sorted);
                float threshold = sorted[row.length - kk];
                for (int i = 0; i < row.length; i++) if (row[i] < threshold) row[i] = NEG_INF;
            }
        });
    }

    /**
     * HF {@code TopPLogitsWarper}: over tokens sorted by ascending score, those whose cumulative probability is at
     * most 1 - p get -inf; the {@code minKeep} best always stay.
     */
    public static LogitsProcessor topP(double p, int minKeep) {
        float cut = (float) (1 - p);
        return named("TopPLogitsWarper", (seqs, len, scores) -> {
            for (float[] row : scores) {
                int[] order = ascending(row);
                float[] probs = softmax(row);
                float cum = 0;
                int n = row.length;
                boolean[] remove = new boolean[n];
                for (int i = 0; i < n; i++) {
                    cum += probs[order[i]];
                    remove[i] = cum <= cut && i < n - minKeep;
                }
                for (int i = 0; i < n; i++) if (remove[i]) row[order[i]] = NEG_INF;
            }
        });
    }

    /** HF {@code MinPLogitsWarper}: tokens less probable than p × the best token's probability get -inf. */
    public static LogitsProcessor minP(double p, int minKeep) {
        float minP = (float) p;
        return named("MinPLogitsWarper", (seqs, len, scores) -> {
            for (float[] row : scores) {
                float[] probs = softmax(row);
                float top = 0;
                for (float q : probs) top = Math.max(top, q);
                float threshold = minP * top;
                int[] order = ascending(row);
                for (int i = 0; i < row.length - minKeep; i++) {
                    int t = order[i];
                    if (probs[t] < threshold) row[t] = NEG_INF;
                }
            }
        });
    }

    /** HF {@code TypicalLogitsWarper}: keeps the tokens whose surprise is closest to the entropy, up to mass p. */
    public static LogitsProcessor typicalP(double mass, int minKeep) {
        float m = (float) mass;
        return named("TypicalLogitsWarper", (seqs, len, scores) -> {
            for (float[] row : scores) {
                int n = row.length;
                float[] logp = logSoftmax(row);
                double ent = 0;
                for (float l : logp) {
                    double term = l * Math.exp(l);
                    if (!Double.isNaN(term)) ent -= term;
                }
                float entropy = (float) ent;
                float[] shifted = new float[n];
                for (int i = 0; i < n; i++) shifted[i] = Math.abs(-logp[i] - entropy);
                int[] order = ascending(shifted);
                float[] sortedLogits = new float[n];
                for (int i = 0; i < n; i++) sortedLogits[i] = row[order[i]];
                float[] probs = softmax(sortedLogits);
                float cum = 0;
                int lastInd = 0;
                for (int i = 0; i < n; i++) {
                    cum += probs[i];
                    if (cum < m) lastInd++;
                }
                lastInd = Math.min(lastInd, n - 1);
                float bound = shifted[order[lastInd]];
                for (int i = minKeep; i < n; i++) if (shifted[order[i]] > bound) row[order[i]] = NEG_INF;
            }
        });
    }

    /** softmax in float32, the sum accumulated in double. */
    static float[] softmax(float[] x) {
        float max = NEG_INF;
        for (float v : x) max = Math.max(max, v);
        float[] out = new float[x.length];
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            out[i] = (float) Math.exp(x[i] - max);
            sum += out[i];
        }
        for (int i = 0; i < x.length; i++) out[i] = (float) (out[i] / sum);
        return out;
    }

    /** log_softmax in float32: x - max - log(sum(exp(x - max))). */
    static float[] logSoftmax(float[] x) {
        float max = NEG_INF;
        for (float v : x) max = Math.max(max, v);
        double sum = 0;
        for (float v : x) sum += Math.exp(v - max);
        float logSum = (float) Math.log(sum);
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i] - max - logSum;
        return out;
    }

    /**
     * Indices of {@code x} by ascending value, ties by index (the order of a stable sort, as torch.sort(stable=True)):
     * one primitive sort of (order-preserving value bits, index) keys, no boxing.
     */
    static int[] ascending(float[] x) {
        long[] keys = new long[x.length];
        for (int i = 0; i < x.length; i++) {
            int b = Float.floatToIntBits(x[i]);
            b ^= (b >> 31) & 0x7fffffff; // negative floats: flip magnitude bits so that int order = float order
            keys[i] = ((long) b << 32) | i;
        }
        Arrays.sort(keys);
        int[] order = new int[x.length];
        for (int i = 0; i < x.length; i++) order[i] = (int) keys[i];
        return order;
    }

    private static void banEos(float[][] scores, long[] eos) {
        for (float[] row : scores) for (long e : eos) row[(int) e] = NEG_INF;
    }

    private interface Body {
        void process(long[][] sequences, int length, float[][] scores);
    }

    private static LogitsProcessor named(String hfName, Body body) {
        return new LogitsProcessor() {
            @Override
            public void process(long[][] sequences, int length, float[][] scores) {
                body.process(sequences, length, scores);
            }

            @Override
            public String hfName() {
                return hfName;
            }

            @Override
            public String toString() {
                return hfName;
            }
        };
    }
}
