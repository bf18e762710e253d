package io.sparkformers.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.hub.TokenizerConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Fuzzes the tokenizer files: {@code tokenizer_config.json} (parsed by us) and {@code tokenizer.json} (handed to the
 * HF tokenizers native library through DJL). For the latter the contract is that the JVM survives and a file the
 * library refuses gives an exception naming the file.
 */
class TokenizerFuzzTest {

    private static final TokenizerConfig BERT = TokenizerConfig.bertUncased(512);

    @FuzzTest(maxDuration = "60s")
    void tokenizerConfig(byte[] bytes) throws Exception {
        Path file = Outcomes.write("", "tokenizer_config.json", bytes);
        ObjectNode[] json = new ObjectNode[1];
        Outcomes.onlyClearErrors(file.toString(), List.of(IOException.class), () -> json[0] = Json.readObject(file));
        if (json[0] == null) return;
        Outcomes.onlyClearErrors("", List.of(IllegalArgumentException.class), () -> {
            TokenizerConfig c = TokenizerConfig.fromJson(json[0]);
            TokenizerConfig.fromJson(c.toJson());
        });
    }

    @FuzzTest(maxDuration = "60s")
    void tokenizerJson(byte[] bytes) throws Exception {
        Path file = Outcomes.write("", "tokenizer.json", bytes);
        Outcomes.onlyClearErrors(file.toString(), List.of(IOException.class, IllegalArgumentException.class), () -> {
            try (TextTokenizer t = TextTokenizer.load(file, BERT, 16)) {
                t.encodeBatch(List.of("Hello, world!", "unaffable"), null);
            }
        });
    }
}
