package io.sparkformers.generation;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * HF's {@code generate()} search loops over a {@link TokenScorer}: greedy and multinomial sampling ({@code _sample})
 * and beam search ({@code _beam_search}, the vectorised version of transformers 4.5x: top (eos + 1) × beams
 * candidates per step, finished hypotheses kept with scores divided by length^length_penalty, the early-stop
 * heuristic per early_stopping true / false / "never"). Prompts are expanded per num_return_sequences (sampling) or
 * num_beams (beams) as HF's {@code _expand_inputs_for_generation} does. Sampling draws from a
 * {@link SplittableRandom} seeded with {@code seed}: reproducible in Java, not the same draws as torch.
 */
public final class Generator {

    private Generator() {}

    /**
     * Generates for a batch of left-padded prompts.
     *
     * @param scorerFactory builds the scorer for the (expanded) prompts and mask
     * @param inputIds      (B, T) prompts, left-padded
     * @param attentionMask (B, T)
     * @param decoder       ids → text (special tokens kept), for stop strings; may be null without them
     */
    public static GenerationOutput generate(
            ScorerFactory scorerFactory,
            long[][] inputIds,
            long[][] attentionMask,
            GenerationConfig config,
            Function<long[], String> decoder) {
        return generate(scorerFactory, inputIds, attentionMask, config, decoder, null);
    }

    /**
     * As {@link #generate(ScorerFactory, long[][], long[][], GenerationConfig, Function)} with one sampling seed per
     * prompt: each prompt draws from its own RNG (its return sequences in turn), so its samples do not depend on the
     * other prompts of the batch. Null: one RNG seeded with the config's seed for the whole batch.
     */
    public static GenerationOutput generate(
            ScorerFactory scorerFactory,
            long[][] inputIds,
            long[][] attentionMask,
            GenerationConfig config,
            Function<long[], String> decoder,
            long[] promptSeeds) {
        if (promptSeeds != null && promptSeeds.length != inputIds.length) {
            throw new IllegalArgumentException(promptSeeds.length + " seeds for " + inputIds.length + " prompts");
        }
        int expand = config.numBeams() > 1 ? config.numBeams() : config.numReturnSequences();
        long[][] ids = repeatRows(inputIds, expand);
        long[][] mask = repeatRows(attentionMask, expand);
        int promptLength = inputIds[0].length;
        int maxLength = config.maxLengthFor(promptLength);
        if (maxLength <= promptLength) {
            throw new IllegalArgumentException("max_length " + maxLength + " leaves no room after the prompt of "
                    + promptLength + " tokens: set max_new_tokens");
        }
        StoppingCriteria stopping = new StoppingCriteria(config, maxLength, decoder);
        List<LogitsProcessor> processors = LogitsProcessors.of(config, promptLength);
        try (TokenScorer scorer = scorerFactory.create(ids, mask)) {
            return config.numBeams() > 1
                    ? beamSearch(
                            scorer,
                            ids,
                            inputIds.length,
                            config,
                            stopping,
                            processors,
                            promptLength,
                            rngs(expand, promptSeeds))
                    : sample(scorer, ids, config, stopping, processors, promptLength, rngs(expand, promptSeeds));
        }
    }

    /** Builds a scorer for expanded prompts. */
    @FunctionalInterface
    public interface ScorerFactory {
        TokenScorer create(long[][] inputIds, long[][] attentionMask);
    }

    /** The sampling RNG of each expanded row: one shared, or one per prompt shared by its {@code expand} rows. */
    private static SplittableRandom[] rngs(int expand, long[] promptSeeds) {
        if (promptSeeds == null) return null;
        SplittableRandom[] out = new SplittableRandom[promptSeeds.length * expand];
        for (int p = 0; p < promptSeeds.length; p++) {
            SplittableRandom rng = new SplittableRandom(promptSeeds[p]);
            for (int j = 0; j < expand; j++) out[p * expand + j] = rng;
        }
        return out;
    }

    /**
     * HF {@code _sample}: greedy (argmax) or multinomial sampling; finished rows continue with pad_token_id. Row
     * {@code i} draws from {@code rngs[i]} (null: one RNG seeded with the config's seed, drawn in row order).
     */
    static GenerationOutput sample(
            TokenScorer scorer,
            long[][] prompts,
            GenerationConfig config,
            StoppingCriteria stopping,
            List<LogitsProcessor> processors,
            int promptLength,
            SplittableRandom[] rngs) {
        int n = prompts.length;
        int maxLength = stopping.maxLength();
        long[][] seqs = new long[n][];
        for (int i = 0; i < n; i++) seqs[i] = Arrays.copyOf(prompts[i], maxLength);
        boolean[] unfinished = new boolean[n];
        Arrays.fill(unfinished, true);
        long pad = config.effectivePadTokenId();
        boolean padsFinished =
                config.eosTokenIds().length > 0 || !config.stopStrings().isEmpty();
        if (rngs == null) {
            rngs = new SplittableRandom[n];
            Arrays.fill(rngs, new SplittableRandom(config.seed()));
        }
        int length = promptLength;
        float[][] logits = scorer.next(null);
        long[] next = new long[n];
        while (true) {
            LogitsProcessors.apply(processors, seqs, length, logits);
            int open = 0;
            for (int i = 0; i < n; i++) {
                long token = config.doSample() ? draw(rngs[i], logits[i]) : argmax(logits[i]);
                next[i] = unfinished[i] || !padsFinished ? token : pad;
                seqs[i][length] = next[i];
            }
            length++;
            for (int i = 0; i < n; i++) {
                if (unfinished[i] && stopping.isDone(seqs[i], length)) unfinished[i] = false;
                if (unfinished[i]) open++;
            }
            if (open == 0) break;
            logits = scorer.next(next);
        }
        for (int i = 0; i < n; i++) seqs[i] = Arrays.copyOf(seqs[i], length);
        return new GenerationOutput(seqs, null, promptLength);
    }

    /**
     * HF {@code _beam_search}, ported step for step; with do_sample (HF's beam sampling) the (eos + 1) × beams
     * candidates of a prompt are drawn without replacement from softmax of the accumulated log-probabilities of all
     * its beams, in draw order, as HF's {@code torch.multinomial} gives them (Gumbel top-k: the same distribution).
     * Prompt {@code b} draws from {@code rngs[b × num_beams]} (null: one RNG seeded with the config's seed).
     */
    static GenerationOutput beamSearch(
            TokenScorer scorer,
            long[][] prompts,
            int batch,
            GenerationConfig config,
            StoppingCriteria stopping,
            List<LogitsProcessor> processors,
            int promptLength,
            SplittableRandom[] rngs) {
        int k = config.numBeams();
        if (config.doSample() && rngs == null) {
            rngs = new SplittableRandom[batch * k];
            Arrays.fill(rngs, new SplittableRandom(config.seed()));
        }
        int maxLength = stopping.maxLength();
        int keep = Math.max(2, 1 + config.eosTokenIds().length) * k;
        float lengthPenalty = (float) config.lengthPenalty();
        String early = config.earlyStopping();
        long fill = config.padTokenId() != null && config.padTokenId() != 0
                ? config.padTokenId()
                : config.eosTokenIds().length > 0 ? config.eosTokenIds()[0] : -1;

        long[][] running = new long[batch * k][];
        for (int i = 0; i < running.length; i++) {
            running[i] = new long[maxLength];
            Arrays.fill(running[i], fill);
            System.arraycopy(prompts[i], 0, running[i], 0, promptLength);
        }
        float[] runningScores = new float[batch * k];
        long[][] finished = new long[batch * k][];
        float[] finishedScores = new float[batch * k];
        int[] finishedLength = new int[batch * k];
        boolean[] isFinished = new boolean[batch * k];
        for (int i = 0; i < running.length; i++) {
            if (i % k != 0) runningScores[i] = -1e9f;
            finished[i] = running[i].clone();
            finishedScores[i] = -1e9f;
        }
        boolean[] improvable = new boolean[batch];
        Arrays.fill(improvable, true);

        int length = promptLength;
        float[][] logits = scorer.next(null);
        while (true) {
            int v = logits[0].length;
            for (int i = 0; i < logits.length; i++) logits[i] = LogitsProcessors.logSoftmax(logits[i]);
            LogitsProcessors.apply(processors, running, length, logits);
            long[][] nextRunning = new long[batch * k][];
            float[] nextScores = new float[batch * k];
            int[] sourceRows = new int[batch * k];
            boolean anyOpen = false;
            for (int b = 0; b < batch; b++) {
                // top `keep` of (beam, token) by accumulated log-probability
                float[] acc = new float[k * v];
                for (int j = 0; j < k; j++) {
                    float base = runningScores[b * k + j];
                    float[] row = logits[b * k + j];
                    for (int t = 0; t < v; t++) acc[j * v + t] = row[t] + base;
                }
                int[] top = config.doSample() ? drawWithoutReplacement(rngs[b * k], acc, keep) : topIndices(acc, keep);
                long[][] candidates = new long[keep][];
                float[] candScores = new float[keep];
                boolean[] hits = new boolean[keep];
                int[] candBeam = new int[keep];
                for (int c = 0; c < keep; c++) {
                    int beam = top[c] / v;
                    long token = top[c] % v;
                    candBeam[c] = b * k + beam;
                    candidates[c] = running[b * k + beam].clone();
                    candidates[c][length] = token;
                    candScores[c] = acc[top[c]];
                    hits[c] = stopping.isDone(candidates[c], length + 1);
                    if (!hits[c]) anyOpen = true;
                }
                // running beams: the best candidates that did not stop
                float[] runScores = new float[keep];
                for (int c = 0; c < keep; c++) runScores[c] = candScores[c] + (hits[c] ? -1e9f : 0f);
                int[] chosen = topIndices(runScores, k);
                for (int j = 0; j < k; j++) {
                    nextRunning[b * k + j] = candidates[chosen[j]];
                    nextScores[b * k + j] = runScores[chosen[j]];
                    sourceRows[b * k + j] = candBeam[chosen[j]];
                }
                // finished hypotheses: merge the old ones with the candidates among the top k that just stopped
                float norm = (float) Math.pow(length + 1 - promptLength, lengthPenalty);
                boolean full = allFinished(isFinished, b * k, k) && early.equals("true");
                float[] merged = new float[k + keep];
                for (int j = 0; j < k; j++) merged[j] = finishedScores[b * k + j];
                for (int c = 0; c < keep; c++) {
                    float s = candScores[c] / norm;
                    if (full) s += -1e9f;
                    if (!improvable[b]) s += -1e9f;
                    if (!(hits[c] && c < k)) s += -1e9f;
                    merged[k + c] = s;
                }
                int[] best = topIndices(merged, k);
                long[][] newFinished = new long[k][];
                float[] newScores = new float[k];
                int[] newLength = new int[k];
                boolean[] newIsFinished = new boolean[k];
                for (int j = 0; j < k; j++) {
                    int m = best[j];
                    if (m < k) {
                        newFinished[j] = finished[b * k + m];
                        newLength[j] = finishedLength[b * k + m];
                        newIsFinished[j] = isFinished[b * k + m];
                    } else {
                        int c = m - k;
                        newFinished[j] = candidates[c];
                        newLength[j] = length + 1 - promptLength;
                        newIsFinished[j] = hits[c] && c < k;
                    }
                    newScores[j] = merged[m];
                }
                for (int j = 0; j < k; j++) {
                    finished[b * k + j] = newFinished[j];
                    finishedScores[b * k + j] = newScores[j];
                    finishedLength[b * k + j] = newLength[j];
                    isFinished[b * k + j] = newIsFinished[j];
                }
            }
            running = nextRunning;
            runningScores = nextScores;
            scorer.reorder(sourceRows);
            length++;
            // early-stop heuristic: can a running beam still beat the worst finished one?
            boolean anyImprovable = false;
            for (int b = 0; b < batch; b++) {
                int hypothetical =
                        early.equals("never") && lengthPenalty > 0 ? maxLength - promptLength : length - promptLength;
                float bestRunning = runningScores[b * k] / (float) Math.pow(hypothetical, lengthPenalty);
                float worst = Float.POSITIVE_INFINITY;
                for (int j = 0; j < k; j++) worst = Math.min(worst, finishedScores[b * k + j]);
                boolean any = false;
                for (int j = 0; j < k; j++) {
                    float w = isFinished[b * k + j] ? worst : -1e9f;
                    if (bestRunning > w) any = true;
                }
                improvable[b] = improvable[b] && any;
                anyImprovable |= improvable[b];
            }
            boolean openBeam = !(allFinished(isFinished, 0, isFinished.length) && early.equals("true"));
            if (!(anyImprovable && openBeam && anyOpen)) break;
            long[] tokens = new long[running.length];
            for (int i = 0; i < running.length; i++) tokens[i] = running[i][length - 1];
            logits = scorer.next(tokens);
        }
        int r = config.numReturnSequences();
        int generated = 0;
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < r; j++) generated = Math.max(generated, finishedLength[b * k + j]);
        long[][] out = new long[batch * r][];
        float[] scores = new float[batch * r];
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < r; j++) {
                out[b * r + j] = Arrays.copyOf(finished[b * k + j], promptLength + generated);
                scores[b * r + j] = finishedScores[b * k + j];
            }
        }
        return new GenerationOutput(out, scores, promptLength);
    }

    /** Indices of the {@code n} largest values, largest first, ties by lower index (torch.topk on CPU). */
    static int[] topIndices(float[] x, int n) {
        int[] idx = new int[n];
        float[] val = new float[n];
        int size = 0;
        for (int i = 0; i < x.length; i++) {
            float f = x[i];
            if (size == n && !(f > val[n - 1])) continue;
            int pos = size < n ? size++ : n - 1;
            while (pos > 0 && f > val[pos - 1]) {
                val[pos] = val[pos - 1];
                idx[pos] = idx[pos - 1];
                pos--;
            }
            val[pos] = f;
            idx[pos] = i;
        }
        return idx;
    }

    /**
     * torch.multinomial(softmax(logProbs), n) without replacement, in draw order: the Gumbel top-k trick (the
     * {@code n} largest logProb_i + Gumbel noise, largest first) draws the same way as successive sampling without
     * replacement. -inf entries are never drawn.
     */
    static int[] drawWithoutReplacement(SplittableRandom rng, float[] logProbs, int n) {
        float[] keys = new float[logProbs.length];
        for (int i = 0; i < logProbs.length; i++) {
            double u = rng.nextDouble();
            keys[i] = logProbs[i] == Float.NEGATIVE_INFINITY
                    ? Float.NEGATIVE_INFINITY
                    : (float) (logProbs[i] - Math.log(-Math.log(u == 0 ? Double.MIN_VALUE : u)));
        }
        return topIndices(keys, n);
    }

    private static boolean allFinished(boolean[] finished, int from, int count) {
        for (int i = from; i < from + count; i++) if (!finished[i]) return false;
        return true;
    }

    static long argmax(float[] row) {
        int best = 0;
        for (int i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    /** torch.multinomial over softmax(scores): one inverse-CDF draw. */
    static long draw(SplittableRandom rng, float[] scores) {
        float[] p = LogitsProcessors.softmax(scores);
        double u = rng.nextDouble();
        double cum = 0;
        int last = 0;
        for (int i = 0; i < p.length; i++) {
            if (p[i] == 0) continue;
            cum += p[i];
            last = i;
            if (u < cum) return i;
        }
        return last;
    }

    private static long[][] repeatRows(long[][] rows, int times) {
        long[][] out = new long[rows.length * times][];
        for (int i = 0; i < out.length; i++) out[i] = rows[i / times].clone();
        return out;
    }
}
