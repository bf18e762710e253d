package io.sparkformers.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.pipeline.TinyCheckpoints;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A config.json whose sizes disagree with the weights fails before the parameters are allocated. */
class ConfigWeightsMismatchTest {
    @TempDir
    Path tmp;

    /** A tiny BERT checkpoint whose config.json is then edited by {@code edit}. */
    private Path tinyWithConfig(String name, Consumer<ObjectNode> edit) throws Exception {
        Path dir = TinyCheckpoints.write(
                tmp.resolve(name),
                Task.BASE,
                TinyCheckpoints.config(Map.of(0, "LABEL_0", 1, "LABEL_1"), null),
                null,
                null,
                Optional.empty());
        Path config = dir.resolve("config.json");
        ObjectNode c = Json.readObject(config);
        edit.accept(c);
        Json.write(config, c);
        return dir;
    }

    @Test
    void aConfigSizeThatDisagreesWithTheWeightsNamesTheTensorBothShapesAndTheKey() throws Exception {
        Path dir = tinyWithConfig("tiny", c -> c.put("hidden_size", 4096));
        Path config = dir.resolve("config.json");

        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> HfModel.fromPretrained(dir, Task.BASE).close());
        assertTrue(
                e.getMessage()
                        .matches(java.util.regex.Pattern.quote(config + " does not match the weights: "
                                        + "config.json says hidden_size 4096 but model.safetensors holds ")
                                + "(bert\\.)?"
                                + java.util.regex.Pattern.quote(
                                        "embeddings.word_embeddings.weight of shape (30522, 32) (the config "
                                                + "makes it (30522, 4096)). Use the config.json saved with these weights (save_pretrained writes "
                                                + "both)")),
                e.getMessage());
    }

    @Test
    void aConfigAskingForPetabytesFailsBeforeAnyAllocation() throws Exception {
        // 512 TiB of float32: no allocator says yes
        Path dir = tinyWithConfig(
                "huge", c -> c.put("vocab_size", Integer.MAX_VALUE).put("hidden_size", 65536));

        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> HfModel.fromPretrained(dir, Task.BASE).close());
        assertTrue(
                e.getMessage().contains("config.json says vocab_size 2147483647 but model.safetensors holds "),
                e.getMessage());
        assertTrue(
                e.getMessage()
                        .contains("embeddings.word_embeddings.weight of shape (30522, 32) (the config makes "
                                + "it (2147483647, 65536))"),
                e.getMessage());
    }

    @Test
    void parametersBeyondTheMachinesMemoryAreRefusedOneByOne() {
        var limit = StateDict.sizeLimit(Path.of("/m/config.json"), 1L << 30);
        limit.accept("bert.embeddings.word_embeddings.weight", new ai.djl.ndarray.types.Shape(30522, 4096));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> limit.accept("classifier.weight", new ai.djl.ndarray.types.Shape(100_000, 4096)));
        assertEquals(
                Path.of("/m/config.json") + " makes a model of more than 2.0 GiB of float32 parameters (reached at "
                        + "classifier.weight of shape (100000, 4096)), more than this machine's 1.0 GiB of physical memory: "
                        + "check the sizes in config.json (vocab_size, hidden_size, intermediate_size, num_hidden_layers, "
                        + "num_labels)",
                e.getMessage());
        assertTrue(StateDict.physicalMemory() > (1L << 28), "the OS's figure, not the heap's");
    }
}
