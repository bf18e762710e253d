package io.sparkformers.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.sparkformers.hub.ChatTemplate;
import io.sparkformers.hub.Json;
import io.sparkformers.pipeline.ImageClassificationPipeline;
import io.sparkformers.pipeline.ImageFeatureExtractionPipeline;
import io.sparkformers.pipeline.Pipeline;
import io.sparkformers.pipeline.PipelineInput;
import io.sparkformers.pipeline.PipelineOptions;
import io.sparkformers.pipeline.Pipelines;
import io.sparkformers.pipeline.TextGenerationPipeline;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sparkformers pipeline <task> …}: HF {@code pipeline()} on texts from the command line or a JSONL file, or on
 * image files ({@code --image}) for {@code image-classification} and {@code image-feature-extraction}. Flags become
 * {@link PipelineOptions}; the library does the rest. With {@code --json} the output is exactly the structure HF's
 * pipeline returns for the same inputs (image-feature-extraction: the pooled vector per image, HF's {@code pool=True}).
 */
@Command(
        name = "pipeline",
        mixinStandardHelpOptions = true,
        description =
                "Run an HF pipeline() task in-process on --text values (or --question/--context), an --input JSONL file, "
                        + "or --image files (image-classification, image-feature-extraction).")
public final class PipelineCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(
            index = "0",
            paramLabel = "TASK",
            description = "Task: ${COMPLETION-CANDIDATES}.",
            completionCandidates = Tasks.class)
    String task;

    @Option(
            names = "--model",
            paramLabel = "REF",
            description = "A checkpoint folder, Hadoop URI, built-in alias (see `models list`) or Hub id "
                    + "org/name[@revision]; required unless --adapter names its base.")
    String model;

    @Mixin
    AdapterOption adapter;

    @Option(names = "--text", paramLabel = "T", description = "A text to process; repeat for several.")
    List<String> texts = new ArrayList<>();

    @Option(
            names = "--image",
            paramLabel = "FILE",
            description = "image tasks: a PNG/JPEG/GIF/BMP file; repeat for several.")
    List<Path> images = new ArrayList<>();

    @Option(
            names = "--text-pair",
            paramLabel = "T2",
            description = "text-classification: the second segment of the --text at the same position; repeat.")
    List<String> textPairs = new ArrayList<>();

    @Option(
            names = "--question",
            paramLabel = "Q",
            description = "question-answering: a question; repeat, one per --context.")
    List<String> questions = new ArrayList<>();

    @Option(
            names = "--context",
            paramLabel = "C",
            description = "question-answering: the context of the --question at the same position.")
    List<String> contexts = new ArrayList<>();

    @Option(
            names = "--input",
            paramLabel = "FILE.jsonl",
            description =
                    "One JSON object per line with \"text\" (and \"text_pair\"), or \"question\" and \"context\", or "
                            + "(text-generation) \"messages\": [{\"role\", \"content\"}, …]; or one JSON string per line.")
    Path input;

    @Mixin
    TopKOption topK;

    @Option(
            names = "--function-to-apply",
            paramLabel = "sigmoid|softmax|none",
            description =
                    "text-classification: score function (default from the checkpoint's problem_type/num_labels).")
    String functionToApply;

    @Option(
            names = "--aggregation-strategy",
            paramLabel = "none|simple|first|average|max",
            description = "token-classification: merge tokens into words/entities (default none).")
    String aggregationStrategy;

    @Option(
            names = "--ignore-labels",
            split = ",",
            paramLabel = "LABEL",
            description = "token-classification: labels to drop (default O).")
    List<String> ignoreLabels;

    @Option(
            names = "--doc-stride",
            description =
                    "question-answering: tokens shared by consecutive context windows (default min(max-seq-len/2, 128)).")
    Integer docStride;

    @Option(
            names = "--max-seq-len",
            description = "question-answering: tokens per window, question included (default 384).")
    Integer maxSeqLen;

    @Option(
            names = "--max-question-len",
            defaultValue = "64",
            description = "question-answering: most question tokens (default ${DEFAULT-VALUE}).")
    int maxQuestionLen;

    @Option(
            names = "--max-answer-len",
            defaultValue = "15",
            description = "question-answering: most answer tokens (default ${DEFAULT-VALUE}).")
    int maxAnswerLen;

    @Option(names = "--handle-impossible-answer", description = "question-answering: let 'no answer' compete.")
    boolean handleImpossibleAnswer;

    @Option(
            names = "--candidate-labels",
            split = ",",
            paramLabel = "LABEL",
            description = "zero-shot-classification: the labels to choose from (comma-separated).")
    List<String> candidateLabels;

    @Option(
            names = "--hypothesis-template",
            description = "zero-shot-classification: {} is the label (default \"This example is {}.\").")
    String hypothesisTemplate;

    @Option(names = "--multi-label", description = "zero-shot-classification: score labels independently.")
    boolean multiLabel;

    @Option(
            names = "--targets",
            split = ",",
            paramLabel = "WORD",
            description = "fill-mask: score only these words (comma-separated).")
    List<String> targets;

    @Mixin
    GenerationOptions generation;

    @Option(
            names = "--batch-size",
            description =
                    "Inputs per forward pass (default ${DEFAULT-VALUE}, HF pipeline's "
                            + "batch_size): one JVM scores a handful of inputs, so the batch is small; predict's batches are Spark's.")
    int batchSize = PipelineOptions.builder().build().batchSize();

    @Option(names = "--max-length", description = "Tokens kept per input (default: the checkpoint's limit).")
    Integer maxLength;

    @Option(
            names = "--dtype",
            defaultValue = "fp32",
            description = "Inference precision: fp32 (default), bf16 (BERT-family models) or auto (bf16 where the CPU "
                    + "has AVX512-BF16/AMX or the GPU compute capability >= 8).")
    String dtype;

    /** Task names for the help text. */
    static final class Tasks extends ArrayList<String> {
        Tasks() {
            super(Pipelines.TASKS);
            addAll(Pipelines.IMAGE_TASKS);
        }
    }

    @Override
    public Integer call() throws Exception {
        if (model == null && adapter.value() == null) {
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(),
                    "Missing required option: '--model=REF' (a checkpoint, or --adapter DIR naming its base)");
        }
        if (Pipelines.IMAGE_TASKS.contains(task)) return images();
        if (!images.isEmpty()) {
            throw new IllegalArgumentException(
                    "--image applies to " + Pipelines.IMAGE_TASKS + ", not " + task + "; give --text inputs");
        }
        List<PipelineInput> inputs = readInputs();
        boolean generates = GenerationOptions.appliesTo(task);
        PipelineOptions options = PipelineOptions.builder()
                .batchSize(batchSize)
                .maxLength(maxLength)
                .topK(generates ? null : topK.value())
                .functionToApply(functionToApply)
                .aggregationStrategy(aggregationStrategy)
                .ignoreLabels(ignoreLabels)
                .docStride(docStride)
                .maxSeqLen(maxSeqLen)
                .maxQuestionLen(maxQuestionLen)
                .maxAnswerLen(maxAnswerLen)
                .handleImpossibleAnswer(handleImpossibleAnswer)
                .candidateLabels(candidateLabels)
                .hypothesisTemplate(hypothesisTemplate)
                .multiLabel(multiLabel)
                .targets(targets)
                .generateKwargs(generates ? generation.kwargs(topK.value()) : null)
                .dtype(io.sparkformers.nn.ComputeDtype.parse(dtype))
                .adapter(adapter.path())
                .build();
        String base = adapter.baseOr(model);
        if (base == null) {
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(),
                    "--adapter " + adapter.value() + " is not a local folder: pass --model REF too");
        }
        try (Pipeline<?> pipeline = Pipelines.create(task, resolveModel(base), options)) {
            if (!chats.isEmpty()) {
                chat((TextGenerationPipeline) pipeline);
            } else {
                print(pipeline, inputs);
            }
        }
        return 0;
    }

    /** text-generation on the --input lines holding "messages": HF's output per conversation. */
    private void chat(TextGenerationPipeline pipeline) throws IOException {
        List<List<String>> replies = pipeline.chat(chats);
        ArrayNode all = Json.MAPPER.createArrayNode();
        for (int i = 0; i < chats.size(); i++) all.add(pipeline.chatJson(chats.get(i), replies.get(i)));
        if (common.json) {
            System.out.println(Json.line(all.size() == 1 ? all.get(0) : all));
            return;
        }
        for (int i = 0; i < chats.size(); i++) {
            List<ChatTemplate.Message> c = chats.get(i);
            System.out.println(c.get(c.size() - 1).content());
            System.out.println("  " + abbreviate(Json.line(all.get(i))));
        }
    }

    /** image-classification (HF top_k default 5) and image-feature-extraction on the --image files. */
    private Integer images() throws Exception {
        if (images.isEmpty()) throw new IllegalArgumentException(task + " needs at least one --image file");
        for (Path f : images) {
            if (!Files.isRegularFile(f)) throw new IllegalArgumentException("--image " + f + " does not exist");
        }
        if (adapter.value() != null) {
            throw new IllegalArgumentException("--adapter loads onto text models only; " + task + " takes none");
        }
        Path dir = resolveModel(model);
        List<Object> results = new ArrayList<>();
        if (task.equals("image-classification")) {
            Integer k = topK.value();
            try (ImageClassificationPipeline p = ImageClassificationPipeline.fromPretrained(dir)) {
                for (Path f : images)
                    results.add(p.classifyFiles(List.of(f), k == null ? 5 : k).get(0));
            }
        } else {
            try (ImageFeatureExtractionPipeline p = ImageFeatureExtractionPipeline.fromPretrained(dir)) {
                for (Path f : images) results.add(p.pooled(f));
            }
        }
        if (common.json) {
            System.out.println(Json.line(results.size() == 1 ? results.get(0) : results));
            return 0;
        }
        for (int i = 0; i < images.size(); i++) {
            System.out.println(images.get(i));
            System.out.println("  " + abbreviate(Json.line(results.get(i))));
        }
        return 0;
    }

    private <O> void print(Pipeline<O> pipeline, List<PipelineInput> inputs) throws IOException {
        List<O> results = pipeline.predict(inputs);
        if (common.json) {
            System.out.println(Json.line(pipeline.hfOutput(results)));
            return;
        }
        for (int i = 0; i < results.size(); i++) {
            PipelineInput in = inputs.get(i);
            System.out.println(in.question() != null ? in.question() + " | " + abbreviate(in.context()) : in.text());
            System.out.println("  " + abbreviate(Json.line(pipeline.hfJson(results.get(i)))));
        }
    }

    private static String abbreviate(String s) {
        return s == null || s.length() <= 2000 ? s : s.substring(0, 1997) + "...";
    }

    /** text-generation: the conversations of --input lines holding "messages". */
    private final List<List<ChatTemplate.Message>> chats = new ArrayList<>();

    private List<PipelineInput> readInputs() throws IOException {
        List<PipelineInput> all = new ArrayList<>();
        if (!textPairs.isEmpty() && textPairs.size() != texts.size()) {
            throw new IllegalArgumentException(
                    texts.size() + " --text but " + textPairs.size() + " --text-pair; give one pair per text");
        }
        for (int i = 0; i < texts.size(); i++) {
            all.add(PipelineInput.pair(texts.get(i), textPairs.isEmpty() ? null : textPairs.get(i)));
        }
        if (questions.size() != contexts.size()) {
            throw new IllegalArgumentException(questions.size() + " --question but " + contexts.size()
                    + " --context; give one context per question");
        }
        for (int i = 0; i < questions.size(); i++) all.add(PipelineInput.qa(questions.get(i), contexts.get(i)));
        if (input != null) {
            if (!Files.isRegularFile(input)) throw new IllegalArgumentException("--input " + input + " does not exist");
            int line = 0;
            for (String l : Files.readAllLines(input)) {
                line++;
                if (l.isBlank()) continue;
                JsonNode n = Json.MAPPER.readTree(l);
                if (n.isTextual()) {
                    all.add(PipelineInput.of(n.asText()));
                } else if (n.has("messages")) {
                    List<ChatTemplate.Message> messages = new ArrayList<>();
                    for (JsonNode m : n.get("messages")) {
                        messages.add(new ChatTemplate.Message(
                                m.path("role").asText(), m.path("content").asText()));
                    }
                    chats.add(messages);
                } else if (n.has("text") || n.has("question") || n.has("context")) {
                    all.add(new PipelineInput(
                            text(n, "text"), text(n, "text_pair"), text(n, "question"), text(n, "context")));
                } else {
                    throw new IllegalArgumentException(input + " line " + line
                            + ": expected a string or an object with \"text\" (or \"question\" and \"context\")");
                }
            }
        }
        if (!chats.isEmpty() && (!all.isEmpty() || !task.equals("text-generation"))) {
            throw new IllegalArgumentException(
                    "\"messages\" lines are text-generation input, and cannot be mixed with texts in one run");
        }
        if (all.isEmpty() && chats.isEmpty()) {
            throw new IllegalArgumentException(
                    "give at least one --text (or --question with --context) or an --input file");
        }
        return all;
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    /** Any model reference: folder, Hadoop URI, built-in alias or Hub id (see `models download --help`). */
    static Path resolveModel(String ref) throws IOException {
        return io.sparkformers.hub.ModelResolver.defaults().resolve(ref);
    }
}
