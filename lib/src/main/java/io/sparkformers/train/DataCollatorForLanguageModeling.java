package io.sparkformers.train;

import io.sparkformers.train.DataCollatorWithPadding.Batch;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Masked-language-model batches, after HF {@code DataCollatorForLanguageModeling} (transformers 4.57, {@code mlm=True}):
 * rows are padded as {@link DataCollatorWithPadding} does, then each token that is neither special nor padding is
 * chosen with probability {@code mlm_probability}; of the chosen tokens {@code mask_replace_prob} become
 * {@code [MASK]}, {@code random_replace_prob} a token drawn uniformly from the whole vocabulary, the rest stay; the
 * labels are the original ids at chosen tokens and {@code -100} everywhere else.
 *
 * <p>With {@code whole_word_mask} (4.57's offset-based rule, which {@code DataCollatorForWholeWordMask} approximates
 * with {@code ##} pieces): only the first piece of each word is drawn, and a drawn word is chosen whole; the 80/10/10
 * replacement is then drawn per piece, as HF does. A word starts at a non-special token that does not touch the
 * previous token's characters, or that follows a special token ({@link Example#wordStarts}).
 *
 * <p>Randomness: HF draws from the process's torch generator, so its masks depend on how many processes share the
 * data. Here each row draws from its own generator seeded by the caller ({@link #collate}); the trainer seeds it from
 * (seed, optimizer step, example index), so a row's mask is the same whatever the replica count or micro-batch split,
 * and a resumed run draws the masks of an uninterrupted one.
 */
public final class DataCollatorForLanguageModeling {

    /**
     * One tokenized row.
     *
     * @param inputIds   token ids, specials included
     * @param wordStarts per token, whether it starts a word (whole-word masking); null when not needed
     */
    public record Example(long[] inputIds, boolean[] wordStarts) {
        public Example {
            Objects.requireNonNull(inputIds, "inputIds");
            if (inputIds.length == 0) throw new IllegalArgumentException("an example has no tokens");
            if (wordStarts != null && wordStarts.length != inputIds.length) {
                throw new IllegalArgumentException(
                        "wordStarts has " + wordStarts.length + " entries for " + inputIds.length + " tokens");
            }
        }
    }

    private final DataCollatorWithPadding padding;
    private final long maskTokenId;
    private final int vocabSize;
    private final long[] specialIds;
    private final double mlmProbability;
    private final double maskReplaceProb;
    private final double randomReplaceProbScaled;
    private final boolean wholeWordMask;

    /**
     * @param padTokenId        the pad id (never chosen)
     * @param maskTokenId       the {@code [MASK]} id
     * @param vocabSize         random replacements are drawn from [0, vocabSize) (HF: {@code len(tokenizer)})
     * @param specialIds        ids never chosen (HF {@code all_special_ids}: CLS, SEP, PAD, UNK, MASK)
     * @param mlmProbability    HF {@code mlm_probability} (default 0.15), in (0, 1]
     * @param maskReplaceProb   HF {@code mask_replace_prob} (default 0.8)
     * @param randomReplaceProb HF {@code random_replace_prob} (default 0.1); with maskReplaceProb at most 1
     * @param wholeWordMask     HF {@code whole_word_mask}: choose whole words (examples need word starts)
     */
    public DataCollatorForLanguageModeling(
            long padTokenId,
            long maskTokenId,
            int vocabSize,
            long[] specialIds,
            double mlmProbability,
            double maskReplaceProb,
            double randomReplaceProb,
            boolean wholeWordMask) {
        if (!(mlmProbability > 0 && mlmProbability <= 1)) {
            throw new IllegalArgumentException("mlm_probability must be in (0, 1] but was " + mlmProbability);
        }
        if (maskReplaceProb < 0 || randomReplaceProb < 0 || maskReplaceProb + randomReplaceProb > 1) {
            throw new IllegalArgumentException("mask_replace_prob (" + maskReplaceProb + ") and random_replace_prob ("
                    + randomReplaceProb + ") must be >= 0 and sum to at most 1");
        }
        if (vocabSize <= 0) throw new IllegalArgumentException("vocab size must be > 0 but was " + vocabSize);
        this.padding = new DataCollatorWithPadding(padTokenId);
        this.maskTokenId = maskTokenId;
        this.vocabSize = vocabSize;
        long[] specials = Arrays.copyOf(specialIds, specialIds.length + 1);
        specials[specialIds.length] = padTokenId;
        this.specialIds = Arrays.stream(specials).sorted().distinct().toArray();
        this.mlmProbability = mlmProbability;
        this.maskReplaceProb = maskReplaceProb;
        this.randomReplaceProbScaled = maskReplaceProb >= 1 ? 0 : randomReplaceProb / (1 - maskReplaceProb);
        this.wholeWordMask = wholeWordMask;
    }

    /** HF's defaults: 0.15, 80% [MASK], 10% random, 10% unchanged. */
    public static DataCollatorForLanguageModeling withDefaults(
            long padTokenId, long maskTokenId, int vocabSize, long[] specialIds, boolean wholeWordMask) {
        return new DataCollatorForLanguageModeling(
                padTokenId, maskTokenId, vocabSize, specialIds, 0.15, 0.8, 0.1, wholeWordMask);
    }

    public boolean wholeWordMask() {
        return wholeWordMask;
    }

    /** Whether {@code id} is never chosen (a special token or padding). */
    public boolean isSpecial(long id) {
        return Arrays.binarySearch(specialIds, id) >= 0;
    }

    /**
     * Pads and masks one batch: the inputs with the chosen tokens replaced, token labels (B, T) with the original ids
     * at chosen tokens and -100 elsewhere.
     *
     * @param seeds one seed per row, for that row's draws
     */
    public Batch collate(List<Example> examples, long[] seeds) {
        if (seeds.length != examples.size()) {
            throw new IllegalArgumentException(examples.size() + " examples but " + seeds.length + " seeds");
        }
        List<DataCollatorWithPadding.Example> plain = new ArrayList<>(examples.size());
        for (Example e : examples) plain.add(new DataCollatorWithPadding.Example(e.inputIds(), null));
        Batch padded = padding.collate(plain);
        int b = padded.batchSize();
        int t = padded.seqLength();
        long[] ids = padded.inputIds();
        long[] labels = new long[b * t];
        Arrays.fill(labels, DataCollatorWithPadding.IGNORE_INDEX);
        boolean[] chosen = new boolean[t];
        for (int i = 0; i < b; i++) {
            Example e = examples.get(i);
            if (wholeWordMask && e.wordStarts() == null) {
                throw new IllegalArgumentException("whole_word_mask needs each example's word starts");
            }
            SplittableRandom rng = new SplittableRandom(seeds[i]);
            choose(e, rng, chosen);
            int off = i * t;
            for (int j = 0; j < e.inputIds().length; j++) {
                if (!chosen[j]) continue;
                labels[off + j] = ids[off + j];
                if (rng.nextDouble() < maskReplaceProb) {
                    ids[off + j] = maskTokenId;
                } else if (rng.nextDouble() < randomReplaceProbScaled) {
                    ids[off + j] = rng.nextInt(vocabSize);
                }
            }
        }
        return new Batch(
                b,
                t,
                ids,
                padded.attentionMask(),
                padded.tokenTypeIds(),
                padded.lengths(),
                LabelKind.TOKEN,
                labels,
                new float[0],
                new long[] {b, t});
    }

    /** Which tokens of one row are chosen (in {@code chosen}'s first L entries). */
    private void choose(Example e, SplittableRandom rng, boolean[] chosen) {
        long[] ids = e.inputIds();
        Arrays.fill(chosen, false);
        if (!wholeWordMask) {
            for (int j = 0; j < ids.length; j++) chosen[j] = !isSpecial(ids[j]) && rng.nextDouble() < mlmProbability;
            return;
        }
        boolean word = false; // whether the current word was drawn
        for (int j = 0; j < ids.length; j++) {
            if (isSpecial(ids[j])) {
                word = false;
                continue;
            }
            if (e.wordStarts()[j]) word = rng.nextDouble() < mlmProbability;
            chosen[j] = word;
        }
    }

    /**
     * Word starts of a tokenized text from its character offsets (HF 4.57 {@code _calc_word_ids_and_prob_mask}): a
     * non-special token starts a word when its start differs from the previous token's end, or the previous token is
     * special.
     */
    public boolean[] wordStarts(long[] ids, long[] charStarts, long[] charEnds) {
        boolean[] out = new boolean[ids.length];
        for (int j = 0; j < ids.length; j++) {
            if (isSpecial(ids[j])) continue;
            boolean prevSpecial = j > 0 && isSpecial(ids[j - 1]);
            long prevEnd = j == 0 ? -1 : charEnds[j - 1];
            out[j] = prevSpecial || charStarts[j] != prevEnd;
        }
        return out;
    }
}
