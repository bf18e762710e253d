package io.sparkformers.train;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.sparkformers.hub.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code report_to: jsonl}: every log event as one JSON object per line in {@code output_dir/log_history.jsonl}, the
 * same entries HF keeps in {@code state.log_history} (the logs, "epoch", "step"). Our stand-in for HF's reporting
 * integrations (TensorBoard, W&B, …), readable with any JSON-lines tool. A fresh run (step 0) starts a new file; a
 * resumed one appends. Only the world's process zero writes.
 */
public final class JsonlReporter implements TrainerCallback {
    public static final String FILE_NAME = "log_history.jsonl";
    private static final ObjectWriter LINE = Json.MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT);

    private final Path file;

    public JsonlReporter(Path outputDir) {
        this.file = outputDir.resolve(FILE_NAME);
    }

    public Path file() {
        return file;
    }

    @Override
    public void onTrainBegin(TrainingArguments args, TrainerState state, TrainerControl control) {
        if (!state.isWorldProcessZero) return;
        try {
            Files.createDirectories(file.getParent());
            if (state.globalStep == 0) Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + file, e);
        }
    }

    @Override
    public void onLog(TrainingArguments args, TrainerState state, TrainerControl control, Map<String, Object> logs) {
        if (!state.isWorldProcessZero) return;
        Map<String, Object> entry = new LinkedHashMap<>(logs);
        entry.put("step", state.globalStep);
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(
                    file,
                    LINE.writeValueAsString(entry) + "\n",
                    StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + file, e);
        }
    }

    /** Reads a {@code log_history.jsonl} back into log-history entries. */
    public static List<Map<String, Object>> read(Path file) throws IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            out.add(Json.MAPPER.readValue(line, new TypeReference<LinkedHashMap<String, Object>>() {}));
        }
        return out;
    }
}
