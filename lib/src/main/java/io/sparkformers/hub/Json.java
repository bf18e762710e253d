package io.sparkformers.hub;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The one Jackson mapper for checkpoint JSON files: strict on duplicates, pretty on write (as HF writes them). */
public final class Json {
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    private Json() {}

    /**
     * {@code value} as JSON on one line: the CLI's {@code --json} reports, one document a line for a program to read
     * (the mapper itself pretty-prints, as HF writes its files).
     */
    public static String line(Object value) throws com.fasterxml.jackson.core.JsonProcessingException {
        return MAPPER.writer()
                .withoutFeatures(SerializationFeature.INDENT_OUTPUT)
                .writeValueAsString(value);
    }

    /** Reads a JSON object; the error names the file and what is wrong with it. */
    public static ObjectNode readObject(Path file) throws IOException {
        JsonNode node;
        try {
            node = MAPPER.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(file + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (java.io.CharConversionException e) { // bytes in no encoding JSON allows (UTF-8/16/32)
            throw new IOException(file + " is not valid JSON: " + e.getMessage(), e);
        }
        if (!(node instanceof ObjectNode obj)) {
            throw new IOException(
                    file + " must hold a JSON object, found " + (node == null ? "nothing" : node.getNodeType()));
        }
        return obj;
    }

    /** Writes {@code node} pretty-printed with a trailing newline, through a temporary file renamed into place. */
    public static void write(Path file, JsonNode node) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, MAPPER.writeValueAsString(node) + "\n");
        Files.move(
                tmp,
                file,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
