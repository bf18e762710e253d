package io.sparkformers.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.safetensors.SafetensorsFile;
import io.sparkformers.safetensors.SafetensorsWriter;
import io.sparkformers.safetensors.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The question-answering references of Python transformers 4.57.6 (resources/qa, made by
 * src/test/python/make_qa_references.py) and the checkpoint they were computed on: the real all-MiniLM-L6-v2 encoder
 * under a seeded qa_outputs head. Public for the Spark stage tests.
 */
public final class QaReferences {
    private QaReferences() {}

    /** The reference cases: {@code name}, {@code options} (HF's keyword arguments), {@code inputs}, {@code expected}. */
    public static JsonNode cases() {
        try {
            return Json.MAPPER.readTree(resource("references.json").toFile()).get("cases");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Writes the checkpoint as make_qa_references.build_checkpoint does: the base's weights under "bert.", the head,
     * config.json with architectures [BertForQuestionAnswering], the base's tokenizer files.
     */
    public static Path checkpoint(Path dir) throws IOException {
        Path base = TinyCheckpoints.miniLm();
        Files.createDirectories(dir);
        Map<String, Tensor> weights = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(base.resolve("model.safetensors"))) {
            f.readAll().forEach((name, t) -> weights.put("bert." + name, t));
        }
        try (SafetensorsFile f = SafetensorsFile.open(resource("qa_outputs.safetensors"))) {
            weights.putAll(f.readAll());
        }
        ObjectNode config =
                (ObjectNode) Json.MAPPER.readTree(base.resolve("config.json").toFile());
        config.putArray("architectures").add("BertForQuestionAnswering");
        Json.write(dir.resolve("config.json"), config);
        SafetensorsWriter.write(dir.resolve("model.safetensors"), weights, Map.of("format", "pt"));
        for (String name : List.of("tokenizer.json", "tokenizer_config.json")) {
            Files.copy(base.resolve(name), dir.resolve(name));
        }
        return dir;
    }

    /** A case's options as ours. */
    public static PipelineOptions options(JsonNode c) {
        JsonNode o = c.get("options");
        PipelineOptions.Builder b = PipelineOptions.builder();
        if (o.has("top_k")) b.topK(o.get("top_k").asInt());
        if (o.has("max_seq_len")) b.maxSeqLen(o.get("max_seq_len").asInt());
        if (o.has("doc_stride")) b.docStride(o.get("doc_stride").asInt());
        if (o.has("max_answer_len")) b.maxAnswerLen(o.get("max_answer_len").asInt());
        if (o.has("max_question_len"))
            b.maxQuestionLen(o.get("max_question_len").asInt());
        if (o.has("handle_impossible_answer"))
            b.handleImpossibleAnswer(o.get("handle_impossible_answer").asBoolean());
        return b.build();
    }

    /** HF's character offsets are Python string indices (code points); ours are Java's (UTF-16 units). */
    public static int codePoints(String s, int utf16Index) {
        return s.codePointCount(0, Math.min(Math.max(utf16Index, 0), s.length()));
    }

    private static Path resource(String name) {
        try {
            return Path.of(QaReferences.class.getResource("/qa/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
