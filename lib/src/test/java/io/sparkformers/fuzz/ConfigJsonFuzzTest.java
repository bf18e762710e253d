package io.sparkformers.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.bert.BertConfig;
import io.sparkformers.nn.distilbert.DistilBertConfig;
import io.sparkformers.nn.vision.cnn.CnnConfig;
import io.sparkformers.nn.vision.vit.ViTConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/**
 * Fuzzes {@code config.json}: the file read as the checkpoint loaders read it ({@link Json#readObject}), then given to
 * each model family's reader. A config that is accepted must also survive a save and a reload unchanged.
 */
class ConfigJsonFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void configJson(byte[] bytes) throws Exception {
        Path file = Outcomes.write("", "config.json", bytes);
        ObjectNode[] json = new ObjectNode[1];
        Outcomes.onlyClearErrors(file.toString(), List.of(IOException.class), () -> json[0] = Json.readObject(file));
        if (json[0] == null) return;
        roundTrips(json[0], BertConfig::fromJson, BertConfig::toJson);
        roundTrips(json[0], DistilBertConfig::fromJson, DistilBertConfig::toJson);
        roundTrips(json[0], ViTConfig::fromJson, ViTConfig::toJson);
        roundTrips(json[0], CnnConfig::fromJson, CnnConfig::toJson);
    }

    private static <C> void roundTrips(ObjectNode json, Function<ObjectNode, C> read, Function<C, ObjectNode> write)
            throws Exception {
        Outcomes.onlyClearErrors("", List.of(IllegalArgumentException.class), () -> {
            C config = read.apply(json);
            assertEquals(config, read.apply(write.apply(config)), "config.json does not survive save and reload");
        });
    }
}
