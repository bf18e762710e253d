package io.sparkformers.spark;

import ai.djl.huggingface.tokenizers.Encoding;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.pipeline.PipelineInput;
import io.sparkformers.spark.TokenBudgetBatcher.Encoded;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * Turns one input row into tokens on an executor: text (+ pair) through the checkpoint's tokenizer, or token columns
 * as {@code HuggingFaceTokenizer} wrote them. Rows without usable input (null, empty or whitespace-only text, missing
 * or over-long token ids) become {@link Encoded#invalid} with the reason. Text rows also carry their
 * {@link PipelineInput} (text and pair, or question and context), for stages that run a task pipeline. Holds column
 * positions only (plain values for the closure).
 */
final class InputReader implements Serializable {
    private static final long serialVersionUID = 1L;

    final boolean tokens;
    final String textCol;
    final int text;
    final int pair;
    final String idsCol;
    final int ids;
    final int mask;
    final int types;
    final int maxLength;
    final boolean qa;
    final String pairCol;

    private InputReader(
            boolean tokens,
            String textCol,
            int text,
            int pair,
            String idsCol,
            int ids,
            int mask,
            int types,
            int maxLength,
            boolean qa,
            String pairCol) {
        this.tokens = tokens;
        this.textCol = textCol;
        this.text = text;
        this.pair = pair;
        this.idsCol = idsCol;
        this.ids = ids;
        this.mask = mask;
        this.types = types;
        this.maxLength = maxLength;
        this.qa = qa;
        this.pairCol = pairCol;
    }

    /** The reader for a stage's Params over a (validated) input schema: its token columns when {@code tokens}. */
    static InputReader of(TextInputParams stage, boolean tokens, StructType schema) {
        List<String> names = Arrays.asList(schema.fieldNames());
        return new InputReader(
                tokens,
                tokens ? stage.getInputIdsCol() : stage.getInputCol(),
                tokens ? -1 : names.indexOf(stage.getInputCol()),
                stage.getInputPairCol().isEmpty() ? -1 : names.indexOf(stage.getInputPairCol()),
                stage.getInputIdsCol(),
                names.indexOf(stage.getInputIdsCol()),
                names.indexOf(stage.getAttentionMaskCol()),
                names.indexOf(stage.getTokenTypeIdsCol()),
                stage.getMaxLength(),
                false,
                stage.getInputPairCol());
    }

    /** The reader of (question, context) string columns, encoded as a pair (question first, as HF). */
    static InputReader questionAnswering(StructType schema, String questionCol, String contextCol, int maxLength) {
        List<String> names = Arrays.asList(schema.fieldNames());
        return new InputReader(
                false,
                questionCol,
                names.indexOf(questionCol),
                names.indexOf(contextCol),
                null,
                -1,
                -1,
                -1,
                maxLength,
                true,
                contextCol);
    }

    /** The column a row's invalid input came from (for error messages). */
    String column() {
        return textCol;
    }

    Encoded read(Row row, TextTokenizer tokenizer) {
        return tokens ? readTokens(row) : readText(row, tokenizer);
    }

    private Encoded readText(Row row, TextTokenizer tokenizer) {
        String t = row.isNullAt(text) ? null : row.getString(text);
        String why = invalidText(t);
        if (why != null) return Encoded.invalid(qa ? why.replace("text", "question") : why);
        Encoding e;
        String p = null;
        if (pair >= 0) {
            p = row.isNullAt(pair) ? null : row.getString(pair);
            String whyPair = invalidText(p);
            if (whyPair != null) {
                return Encoded.invalid(
                        qa
                                ? whyPair.replace("text", "context") + " (column '" + pairCol + "')"
                                : "pair " + whyPair + " (column '" + pairCol + "')");
            }
            e = tokenizer.encode(t, p);
        } else {
            e = tokenizer.encode(t);
        }
        PipelineInput input = qa ? PipelineInput.qa(t, p) : new PipelineInput(t, p, null, null);
        return new Encoded(e.getIds(), e.getAttentionMask(), e.getTypeIds(), null, input);
    }

    /** Why a text cannot be scored, or null. */
    static String invalidText(String t) {
        if (t == null) return "text is null";
        if (t.isEmpty()) return "text is empty";
        if (t.isBlank()) return "text is whitespace only";
        return null;
    }

    private Encoded readTokens(Row row) {
        if (row.isNullAt(ids)) return Encoded.invalid(idsCol + " is null");
        long[] id = longs(row.getList(ids));
        if (id.length == 0) return Encoded.invalid(idsCol + " is empty");
        if (id.length > maxLength) {
            return Encoded.invalid(idsCol + " has " + id.length + " tokens, more than maxLength " + maxLength
                    + "; tokenize with a maxLength of at most " + maxLength);
        }
        long[] m = mask >= 0 && !row.isNullAt(mask) ? longs(row.getList(mask)) : filled(id.length, 1);
        long[] ty = types >= 0 && !row.isNullAt(types) ? longs(row.getList(types)) : filled(id.length, 0);
        if (m.length != id.length || ty.length != id.length) {
            return Encoded.invalid("token columns disagree in length: " + id.length + " ids, " + m.length + " mask, "
                    + ty.length + " type ids");
        }
        return new Encoded(id, m, ty, null);
    }

    private static long[] longs(List<Object> values) {
        long[] out = new long[values.size()];
        for (int i = 0; i < out.length; i++) out[i] = ((Number) values.get(i)).longValue();
        return out;
    }

    private static long[] filled(int n, long v) {
        long[] a = new long[n];
        Arrays.fill(a, v);
        return a;
    }
}
