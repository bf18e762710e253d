package io.sparkformers.train;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Dynamic padding of one batch, after HF {@code DataCollatorWithPadding} (right padding to the longest row, optional
 * {@code pad_to_multiple_of}) merged with {@code DataCollatorForTokenClassification} (token labels padded with
 * {@code -100}, HF's {@code label_pad_token_id}, which the loss ignores). Output arrays are flat and row-major, like
 * {@code hub.TokenBatch}, so the trainer makes (B, T) tensors without per-row copies.
 */
public final class DataCollatorWithPadding {

    /** The label HF's cross-entropy ignores: padding, special tokens, non-first word pieces. */
    public static final int IGNORE_INDEX = -100;

    /** What the labels of a batch are; decides the label array's type and shape. */
    public enum LabelKind {
        NONE,
        SINGLE_LABEL,
        MULTI_LABEL,
        REGRESSION,
        TOKEN
    }

    /** The label of one example. */
    public sealed interface Label permits SingleLabel, MultiLabel, Regression, TokenLabels {}

    /** A class id (single-label classification; HF {@code problem_type} single_label_classification). */
    public record SingleLabel(int classId) implements Label {}

    /** One 0/1 (or soft) target per class (HF multi_label_classification). */
    public record MultiLabel(float[] targets) implements Label {
        public MultiLabel {
            targets = targets.clone();
        }
    }

    /** A real-valued target (HF regression, num_labels 1). */
    public record Regression(float value) implements Label {}

    /** One class id per token, {@link #IGNORE_INDEX} where the loss should not look. */
    public record TokenLabels(int[] ids) implements Label {
        public TokenLabels {
            ids = ids.clone();
        }
    }

    /**
     * One tokenized example.
     *
     * @param inputIds      token ids, length L > 0
     * @param attentionMask length L, or null for all ones
     * @param tokenTypeIds  length L, or null for all zeros
     * @param label         null for unlabelled (prediction) batches
     */
    public record Example(long[] inputIds, long[] attentionMask, long[] tokenTypeIds, Label label) {
        public Example {
            Objects.requireNonNull(inputIds, "inputIds");
            if (inputIds.length == 0) throw new IllegalArgumentException("an example has no tokens");
            if (attentionMask != null && attentionMask.length != inputIds.length) {
                throw new IllegalArgumentException(
                        "attentionMask has " + attentionMask.length + " entries for " + inputIds.length + " tokens");
            }
            if (tokenTypeIds != null && tokenTypeIds.length != inputIds.length) {
                throw new IllegalArgumentException(
                        "tokenTypeIds has " + tokenTypeIds.length + " entries for " + inputIds.length + " tokens");
            }
            if (label instanceof TokenLabels t && t.ids().length != inputIds.length) {
                throw new IllegalArgumentException("token labels have " + t.ids().length + " entries for "
                        + inputIds.length + " tokens: align them with TokenLabelAligner first");
            }
        }

        public Example(long[] inputIds, Label label) {
            this(inputIds, null, null, label);
        }
    }

    /**
     * A padded batch. Labels live in {@code labelIds} (SINGLE_LABEL: B; TOKEN: B × T) or {@code labelValues}
     * (MULTI_LABEL: B × numLabels; REGRESSION: B); the other array is empty.
     *
     * @param batchSize     B
     * @param seqLength     T: the longest row, rounded up to pad_to_multiple_of
     * @param inputIds      B × T, padding = the pad token id
     * @param attentionMask B × T, 1 for real tokens
     * @param tokenTypeIds  B × T, padding 0 (HF's pad_token_type_id)
     * @param lengths       real tokens per row
     * @param labelKind     the kind of every label in the batch
     * @param labelIds      integer labels, padded with -100
     * @param labelValues   float labels
     * @param labelShape    the labels' tensor shape: [B], [B, T] or [B, numLabels]; empty for NONE
     */
    public record Batch(
            int batchSize,
            int seqLength,
            long[] inputIds,
            long[] attentionMask,
            long[] tokenTypeIds,
            int[] lengths,
            LabelKind labelKind,
            long[] labelIds,
            float[] labelValues,
            long[] labelShape) {

        /** Real (non-padding) tokens in the batch. */
        public long realTokens() {
            long n = 0;
            for (int l : lengths) n += l;
            return n;
        }
    }

    private final long padTokenId;
    private final int padToMultipleOf;

    /**
     * @param padTokenId      the tokenizer's pad id (BERT: 0)
     * @param padToMultipleOf round T up to a multiple of this (HF {@code pad_to_multiple_of}, e.g. 8 for tensor
     *                        cores); 0 or 1 for none
     */
    public DataCollatorWithPadding(long padTokenId, int padToMultipleOf) {
        if (padToMultipleOf < 0) {
            throw new IllegalArgumentException("pad_to_multiple_of must be >= 0 but was " + padToMultipleOf);
        }
        this.padTokenId = padTokenId;
        this.padToMultipleOf = Math.max(1, padToMultipleOf);
    }

    public DataCollatorWithPadding(long padTokenId) {
        this(padTokenId, 0);
    }

    public Batch collate(List<Example> examples) {
        if (examples.isEmpty()) throw new IllegalArgumentException("cannot collate an empty batch");
        int b = examples.size();
        LabelKind kind = kindOf(examples.get(0).label());
        int longest = 0;
        for (int i = 0; i < b; i++) {
            Example e = examples.get(i);
            longest = Math.max(longest, e.inputIds().length);
            if (kindOf(e.label()) != kind) {
                throw new IllegalArgumentException("example " + i + " has a " + kindOf(e.label())
                        + " label but example 0 has " + kind + ": every example of a batch needs the same kind");
            }
        }
        int t = (longest + padToMultipleOf - 1) / padToMultipleOf * padToMultipleOf;
        long[] ids = new long[b * t];
        long[] mask = new long[b * t];
        long[] types = new long[b * t];
        int[] lengths = new int[b];
        Arrays.fill(ids, padTokenId);
        for (int i = 0; i < b; i++) {
            Example e = examples.get(i);
            int len = e.inputIds().length;
            lengths[i] = len;
            System.arraycopy(e.inputIds(), 0, ids, i * t, len);
            if (e.attentionMask() != null) {
                System.arraycopy(e.attentionMask(), 0, mask, i * t, len);
            } else {
                Arrays.fill(mask, i * t, i * t + len, 1L);
            }
            if (e.tokenTypeIds() != null) System.arraycopy(e.tokenTypeIds(), 0, types, i * t, len);
        }
        long[] labelIds = new long[0];
        float[] labelValues = new float[0];
        long[] shape = new long[0];
        switch (kind) {
            case NONE -> {}
            case SINGLE_LABEL -> {
                labelIds = new long[b];
                for (int i = 0; i < b; i++)
                    labelIds[i] = ((SingleLabel) examples.get(i).label()).classId();
                shape = new long[] {b};
            }
            case REGRESSION -> {
                labelValues = new float[b];
                for (int i = 0; i < b; i++)
                    labelValues[i] = ((Regression) examples.get(i).label()).value();
                shape = new long[] {b};
            }
            case MULTI_LABEL -> {
                int n = ((MultiLabel) examples.get(0).label()).targets().length;
                labelValues = new float[b * n];
                for (int i = 0; i < b; i++) {
                    float[] row = ((MultiLabel) examples.get(i).label()).targets();
                    if (row.length != n) {
                        throw new IllegalArgumentException(
                                "example " + i + " has " + row.length + " multi-label targets but example 0 has " + n);
                    }
                    System.arraycopy(row, 0, labelValues, i * n, n);
                }
                shape = new long[] {b, n};
            }
            case TOKEN -> {
                labelIds = new long[b * t];
                Arrays.fill(labelIds, IGNORE_INDEX);
                for (int i = 0; i < b; i++) {
                    int[] row = ((TokenLabels) examples.get(i).label()).ids();
                    for (int j = 0; j < row.length; j++) labelIds[i * t + j] = row[j];
                }
                shape = new long[] {b, t};
            }
            default -> throw new AssertionError(kind);
        }
        return new Batch(b, t, ids, mask, types, lengths, kind, labelIds, labelValues, shape);
    }

    private static LabelKind kindOf(Label l) {
        if (l == null) return LabelKind.NONE;
        if (l instanceof SingleLabel) return LabelKind.SINGLE_LABEL;
        if (l instanceof MultiLabel) return LabelKind.MULTI_LABEL;
        if (l instanceof Regression) return LabelKind.REGRESSION;
        return LabelKind.TOKEN;
    }
}
