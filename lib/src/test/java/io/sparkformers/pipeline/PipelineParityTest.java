package io.sparkformers.pipeline;

import static io.sparkformers.pipeline.QaReferences.codePoints;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.hub.Json;
import io.sparkformers.safetensors.SafetensorsFile;
import io.sparkformers.safetensors.SafetensorsWriter;
import io.sparkformers.safetensors.Tensor;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Parity of the encoder pipelines with Python transformers 4.57.6 pipelines on the same checkpoint folders
 * (resources/parity, made by src/test/python/make_pipeline_references.py): text-classification (softmax, multi-label
 * sigmoid, regression, unnamed labels; top_k 1/3/all, function_to_apply, text_pair, a text over 512 tokens),
 * token-classification (IOB and BIOES label sets, every aggregation_strategy, ignore_labels), zero-shot-classification
 * (single and multi-label, hypothesis_template, one label, entailment at id 0 or 2), fill-mask (the real
 * bert-base-uncased: top_k, targets, several masks) and feature-extraction (the real all-MiniLM-L6-v2 and
 * bge-small-en-v1.5). The inputs of a case run as one batch of mixed lengths (accents, emoji, CJK, punctuation, long
 * words split into many pieces). Every field is compared: labels, words, tokens and start/end exactly (HF counts code
 * points, we UTF-16 units: converted here), scores within 1e-4 relative (1e-6 absolute near zero: regression and
 * raw logits cross it); feature-extraction per token row its first, second and last value, sum and L2 norm, within
 * 1e-4 of the row's norm. A case with {@code differs} is one where the project deliberately refuses an input HF runs:
 * the refusal's message is asserted, and the other inputs of the case still compared.
 */
class PipelineParityTest {
    private static final double SCORE_RELATIVE = 1e-4;
    private static final double SCORE_ABSOLUTE = 1e-6;
    private static final double FEATURE_OF_NORM = 1e-4;

    @TempDir
    static Path tmp;

    private static final Map<String, Path> CHECKPOINTS = new HashMap<>();

    @TestFactory
    Stream<DynamicTest> outputsEqualTransformers() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        // references_roberta_heads.json: RoBERTa's own heads, written by the generator's --roberta-heads mode
        for (String file : List.of("references.json", "references_roberta_heads.json")) {
            JsonNode refs = Json.MAPPER.readTree(resource(file).toFile());
            for (JsonNode c : refs.get("cases")) {
                tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> check(refs.get("checkpoints"), c)));
            }
        }
        return tests.stream();
    }

    private static void check(JsonNode checkpoints, JsonNode c) throws Exception {
        String name = c.get("name").asText();
        String task = c.get("task").asText();
        List<PipelineInput> inputs = new ArrayList<>();
        for (JsonNode in : c.get("inputs")) {
            inputs.add(
                    in.isTextual()
                            ? PipelineInput.of(in.asText())
                            : PipelineInput.pair(
                                    in.get("text").asText(), in.get("text_pair").asText()));
        }
        Path checkpoint = checkpoint(
                c.get("checkpoint").asText(),
                checkpoints.get(c.get("checkpoint").asText()));
        try (Pipeline<?> p = Pipelines.create(task, checkpoint, options(c.get("options")))) {
            List<Integer> rows = new ArrayList<>();
            for (int i = 0; i < inputs.size(); i++) if (p.invalidReason(inputs.get(i), i) == null) rows.add(i);
            if (c.has("differs")) {
                String error = c.get("differs").get("error").asText();
                var e = assertThrows(IllegalArgumentException.class, () -> p.predict(inputs), name);
                assertTrue(
                        e.getMessage().contains(error),
                        name + ": expected the refusal '" + error + "', got " + e.getMessage());
            } else {
                assertEquals(inputs.size(), rows.size(), name + ": every input is valid");
            }
            compare(name, task, p, rows.stream().map(inputs::get).toList(), rows, c.get("expected"));
        }
    }

    private static <O> void compare(
            String name,
            String task,
            Pipeline<O> p,
            List<PipelineInput> inputs,
            List<Integer> rows,
            JsonNode expected) {
        List<O> results = p.predict(inputs); // one batch: inputs of mixed lengths padded together
        Comparison cmp = new Comparison(name);
        for (int k = 0; k < rows.size(); k++) {
            int i = rows.get(k);
            String where = "input " + i;
            JsonNode want = expected.get(i);
            if (task.equals("feature-extraction")) {
                cmp.features(where, want, (float[][]) results.get(k));
            } else {
                JsonNode got = p.hfJson(results.get(k));
                if (task.equals("token-classification"))
                    got = toCodePoints(got, inputs.get(k).text());
                cmp.json(where, want, got);
            }
        }
        cmp.assertClose();
    }

    /** Entity offsets as Python string indices. */
    private static JsonNode toCodePoints(JsonNode entities, String text) {
        for (JsonNode e : entities) {
            ((ObjectNode) e).put("start", codePoints(text, e.get("start").asInt()));
            ((ObjectNode) e).put("end", codePoints(text, e.get("end").asInt()));
        }
        return entities;
    }

    /** Walks expected and actual together: structure and exact fields fail at once, numbers keep the worst diff. */
    private static final class Comparison {
        private final String name;
        private double worstExcess = Double.NEGATIVE_INFINITY;
        private double worstDiff;
        private String worst = "nothing numeric";

        Comparison(String name) {
            this.name = name;
        }

        void json(String path, JsonNode want, JsonNode got) {
            if (want.isObject()) {
                assertTrue(got != null && got.isObject(), at(path, want, got));
                assertEquals(
                        new TreeSet<>(fieldNames(want)),
                        new TreeSet<>(fieldNames(got)),
                        "fields; " + at(path, want, got));
                for (String f : fieldNames(want)) json(path + "." + f, want.get(f), got.get(f));
            } else if (want.isArray()) {
                assertTrue(got != null && got.isArray(), at(path, want, got));
                assertEquals(want.size(), got.size(), "length; " + at(path, want, got));
                for (int i = 0; i < want.size(); i++) json(path + "[" + i + "]", want.get(i), got.get(i));
            } else if (want.isIntegralNumber()) {
                assertTrue(got != null && got.isIntegralNumber(), at(path, want, got));
                assertEquals(want.asLong(), got.asLong(), at(path, want, got));
            } else if (want.isNumber()) {
                assertTrue(got != null && got.isNumber(), at(path, want, got));
                double w = want.asDouble();
                number(path, w, got.asDouble(), SCORE_RELATIVE * Math.abs(w) + SCORE_ABSOLUTE);
            } else {
                assertEquals(want, got, at(path, want, got));
            }
        }

        /** HF's summary per token row: first, second, last, sum, L2 norm. */
        void features(String path, JsonNode want, float[][] got) {
            assertEquals(want.get("tokens").asInt(), got.length, "tokens; " + name + " " + path);
            assertEquals(want.get("hidden").asInt(), got[0].length, "hidden size; " + name + " " + path);
            String[] stats = {"first", "second", "last", "sum", "norm"};
            for (int t = 0; t < got.length; t++) {
                float[] v = got[t];
                double sum = 0;
                double sq = 0;
                for (float x : v) {
                    sum += x;
                    sq += (double) x * x;
                }
                double[] actual = {v[0], v[1], v[v.length - 1], sum, Math.sqrt(sq)};
                JsonNode row = want.get("rows").get(t);
                double tolerance = FEATURE_OF_NORM * row.get(4).asDouble();
                for (int s = 0; s < stats.length; s++) {
                    number(path + " token " + t + " " + stats[s], row.get(s).asDouble(), actual[s], tolerance);
                }
            }
        }

        private void number(String path, double want, double got, double tolerance) {
            double diff = Math.abs(got - want);
            if (diff - tolerance > worstExcess) {
                worstExcess = diff - tolerance;
                worstDiff = diff;
                worst = path + ": expected " + want + ", got " + got;
            }
        }

        void assertClose() {
            assertTrue(
                    worstExcess <= 0,
                    name + ": " + worst + " (|diff| " + worstDiff + ", the case's largest " + "beyond tolerance)");
        }

        private String at(String path, JsonNode want, JsonNode got) {
            return name + " " + path + ": expected " + want + "\n but got " + got;
        }
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> out = new ArrayList<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) out.add(it.next());
        return out;
    }

    /** HF's keyword arguments as ours; {@code truncation} is left out (the project always truncates). */
    private static PipelineOptions options(JsonNode o) {
        PipelineOptions.Builder b = PipelineOptions.builder();
        if (o.has("top_k"))
            b.topK(
                    o.get("top_k").isNull()
                            ? PipelineOptions.ALL
                            : o.get("top_k").asInt());
        if (o.has("function_to_apply"))
            b.functionToApply(o.get("function_to_apply").asText());
        if (o.has("aggregation_strategy"))
            b.aggregationStrategy(o.get("aggregation_strategy").asText());
        if (o.has("ignore_labels")) b.ignoreLabels(strings(o.get("ignore_labels")));
        if (o.has("candidate_labels")) b.candidateLabels(strings(o.get("candidate_labels")));
        if (o.has("hypothesis_template"))
            b.hypothesisTemplate(o.get("hypothesis_template").asText());
        if (o.has("multi_label")) b.multiLabel(o.get("multi_label").asBoolean());
        if (o.has("targets")) b.targets(strings(o.get("targets")));
        return b.build();
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /**
     * A reference checkpoint: the built-in alias itself, or (with an architecture) assembled as the generator's
     * build_checkpoint does: the base's weights under "bert.", the head files, config.json with the architecture and
     * the overrides, the base's tokenizer files.
     */
    static synchronized Path checkpoint(String name, JsonNode spec) throws IOException {
        Path done = CHECKPOINTS.get(name);
        if (done != null) return done;
        String baseName = spec.get("base").asText();
        // tiny/…: a seeded checkpoint committed whole beside the references
        Path base =
                baseName.startsWith("tiny/") ? resource(baseName) : BuiltinModels.resolve(BuiltinModels.get(baseName));
        Path dir = base;
        if (!spec.get("architecture").isNull()) {
            dir = Files.createDirectories(tmp.resolve(name));
            Map<String, Tensor> weights = new LinkedHashMap<>();
            try (SafetensorsFile f = SafetensorsFile.open(base.resolve("model.safetensors"))) {
                f.readAll().forEach((key, t) -> weights.put("bert." + key, t));
            }
            for (JsonNode head : spec.get("heads")) {
                try (SafetensorsFile f = SafetensorsFile.open(resource("heads/" + head.asText() + ".safetensors"))) {
                    weights.putAll(f.readAll());
                }
            }
            ObjectNode config = (ObjectNode)
                    Json.MAPPER.readTree(base.resolve("config.json").toFile());
            config.putArray("architectures").add(spec.get("architecture").asText());
            config.setAll((ObjectNode) spec.get("config"));
            Json.write(dir.resolve("config.json"), config);
            SafetensorsWriter.write(dir.resolve("model.safetensors"), weights, Map.of("format", "pt"));
            for (String file : List.of("tokenizer.json", "tokenizer_config.json")) {
                Files.copy(base.resolve(file), dir.resolve(file));
            }
        }
        CHECKPOINTS.put(name, dir);
        return dir;
    }

    static Path resource(String name) {
        try {
            return Path.of(
                    PipelineParityTest.class.getResource("/parity/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
