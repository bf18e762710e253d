package io.sparkformers.pipeline;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.sparkformers.hub.Json;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.hub.TokenBatch;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * HF {@code pipeline("text-classification")} / {@code "sentiment-analysis"} ({@code TextClassificationPipeline}):
 * a text, or a text with a {@code text_pair}, → label scores. Options as HF: {@code top_k} (not given: the single
 * best label, HF's legacy output; a number: that many labels, best first; {@link PipelineOptions#ALL}: every label)
 * and {@code function_to_apply} (default by HF's rule, see {@link #defaultFunction}). Multi-label checkpoints
 * ({@code problem_type = multi_label_classification}) get independent sigmoids. Texts longer than max_length are
 * truncated (longest segment first).
 */
public final class TextClassificationPipeline implements Pipeline<List<TextClassificationPipeline.LabelScore>> {

    /** One label's score: HF's {@code {label, score}}. */
    public record LabelScore(String label, double score) {}

    /** HF {@code ClassificationFunction}. */
    public enum ClassificationFunction {
        SIGMOID,
        SOFTMAX,
        NONE;

        public static ClassificationFunction parse(String name) {
            try {
                return valueOf(name.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        "function_to_apply '" + name + "' is not one of sigmoid, softmax, none");
            }
        }
    }

    private final HfModel model;
    private final TextTokenizer tokenizer;
    private final PipelineOptions options;
    private final List<String> labels;
    private final ClassificationFunction function;

    public TextClassificationPipeline(HfModel model, PipelineOptions options) throws IOException {
        if (model.task() != Task.SEQUENCE_CLASSIFICATION) {
            throw new IllegalArgumentException(
                    "text-classification needs a sequence-classification model, got " + model.task());
        }
        var config = model.checkpoint().config();
        this.labels = labels(model.checkpoint());
        this.function = options.functionToApply() != null
                ? ClassificationFunction.parse(options.functionToApply())
                : defaultFunction(config.path("problem_type").asText(null), labels.size());
        this.model = model;
        this.options = options;
        this.tokenizer = Pipelines.tokenizer(model, options);
    }

    /** A checkpoint's labels by class id: config.json's {@code id2label}, else HF's LABEL_i for num_labels. */
    public static List<String> labels(io.sparkformers.hub.HfCheckpoint checkpoint) {
        return PipelineSupport.id2label(
                checkpoint, checkpoint.config().path("num_labels").asInt(2));
    }

    /**
     * HF's choice when {@code function_to_apply} is not given, in HF's order: regression → none;
     * multi_label_classification or one label → sigmoid; single_label_classification or several labels → softmax.
     */
    public static ClassificationFunction defaultFunction(String problemType, int numLabels) {
        if ("regression".equals(problemType)) return ClassificationFunction.NONE;
        if ("multi_label_classification".equals(problemType) || numLabels == 1) return ClassificationFunction.SIGMOID;
        if ("single_label_classification".equals(problemType) || numLabels > 1) return ClassificationFunction.SOFTMAX;
        return ClassificationFunction.NONE;
    }

    /**
     * HF's post-processing of one row's logits: the function, then labels sorted by score (stable: ties keep label
     * order), the first {@code topK} kept; {@code topK} null keeps the best one (HF's legacy output).
     */
    public static List<LabelScore> postprocess(
            float[] logits, List<String> labels, ClassificationFunction function, Integer topK) {
        double[] scores = new double[logits.length];
        switch (function) {
            case SIGMOID -> {
                for (int i = 0; i < scores.length; i++) scores[i] = 1 / (1 + Math.exp(-logits[i]));
            }
            case SOFTMAX -> scores = PipelineSupport.softmax(logits, 0, logits.length);
            case NONE -> {
                for (int i = 0; i < scores.length; i++) scores[i] = logits[i];
            }
        }
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        final double[] s = scores;
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -s[i]));
        int keep = topK == null ? 1 : Math.min(topK, order.length);
        List<LabelScore> out = new ArrayList<>(keep);
        for (int k = 0; k < keep; k++) out.add(new LabelScore(labels.get(order[k]), scores[order[k]]));
        return out;
    }

    @Override
    public String task() {
        return "text-classification";
    }

    @Override
    public PipelineOptions options() {
        return options;
    }

    public List<String> labels() {
        return labels;
    }

    public ClassificationFunction function() {
        return function;
    }

    @Override
    public String invalidReason(PipelineInput input, int row) {
        String p = PipelineSupport.textProblem(input.text(), "text", row);
        if (p == null && input.textPair() != null) p = PipelineSupport.textProblem(input.textPair(), "text_pair", row);
        return p;
    }

    /** Labels of each text. */
    public List<List<LabelScore>> classify(List<String> texts) {
        return predict(PipelineInput.texts(texts));
    }

    @Override
    public List<List<LabelScore>> predictBatch(List<PipelineInput> inputs, int firstRow) {
        PipelineSupport.requireValid(this, inputs, firstRow);
        boolean anyPair = inputs.stream().anyMatch(i -> i.textPair() != null);
        if (anyPair && inputs.stream().anyMatch(i -> i.textPair() == null)) {
            // one padded batch has one segment layout: split mixed batches into single-text and pair runs
            List<List<LabelScore>> out = new ArrayList<>(inputs.size());
            int from = 0;
            while (from < inputs.size()) {
                boolean pair = inputs.get(from).textPair() != null;
                int to = from;
                while (to < inputs.size() && (inputs.get(to).textPair() != null) == pair) to++;
                out.addAll(predictBatch(inputs.subList(from, to), firstRow + from));
                from = to;
            }
            return out;
        }
        TokenBatch batch = tokenizer.encodeBatch(
                inputs.stream().map(PipelineInput::text).toList(),
                anyPair ? inputs.stream().map(PipelineInput::textPair).toList() : null);
        List<List<LabelScore>> out = new ArrayList<>(inputs.size());
        try (NDManager scope = model.manager().newSubManager()) {
            float[] logits = PipelineSupport.forward(model, scope, batch).head().toFloatArray(); // (B, C)
            int c = labels.size();
            for (int row = 0; row < batch.batchSize(); row++) {
                out.add(postprocess(
                        Arrays.copyOfRange(logits, row * c, row * c + c), labels, function, options.topK()));
            }
        }
        return out;
    }

    /** HF: without {@code top_k} a single {@code {label, score}}; with it a list, best first. */
    @Override
    public JsonNode hfJson(List<LabelScore> result) {
        if (options.topK() == null) return labelJson(result.get(0));
        ArrayNode arr = Json.MAPPER.createArrayNode();
        for (LabelScore l : result) arr.add(labelJson(l));
        return arr;
    }

    /** HF wraps a single text's legacy output in a list ({@code [{label, score}]}). */
    @Override
    public JsonNode hfOutput(List<List<LabelScore>> results) {
        if (results.size() == 1 && options.topK() != null) return hfJson(results.get(0));
        ArrayNode arr = Json.MAPPER.createArrayNode();
        for (List<LabelScore> r : results) arr.add(hfJson(r));
        return arr;
    }

    private static JsonNode labelJson(LabelScore l) {
        return Json.MAPPER.createObjectNode().put("label", l.label()).put("score", l.score());
    }

    @Override
    public void close() {
        tokenizer.close();
        model.close();
    }
}
