package io.sparkformers.pipeline;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.Json;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * HF {@code pipeline("zero-shot-classification")} ({@code ZeroShotClassificationPipeline}): a text and candidate
 * labels → the labels ranked by score, HF's {@code {sequence, labels, scores}}. Two methods, chosen from the
 * checkpoint by {@link Pipelines#create}:
 * <ul>
 * <li>NLI (HF's method), for sequence-classification checkpoints whose id2label has a label starting with
 * "entail": each (text, hypothesis) pair, hypothesis = the template with the label for {}, is classified; without
 * multi_label the entailment logits are softmaxed across labels, with it (or with one label) each label gets the
 * softmax of its [contradiction, entailment] logits. As HF, the contradiction id is 0, or the last id when
 * entailment is 0 (for the usual MNLI layouts that is the label named contradiction). Texts are truncated, never
 * the hypothesis (HF's only_first).</li>
 * <li>Embedding similarity, for sentence-embedding checkpoints (those with modules.json): the cosine between the
 * text's embedding and each hypothesis' embedding. Without multi_label the scores are
 * softmax(cosine / {@value #SIMILARITY_TEMPERATURE}) across labels (CLIP's zero-shot scaling: raw cosines of
 * sentence models differ by hundredths, so a plain softmax would be near uniform); with multi_label they are the
 * raw cosines, in [-1, 1] and not probabilities.</li>
 * </ul>
 */
public final class ZeroShotClassificationPipeline implements Pipeline<ZeroShotClassificationPipeline.Result> {

    /** HF's {@code {sequence, labels, scores}}, labels sorted by score, best first. */
    public record Result(String sequence, List<String> labels, List<Double> scores) {}

    public enum Method {
        NLI,
        SIMILARITY
    }

    /** Cosine divisor of the similarity method's softmax. */
    public static final double SIMILARITY_TEMPERATURE = 0.01;

    private final Method method;
    private final PipelineOptions options;
    private final List<String> candidateLabels;
    private final List<String> hypotheses;
    // NLI
    private final HfModel model;
    private final HuggingFaceTokenizer pairs;
    private final TextTokenizer tokenizer;
    private final int entailmentId;
    private final int numNliLabels;
    // similarity
    private final SentenceEmbeddingPipeline embedder;
    private final List<float[]> hypothesisEmbeddings;

    /**
     * A zero-shot pipeline over a loaded model: NLI for a {@link Task#SEQUENCE_CLASSIFICATION} model, similarity
     * for a {@link Task#SENTENCE_EMBEDDING} one.
     */
    public ZeroShotClassificationPipeline(HfModel model, PipelineOptions options) throws IOException {
        this.options = options;
        this.candidateLabels = checkLabels(options);
        this.hypotheses = hypotheses(options.hypothesisTemplate(), candidateLabels);
        if (model.task() == Task.SEQUENCE_CLASSIFICATION) {
            List<String> id2label = PipelineSupport.id2label(model.checkpoint(), 0);
            this.entailmentId = entailmentId(id2label);
            if (entailmentId < 0) throw notNli(model.checkpoint(), id2label);
            this.method = Method.NLI;
            this.numNliLabels = id2label.size();
            this.model = model;
            this.tokenizer = Pipelines.tokenizer(model, options);
            this.pairs = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(model.checkpoint().tokenizerJson())
                    .optAddSpecialTokens(true)
                    .optTruncateFirstOnly()
                    .optMaxLength(tokenizer.maxLength())
                    .optPadding(false)
                    .build();
            this.embedder = null;
            this.hypothesisEmbeddings = null;
        } else if (model.task() == Task.SENTENCE_EMBEDDING) {
            this.method = Method.SIMILARITY;
            this.embedder = new SentenceEmbeddingPipeline(model, options);
            this.hypothesisEmbeddings = embedder.embed(hypotheses);
            this.model = null;
            this.tokenizer = null;
            this.pairs = null;
            this.entailmentId = -1;
            this.numNliLabels = 0;
        } else {
            throw new IllegalArgumentException("zero-shot-classification needs a sequence-classification (NLI) or a "
                    + "sentence-embedding model, got " + model.task());
        }
    }

    /** Picks the method from the checkpoint: sentence-transformers files → similarity; entailment label → NLI. */
    static ZeroShotClassificationPipeline create(HfCheckpoint checkpoint, PipelineOptions options) throws IOException {
        checkLabels(options);
        Task task;
        if (checkpoint.pooling().isPresent()) {
            task = Task.SENTENCE_EMBEDDING;
        } else {
            List<String> id2label = PipelineSupport.id2label(checkpoint, 0);
            if (entailmentId(id2label) < 0) throw notNli(checkpoint, id2label);
            task = Task.SEQUENCE_CLASSIFICATION;
        }
        HfModel model = Pipelines.load(checkpoint, task, options);
        try {
            return new ZeroShotClassificationPipeline(model, options);
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    private static IllegalArgumentException notNli(HfCheckpoint checkpoint, List<String> id2label) {
        return new IllegalArgumentException(checkpoint.dir() + " cannot do zero-shot-classification: it is neither a "
                + "sentence-embedding checkpoint (no modules.json) nor an NLI classifier (its id2label " + id2label
                + " has no label starting with 'entail'); use an NLI checkpoint or a sentence-transformers one");
    }

    private static List<String> checkLabels(PipelineOptions options) {
        List<String> labels = options.candidateLabels();
        if (labels == null || labels.isEmpty()) {
            throw new IllegalArgumentException("zero-shot-classification needs at least one candidate label "
                    + "(candidate_labels, CLI --candidate-labels a,b,c)");
        }
        for (int i = 0; i < labels.size(); i++) {
            if (labels.get(i) == null || labels.get(i).isBlank()) {
                throw new IllegalArgumentException("candidate label " + i + " is empty; give every label a name");
            }
        }
        return labels;
    }

    /** The hypothesis of each label: the template with {} replaced (HF: {@code template.format(label)}). */
    public static List<String> hypotheses(String template, List<String> labels) {
        if (!template.contains("{}")) {
            throw new IllegalArgumentException("The provided hypothesis_template \"" + template + "\" was not able to "
                    + "be formatted with the target labels. Make sure the passed template includes formatting syntax "
                    + "such as {} where the label should go.");
        }
        return labels.stream().map(l -> template.replace("{}", l)).toList();
    }

    /** HF's {@code entailment_id}: the first label (by id) whose lower-cased name starts with "entail", else -1. */
    public static int entailmentId(List<String> id2label) {
        for (int i = 0; i < id2label.size(); i++) {
            if (id2label.get(i).toLowerCase(Locale.ROOT).startsWith("entail")) return i;
        }
        return -1;
    }

    /**
     * HF's NLI post-processing for one text.
     *
     * @param logits per candidate label, the NLI model's logits for (text, hypothesis)
     * @return per candidate label, its score (in label order)
     */
    public static double[] nliScores(float[][] logits, int entailmentId, boolean multiLabel) {
        int n = logits.length;
        double[] scores = new double[n];
        if (multiLabel || n == 1) {
            int numNli = logits[0].length;
            int contradictionId = entailmentId == 0 ? numNli - 1 : 0;
            for (int i = 0; i < n; i++) {
                double c = logits[i][contradictionId];
                double e = logits[i][entailmentId];
                scores[i] = Math.exp(e) / (Math.exp(c) + Math.exp(e));
            }
        } else {
            double[] entail = new double[n];
            for (int i = 0; i < n; i++) entail[i] = logits[i][entailmentId];
            scores = PipelineSupport.softmax(entail);
        }
        return scores;
    }

    /** The similarity method's scores: cosines, softmaxed at {@link #SIMILARITY_TEMPERATURE} unless multi-label. */
    public static double[] similarityScores(double[] cosines, boolean multiLabel) {
        if (multiLabel) return cosines.clone();
        double[] scaled = new double[cosines.length];
        for (int i = 0; i < scaled.length; i++) scaled[i] = cosines[i] / SIMILARITY_TEMPERATURE;
        return PipelineSupport.softmax(scaled);
    }

    /** HF's output order: {@code reversed(scores.argsort())}, so the best first and, among ties, the later label. */
    public static Result rank(String sequence, List<String> labels, double[] scores) {
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) order[i] = order.length - 1 - i;
        Arrays.sort(order, (a, b) -> Double.compare(scores[b], scores[a]));
        List<String> l = new ArrayList<>();
        List<Double> s = new ArrayList<>();
        for (int i : order) {
            l.add(labels.get(i));
            s.add(scores[i]);
        }
        return new Result(sequence, List.copyOf(l), List.copyOf(s));
    }

    @Override
    public String task() {
        return "zero-shot-classification";
    }

    @Override
    public PipelineOptions options() {
        return options;
    }

    public Method method() {
        return method;
    }

    @Override
    public String invalidReason(PipelineInput input, int row) {
        return PipelineSupport.textProblem(input.text(), "text", row);
    }

    /** The ranked labels of each text. */
    public List<Result> classify(List<String> texts) {
        return predict(PipelineInput.texts(texts));
    }

    @Override
    public List<Result> predictBatch(List<PipelineInput> inputs, int firstRow) {
        PipelineSupport.requireValid(this, inputs, firstRow);
        List<String> texts = inputs.stream().map(PipelineInput::text).toList();
        List<Result> out = new ArrayList<>(texts.size());
        if (method == Method.SIMILARITY) {
            List<float[]> emb = embedder.predictBatch(inputs, firstRow);
            for (int row = 0; row < texts.size(); row++) {
                double[] cos = new double[hypotheses.size()];
                for (int i = 0; i < cos.length; i++) {
                    cos[i] = SentenceEmbeddingPipeline.cosine(emb.get(row), hypothesisEmbeddings.get(i));
                }
                out.add(rank(texts.get(row), candidateLabels, similarityScores(cos, options.multiLabel())));
            }
            return out;
        }
        // every (text, hypothesis) pair, batch_size pairs per forward pass
        int n = hypotheses.size();
        List<Encoding> encs = new ArrayList<>(texts.size() * n);
        for (String t : texts) for (String h : hypotheses) encs.add(pairs.encode(t, h));
        float[][] logits = new float[encs.size()][];
        int size = options.batchSize();
        for (int from = 0; from < encs.size(); from += size) {
            List<Encoding> chunk = encs.subList(from, Math.min(encs.size(), from + size));
            try (NDManager scope = model.manager().newSubManager()) {
                float[] flat = PipelineSupport.forward(model, scope, chunk, tokenizer.padTokenId())
                        .head()
                        .toFloatArray(); // (pairs, num NLI labels)
                for (int i = 0; i < chunk.size(); i++) {
                    logits[from + i] = Arrays.copyOfRange(flat, i * numNliLabels, (i + 1) * numNliLabels);
                }
            }
        }
        for (int row = 0; row < texts.size(); row++) {
            float[][] perLabel = Arrays.copyOfRange(logits, row * n, (row + 1) * n);
            out.add(rank(texts.get(row), candidateLabels, nliScores(perLabel, entailmentId, options.multiLabel())));
        }
        return out;
    }

    @Override
    public JsonNode hfJson(Result r) {
        ObjectNode o = Json.MAPPER.createObjectNode().put("sequence", r.sequence());
        var labels = o.putArray("labels");
        r.labels().forEach(labels::add);
        var scores = o.putArray("scores");
        r.scores().forEach(scores::add);
        return o;
    }

    @Override
    public void close() {
        if (embedder != null) embedder.close();
        if (pairs != null) pairs.close();
        if (tokenizer != null) tokenizer.close();
        if (model != null) model.close();
    }
}
