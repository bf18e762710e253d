package io.sparkformers.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import io.sparkformers.pipeline.FillMaskPipeline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code sparkformers pipeline <task> …}: HF {@code pipeline()} on texts from the command line or a JSONL file. */
@Command(name = "pipeline", mixinStandardHelpOptions = true,
        description = "Run an HF pipeline() task in-process on --text values or an --input JSONL file.")
public final class PipelineCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", paramLabel = "TASK", description = "Task: fill-mask.")
    String task;

    @Option(names = "--model", required = true, paramLabel = "REF",
            description = "A checkpoint folder, Hadoop URI, built-in alias (see `models list`) or Hub id org/name[@revision].")
    String model;

    @Option(names = "--text", paramLabel = "T", description = "A text to process; repeat for several.")
    List<String> texts = new ArrayList<>();

    @Option(names = "--input", paramLabel = "FILE.jsonl",
            description = "One JSON object per line with a \"text\" field (or one JSON string per line).")
    Path input;

    @Option(names = "--top-k", defaultValue = "5", description = "Candidates per mask (fill-mask; default ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--targets", split = ",", paramLabel = "WORD",
            description = "fill-mask: score only these words (comma-separated).")
    List<String> targets;

    @Option(names = "--max-length", defaultValue = "512", description = "Tokens kept per text (default ${DEFAULT-VALUE}).")
    int maxLength;

    @Override
    public Integer call() throws Exception {
        List<String> inputs = readInputs();
        if (!task.equals("fill-mask")) {
            throw new IllegalArgumentException("unknown task '" + task + "' (supported: fill-mask)");
        }
        try (HfModel m = HfModel.fromPretrained(resolveModel(model), Task.MASKED_LM);
             FillMaskPipeline pipeline = new FillMaskPipeline(m, m.tokenizer(maxLength))) {
            var results = pipeline.fill(inputs, topK, targets);
            List<Object> hf = new ArrayList<>();
            for (var perText : results) hf.add(FillMaskPipeline.flattenLikeHf(perText));
            Object output = hf.size() == 1 ? hf.get(0) : hf;
            if (common.json) {
                System.out.println(Json.MAPPER.writer().withoutFeatures(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                        .writeValueAsString(toHfJson(output)));
            } else {
                for (int i = 0; i < results.size(); i++) {
                    System.out.println(inputs.get(i));
                    for (var perMask : results.get(i)) {
                        for (var c : perMask) System.out.printf("  %-15s %.4f  %s%n", c.tokenStr(), c.score(), c.sequence());
                    }
                }
            }
        }
        return 0;
    }

    /** Records become HF's snake_case keys: {@code {score, token, token_str, sequence}}. */
    private static JsonNode toHfJson(Object value) {
        if (value instanceof FillMaskPipeline.Candidate c) {
            return Json.MAPPER.createObjectNode().put("score", c.score()).put("token", c.token())
                    .put("token_str", c.tokenStr()).put("sequence", c.sequence());
        }
        var arr = Json.MAPPER.createArrayNode();
        for (Object o : (List<?>) value) arr.add(toHfJson(o));
        return arr;
    }

    private List<String> readInputs() throws IOException {
        List<String> all = new ArrayList<>(texts);
        if (input != null) {
            if (!Files.isRegularFile(input)) throw new IllegalArgumentException("--input " + input + " does not exist");
            int line = 0;
            for (String l : Files.readAllLines(input)) {
                line++;
                if (l.isBlank()) continue;
                JsonNode n = Json.MAPPER.readTree(l);
                if (n.isTextual()) all.add(n.asText());
                else if (n.hasNonNull("text")) all.add(n.get("text").asText());
                else throw new IllegalArgumentException(input + " line " + line + ": expected a string or an object with \"text\"");
            }
        }
        if (all.isEmpty()) throw new IllegalArgumentException("give at least one --text or an --input file");
        return all;
    }

    /** Any model reference: folder, Hadoop URI, built-in alias or Hub id (see `models download --help`). */
    static Path resolveModel(String ref) throws IOException {
        return io.sparkformers.hub.ModelResolver.defaults().resolve(ref);
    }
}
