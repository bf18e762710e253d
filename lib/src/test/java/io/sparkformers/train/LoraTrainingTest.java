package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import io.sparkformers.nn.lora.LoraConfig;
import io.sparkformers.nn.lora.LoraModel;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA through the one Trainer on the real all-MiniLM-L6-v2: only the adapter and the head train (the base's saved
 * weights are bit-identical to the source's), the loss falls, and the adapter is saved under PEFT's keys.
 */
class LoraTrainingTest {

    @TempDir
    Path tmp;

    @Test
    void loraFitTrainsOnlyTheAdapterAndHeadAndSavesPeftKeys() throws IOException {
        System.setProperty("ai.djl.offline", "true");
        Path base = BuiltinModels.resolve(BuiltinModels.get("all-MiniLM-L6-v2"));
        Path out = tmp.resolve("out");
        TrainingArguments args = TrainingArguments.builder(out.toString())
                .perDeviceTrainBatchSize(8)
                .learningRate(5e-3)
                .numTrainEpochs(2)
                .loggingSteps(1)
                .saveStrategy("no")
                .seed(19)
                .reportTo(List.of("jsonl"))
                .build();
        LoraConfig lora = LoraConfig.of(4, 8, LoraConfig.BERT_TARGETS);
        Trainer.TrainOutput r = Trainer.builder(
                        args,
                        TrainingTask.textClassification(
                                base, Task.SEQUENCE_CLASSIFICATION, null, List.of("neg", "pos"), 32, lora))
                .build()
                .train(TinyBert.sentiment(32, 0), null);

        List<Double> losses = losses(out);
        assertTrue(losses.size() >= 8, "logged losses: " + losses);
        double first = (losses.get(0) + losses.get(1)) / 2;
        double last = (losses.get(losses.size() - 1) + losses.get(losses.size() - 2)) / 2;
        assertTrue(last < first * 0.8, "the loss falls: " + losses);

        Map<String, Tensor> source = weights(base.resolve("model.safetensors"));
        Map<String, Tensor> saved = weights(out.resolve("model.safetensors"));
        Map<String, Tensor> adapter = weights(out.resolve("adapter").resolve(LoraModel.WEIGHTS_FILE));
        int unchanged = 0;
        for (Map.Entry<String, Tensor> e : source.entrySet()) {
            String key = "bert." + e.getKey();
            if (!saved.containsKey(key)) continue;
            String module = key.substring(0, key.lastIndexOf('.'));
            boolean adapted = adapter.containsKey(LoraModel.KEY_PREFIX + module + ".lora_A.weight");
            if (adapted && key.endsWith(".weight")) {
                assertNotEquals(e.getValue().data(), saved.get(key).data(), key + " carries the merged update");
            } else {
                assertEquals(e.getValue().data(), saved.get(key).data(), key + " is frozen: bit-identical");
                unchanged++;
            }
        }
        assertTrue(unchanged > 30, "frozen base tensors compared: " + unchanged);

        // the base under the trained adapter is the source (every frozen tensor compared above); the adapter holds
        // lora_A/lora_B of each of the 36 encoder Linears + bert.pooler.dense, and the classifier
        TreeSet<String> keys = new TreeSet<>(adapter.keySet());
        assertEquals(2 * 37 + 2, keys.size(), keys.toString());
        assertTrue(keys.contains("base_model.model.bert.encoder.layer.5.output.dense.lora_B.weight"), keys.first());
        assertTrue(keys.contains("base_model.model.classifier.weight"));
        for (String k : keys) {
            if (k.endsWith("lora_B.weight")) {
                assertFalse(allZero(adapter.get(k)), k + " trained away from its zero initialisation");
            }
        }
        LoraConfig written = LoraConfig.read(out.resolve("adapter"));
        assertEquals("SEQ_CLS", written.taskType());
        assertEquals(List.of("classifier", "score"), written.modulesToSave());

        // the PEFT adapter loads onto the source base and gives the merged checkpoint's logits
        try (HfModel merged = HfModel.fromPretrained(out, Task.SEQUENCE_CLASSIFICATION);
                HfModel onBase = HfModel.fromPretrained(base, Task.SEQUENCE_CLASSIFICATION)) {
            onBase.block().configJson(); // labels come from the adapter's classifier rows
            LoraModel reloaded = LoraModel.load(onBase.block(), out.resolve("adapter"));
            Map<String, Tensor> a = io.sparkformers.nn.StateDict.of(merged.block());
            Map<String, Tensor> b = reloaded.mergedState();
            for (String k : a.keySet()) {
                if (k.startsWith("bert.pooler")) continue; // newly initialised in each, then adapted
                assertArrayEquals(a.get(k).toFloatArray(), b.get(k).toFloatArray(), 1e-6f, k);
            }
        }
        Map<String, Object> trainable = r.trainMetrics();
        System.out.println("LoRA fit: train metrics " + trainable + ", losses " + losses);
    }

    private static boolean allZero(Tensor t) {
        for (float v : t.toFloatArray()) if (v != 0f) return false;
        return true;
    }

    private static Map<String, Tensor> weights(Path file) throws IOException {
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(file)) {
            return c.readAll();
        }
    }

    private static List<Double> losses(Path out) throws IOException {
        List<Double> l = new ArrayList<>();
        var state = io.sparkformers.hub.Json.readObject(out.resolve("trainer_state.json"));
        for (var e : state.path("log_history"))
            if (e.has("loss")) l.add(e.get("loss").asDouble());
        return l;
    }
}
