package io.sparkformers.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Extractive question answering training features, after HF's {@code run_qa.py} {@code prepare_train_features}: the
 * pair {@code [CLS] question [SEP] context [SEP]} is tokenized with truncation {@code only_second} and overflow, so a
 * long context yields several windows that overlap by {@code doc_stride} tokens (HF tokenizers'
 * {@code Encoding.truncate} with a stride); each window's label is the answer's first and last token if the answer
 * lies wholly inside its context part, else the CLS index (0) for both, HF's "no answer here".
 *
 * <p>Works on plain arrays (token ids, character offsets, sequence ids) so it needs no tokenizer. The context sits
 * second (HF {@code pad_on_right}, as for BERT). Sequence ids are -1 for special tokens (HF None), 0 for the question,
 * 1 for the context; offsets of non-context tokens are -1 (HF {@code prepare_validation_features} sets them to None).
 */
public final class QaFeatures {

    /**
     * One window.
     *
     * @param inputIds       {@code [CLS] question [SEP] context-window [SEP]}
     * @param tokenTypeIds   0 up to the first SEP, 1 after
     * @param offsetStarts   character start in the context per token, -1 outside the context
     * @param offsetEnds     character end (exclusive) in the context per token, -1 outside the context
     * @param sequenceIds    -1 special, 0 question, 1 context
     * @param contextStart   index of the window's first context token in the whole context's tokens
     * @param startPosition  answer start token, or the CLS index when the answer is not wholly inside
     * @param endPosition    answer end token (inclusive), or the CLS index
     */
    public record Feature(
            long[] inputIds,
            long[] tokenTypeIds,
            int[] offsetStarts,
            int[] offsetEnds,
            int[] sequenceIds,
            int contextStart,
            int startPosition,
            int endPosition) {}

    private QaFeatures() {}

    /**
     * The context token ranges {@code [start, stop)} of each window, as HF tokenizers cut them: windows of
     * {@code perWindow} tokens starting every {@code perWindow - docStride} tokens, the last one reaching the end.
     */
    public static List<int[]> windows(int contextTokens, int perWindow, int docStride) {
        if (contextTokens <= 0) throw new IllegalArgumentException("the context has no tokens");
        if (perWindow <= 0) throw new IllegalArgumentException("no room for context tokens in a window");
        if (docStride < 0 || docStride >= perWindow) {
            throw new IllegalArgumentException("doc_stride (" + docStride + ") must be in [0, " + perWindow
                    + "), the context tokens per window: lower doc_stride or raise max_length");
        }
        List<int[]> out = new ArrayList<>();
        for (int start = 0; ; start += perWindow - docStride) {
            int stop = Math.min(start + perWindow, contextTokens);
            out.add(new int[] {start, stop});
            if (stop == contextTokens) return out;
        }
    }

    /**
     * All windows of one example with their answer positions.
     *
     * @param questionIds     the question's tokens, no specials
     * @param contextIds      the whole context's tokens, no specials
     * @param contextStarts   character start of each context token
     * @param contextEnds     character end (exclusive) of each context token
     * @param maxLength       HF {@code max_seq_length}: tokens per window including 3 specials
     * @param docStride       HF {@code doc_stride}: context tokens shared by consecutive windows
     * @param answerStartChar the answer's first character in the context, or -1 for no answer
     * @param answerEndChar   the answer's end character (exclusive): answer_start + len(text)
     */
    public static List<Feature> features(
            long[] questionIds,
            long[] contextIds,
            int[] contextStarts,
            int[] contextEnds,
            long clsId,
            long sepId,
            int maxLength,
            int docStride,
            int answerStartChar,
            int answerEndChar) {
        if (contextStarts.length != contextIds.length || contextEnds.length != contextIds.length) {
            throw new IllegalArgumentException("context offsets (" + contextStarts.length + ", " + contextEnds.length
                    + ") do not match the " + contextIds.length + " context tokens");
        }
        int q = questionIds.length;
        int perWindow = maxLength - q - 3;
        if (perWindow <= 0) {
            throw new IllegalArgumentException("the question (" + q + " tokens) leaves no room for the context in "
                    + "max_length " + maxLength + ": raise max_length or shorten the question");
        }
        List<Feature> out = new ArrayList<>();
        for (int[] w : windows(contextIds.length, perWindow, docStride)) {
            int n = q + 3 + (w[1] - w[0]);
            long[] ids = new long[n];
            long[] types = new long[n];
            int[] starts = new int[n];
            int[] ends = new int[n];
            int[] seq = new int[n];
            Arrays.fill(starts, -1);
            Arrays.fill(ends, -1);
            Arrays.fill(seq, -1);
            ids[0] = clsId;
            System.arraycopy(questionIds, 0, ids, 1, q);
            Arrays.fill(seq, 1, 1 + q, 0);
            ids[q + 1] = sepId;
            for (int i = w[0]; i < w[1]; i++) {
                int k = q + 2 + i - w[0];
                ids[k] = contextIds[i];
                types[k] = 1;
                starts[k] = contextStarts[i];
                ends[k] = contextEnds[i];
                seq[k] = 1;
            }
            ids[n - 1] = sepId;
            types[n - 1] = 1;
            int[] pos = answerPositions(starts, ends, seq, 0, answerStartChar, answerEndChar);
            out.add(new Feature(ids, types, starts, ends, seq, w[0], pos[0], pos[1]));
        }
        return out;
    }

    /**
     * HF {@code prepare_train_features}' position search for one window: {start, end} token indices, or {cls, cls}
     * when there is no answer or it is not wholly inside this window's context. HF's two scans may run past the
     * context into [SEP] or the question when the answer touches the window's edge; ours stop at the context's
     * bounds, which gives the same answer everywhere else.
     */
    public static int[] answerPositions(
            int[] offsetStarts,
            int[] offsetEnds,
            int[] sequenceIds,
            int clsIndex,
            int answerStartChar,
            int answerEndChar) {
        if (answerStartChar < 0) return new int[] {clsIndex, clsIndex};
        if (answerEndChar < answerStartChar) {
            throw new IllegalArgumentException("answer end " + answerEndChar + " before its start " + answerStartChar);
        }
        int first = 0;
        while (first < sequenceIds.length && sequenceIds[first] != 1) first++;
        int last = sequenceIds.length - 1;
        while (last >= 0 && sequenceIds[last] != 1) last--;
        if (first > last) return new int[] {clsIndex, clsIndex};
        if (!(offsetStarts[first] <= answerStartChar && offsetEnds[last] >= answerEndChar)) {
            return new int[] {clsIndex, clsIndex};
        }
        int s = first;
        while (s <= last && offsetStarts[s] <= answerStartChar) s++;
        int e = last;
        while (e >= first && offsetEnds[e] >= answerEndChar) e--;
        return new int[] {s - 1, e + 1};
    }
}
