package io.sparkformers.pipeline;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.TokenBatch;
import io.sparkformers.nn.HfModel;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Helpers the task pipelines share: input checks, the forward pass of a token batch, offsets, softmax. */
final class PipelineSupport {
    private PipelineSupport() {}

    /** Why a text field cannot be used (null if it can): null, empty and whitespace-only texts are refused. */
    static String textProblem(String value, String field, int row) {
        String what = value == null ? "null" : value.isEmpty() ? "empty" : value.isBlank() ? "whitespace only" : null;
        if (what == null) return null;
        return "row " + row + ": " + field + " is " + what + "; give it text or drop the row "
                + "(Spark stages: handleInvalid=skip or keep)";
    }

    /** Throws the first problem of a batch, if any. */
    static void requireValid(Pipeline<?> p, List<PipelineInput> inputs, int firstRow) {
        for (int i = 0; i < inputs.size(); i++) {
            String problem = p.invalidReason(inputs.get(i), firstRow + i);
            if (problem != null) throw new IllegalArgumentException(problem);
        }
    }

    /** Forward pass of a padded batch; outputs belong to {@code scope}. */
    static NDList forward(HfModel model, NDManager scope, TokenBatch batch) {
        return model.predict(inputs(scope, batch));
    }

    /** input_ids, attention_mask, token_type_ids (B, T) of a tokenized batch, in {@code scope}. */
    static NDList inputs(NDManager scope, TokenBatch batch) {
        Shape shape = new Shape(batch.batchSize(), batch.seqLength());
        return new NDList(
                scope.create(batch.inputIds(), shape),
                scope.create(batch.attentionMask(), shape),
                scope.create(batch.tokenTypeIds(), shape));
    }

    /** Forward pass of encodings padded here to the longest (dynamic padding); outputs belong to {@code scope}. */
    static NDList forward(HfModel model, NDManager scope, List<Encoding> encodings, long padId) {
        int b = encodings.size();
        int t = 1;
        for (Encoding e : encodings) t = Math.max(t, e.getIds().length);
        long[] ids = new long[b * t];
        long[] mask = new long[b * t];
        long[] types = new long[b * t];
        java.util.Arrays.fill(ids, padId);
        for (int i = 0; i < b; i++) {
            Encoding e = encodings.get(i);
            int n = e.getIds().length;
            System.arraycopy(e.getIds(), 0, ids, i * t, n);
            System.arraycopy(e.getAttentionMask(), 0, mask, i * t, n);
            System.arraycopy(e.getTypeIds(), 0, types, i * t, n);
        }
        Shape shape = new Shape(b, t);
        return model.predict(
                new NDList(scope.create(ids, shape), scope.create(mask, shape), scope.create(types, shape)));
    }

    /**
     * Token character spans as Java string indices. The tokenizers library counts Unicode code points; Java strings
     * count UTF-16 units, which differ after any character outside the BMP (emoji). Special tokens have no span:
     * {@code null}.
     */
    static int[][] offsets(String text, Encoding enc) {
        CharSpan[] spans = enc.getCharTokenSpans();
        int[] toUtf16 = codePointToUtf16(text);
        int[][] out = new int[spans.length][];
        for (int i = 0; i < spans.length; i++) {
            if (spans[i] == null) continue;
            int s = spans[i].getStart();
            int e = spans[i].getEnd();
            out[i] = toUtf16 == null ? new int[] {s, e} : new int[] {toUtf16[s], toUtf16[e]};
        }
        return out;
    }

    /** Code point index → UTF-16 index (one entry past the end), or null when the text has no surrogate pairs. */
    private static int[] codePointToUtf16(String text) {
        int cps = text.codePointCount(0, text.length());
        if (cps == text.length()) return null;
        int[] map = new int[cps + 1];
        int u = 0;
        for (int c = 0; c < cps; c++) {
            map[c] = u;
            u += Character.charCount(text.codePointAt(u));
        }
        map[cps] = u;
        return map;
    }

    /** Numerically stable softmax, in double (HF post-processes in numpy float32/64). */
    static double[] softmax(float[] logits, int from, int length) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < length; i++) max = Math.max(max, logits[from + i]);
        double[] out = new double[length];
        double sum = 0;
        for (int i = 0; i < length; i++) {
            out[i] = Math.exp(logits[from + i] - max);
            sum += out[i];
        }
        for (int i = 0; i < length; i++) out[i] /= sum;
        return out;
    }

    static double[] softmax(double[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : logits) max = Math.max(max, v);
        double[] out = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            out[i] = Math.exp(logits[i] - max);
            sum += out[i];
        }
        for (int i = 0; i < out.length; i++) out[i] /= sum;
        return out;
    }

    /** HF {@code id2label} of config.json as a list indexed by class id (HF's LABEL_i when absent). */
    static List<String> id2label(HfCheckpoint checkpoint, int numLabelsIfAbsent) {
        JsonNode node = checkpoint.config().get("id2label");
        if (node == null || !node.isObject() || node.isEmpty()) {
            List<String> out = new ArrayList<>();
            for (int i = 0; i < numLabelsIfAbsent; i++) out.add("LABEL_" + i);
            return out;
        }
        Map<Integer, String> byId = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            var e = it.next();
            byId.put(Integer.parseInt(e.getKey()), e.getValue().asText());
        }
        List<String> out = new ArrayList<>(byId.values());
        for (int i = 0; i < out.size(); i++) {
            if (!byId.containsKey(i)) {
                throw new IllegalArgumentException(checkpoint.dir() + "/config.json: id2label ids must be 0.."
                        + (out.size() - 1) + ", got " + byId.keySet());
            }
        }
        return out;
    }

    static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }

    /**
     * Token rows padded to the longest ({@code width} T): ids (pad id where no token) and attention mask (1 on tokens),
     * (B, T) each.
     */
    record Padded(long[][] ids, long[][] mask, int width) {}

    /**
     * Rows padded into one batch: on the right (encoder inputs, as HF pads them) or on the left (decoder prompts, as
     * HF batches them for generation).
     */
    static Padded pad(List<long[]> rows, long padId, boolean left) {
        int b = rows.size();
        int width = 0;
        for (long[] r : rows) width = Math.max(width, r.length);
        long[][] ids = new long[b][width];
        long[][] mask = new long[b][width];
        for (int i = 0; i < b; i++) {
            long[] r = rows.get(i);
            int offset = left ? width - r.length : 0;
            java.util.Arrays.fill(ids[i], padId);
            System.arraycopy(r, 0, ids[i], offset, r.length);
            java.util.Arrays.fill(mask[i], offset, offset + r.length, 1L);
        }
        return new Padded(ids, mask, width);
    }

    /**
     * The checkpoint's tokenizer as the generation pipelines use it: special tokens added, no padding or truncation
     * (they pad ids themselves, {@link #pad}).
     */
    static ai.djl.huggingface.tokenizers.HuggingFaceTokenizer generationTokenizer(HfModel model) throws IOException {
        return ai.djl.huggingface.tokenizers.HuggingFaceTokenizer.builder()
                .optTokenizerPath(model.checkpoint().tokenizerJson())
                .optAddSpecialTokens(true)
                .optPadding(false)
                .optTruncation(false)
                .build();
    }
}
