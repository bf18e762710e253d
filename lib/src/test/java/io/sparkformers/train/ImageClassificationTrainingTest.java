package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.nn.vision.VisionModels;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.Tensor;
import io.sparkformers.vision.ImageProcessor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Trainer's image-classification task on tiny ResNet-18s (base width 8) and 32×32 stripe patterns: modes,
 * learning, checkpoints, resume.
 */
class ImageClassificationTrainingTest {

    @TempDir
    Path tmp;

    private static TrainingArguments.Builder args(Path out) {
        return TrainingArguments.builder(out.toString())
                .set("overwrite_output_dir", true)
                .perDeviceTrainBatchSize(6)
                .perDeviceEvalBatchSize(12)
                .learningRate(3e-3)
                .loggingSteps(1)
                .evalStrategy("no")
                .saveStrategy("no")
                .seed(7);
    }

    private static Map<String, byte[]> weights(Path dir) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (SafetensorsCheckpoint w = SafetensorsCheckpoint.open(dir)) {
            for (Map.Entry<String, Tensor> e : w.readAll().entrySet()) {
                java.nio.ByteBuffer b = e.getValue().data().duplicate();
                byte[] a = new byte[b.remaining()];
                b.get(a);
                out.put(e.getKey(), a);
            }
        }
        return out;
    }

    @Test
    void featureExtractionLeavesEveryBaseParameterAndBatchNormBufferBitIdentical() throws IOException {
        Path source = TinyImages.checkpoint(tmp.resolve("source"), "resnet18-torchvision", List.of("a", "b"), 1);
        Path out = tmp.resolve("fe");
        Trainer.TrainOutput r = Trainer.builder(args(out).maxSteps(4).build(), pretrained(source))
                .mode(TransferMode.featureExtraction())
                .build()
                .train(TinyImages.dataset(4, 3, 1), null);
        assertEquals(4, r.globalStep());
        Map<String, byte[]> before = weights(source);
        Map<String, byte[]> after = weights(out);
        assertEquals(before.keySet(), after.keySet());
        List<String> changed = new ArrayList<>();
        for (String k : before.keySet()) if (!Arrays.equals(before.get(k), after.get(k))) changed.add(k);
        // the head is new (3 classes instead of 2) and trained; everything else, buffers included, is untouched
        assertEquals(List.of("fc.bias", "fc.weight"), changed);
        assertTrue(before.containsKey("bn1.num_batches_tracked") && before.containsKey("layer4.1.bn2.running_var"));
        assertEquals(
                8L * 8 * 3 + 3,
                ((Number) r.trainMetrics().get("trainable_parameters")).longValue(),
                "fc of a width-8 ResNet-18: 64 features × 3 classes + 3");
        assertEquals(
                List.of("horizontal", "vertical", "checker"),
                new ArrayList<>(new TreeMap<>(
                                VisionModels.fromPretrained(out, true).model().id2label())
                        .values()));
    }

    @Test
    void featureExtractionOnViTTrainsOnlyTheNewClassifier() throws IOException {
        Path source = tmp.resolve("vit");
        try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager()) {
            TrainStep.seedTorch(2);
            var vit = VisionModels.fromConfig(
                            io.sparkformers.nn.vision.vit.ViTConfig.tiny(2).toJson(), true)
                    .initialize(m);
            VisionModels.savePretrained(vit, TinyImages.processor(), source);
        }
        Path out = tmp.resolve("vit-fe");
        Trainer.builder(args(out).maxSteps(2).build(), pretrained(source))
                .mode(TransferMode.featureExtraction())
                .build()
                .train(TinyImages.dataset(2, 3, 6), null);
        assertEquals(List.of("classifier.bias", "classifier.weight"), differing(weights(source), weights(out)));
    }

    @Test
    void fineTuningLowersTheLossAndTheCheckpointReloadsAndClassifiesIdentically() throws IOException {
        Path out = tmp.resolve("ft");
        List<Double> losses = new ArrayList<>();
        TrainerCallback record = new TrainerCallback() {
            @Override
            public void onLog(TrainingArguments a, TrainerState s, TrainerControl c, Map<String, Object> logs) {
                if (logs.get("loss") instanceof Number n) losses.add(n.doubleValue());
            }
        };
        ImageDataset train = TinyImages.dataset(8, 3, 2);
        ImageDataset eval = TinyImages.dataset(4, 3, 3);
        Trainer.TrainOutput r = Trainer.builder(
                        args(out).numTrainEpochs(3).saveStrategy("epoch").build(), scratch())
                .callback(record)
                .build()
                .train(train, eval);
        assertEquals(12, r.globalStep());
        double first = (losses.get(0) + losses.get(1) + losses.get(2)) / 3;
        double last = (losses.get(9) + losses.get(10) + losses.get(11)) / 3;
        assertTrue(last < first * 0.8, "mean loss of the first 3 steps " + first + ", of the last 3 " + last);

        Map<String, Double> reloaded = Trainer.evaluate(out, eval, 12);
        assertEquals(
                r.evalMetrics().get("eval_loss"),
                reloaded.get("eval_loss"),
                0.0,
                "the reloaded model scores exactly as the trained one");
        assertEquals(r.evalMetrics().get("eval_accuracy"), reloaded.get("eval_accuracy"), 0.0);
        assertEquals(List.of(), differing(weights(out), weights(out.resolve("checkpoint-12"))));
        assertTrue(Files.isRegularFile(out.resolve(ImageProcessor.CONFIG_FILE)));
        for (String f : List.of(
                "trainer_state.json",
                "train_results.json",
                "eval_results.json",
                "provenance.json",
                "training_curves.png",
                "checkpoint-12/optimizer.safetensors",
                "checkpoint-12/scheduler.json")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
    }

    @Test
    void partialTrainsTheHeadAndTheLastBlocksOnly() throws IOException {
        Path source = TinyImages.checkpoint(tmp.resolve("source"), "resnet18-torchvision", TinyImages.CLASSES, 4);
        Path out = tmp.resolve("partial");
        Trainer.builder(args(out).maxSteps(2).build(), pretrained(source))
                .mode(TransferMode.partial(1, List.of()))
                .build()
                .train(TinyImages.dataset(2, 3, 4), null);
        Map<String, byte[]> before = weights(source);
        Map<String, byte[]> after = weights(out);
        Set<String> buffers = Set.of("running_mean", "running_var", "num_batches_tracked");
        for (String k : before.keySet()) {
            boolean buffer = buffers.contains(k.substring(k.lastIndexOf('.') + 1));
            boolean trained = k.startsWith("fc.") || k.startsWith("layer4.1.");
            if (!buffer && !trained) assertArrayEquals(before.get(k), after.get(k), k + " is frozen");
            if (!buffer && trained && k.endsWith("weight")) assertFalse(Arrays.equals(before.get(k), after.get(k)), k);
        }
    }

    @Test
    void resumingFromACheckpointGivesTheWeightsOfTheUninterruptedRun() throws IOException {
        ImageDataset train = TinyImages.dataset(4, 3, 5);
        Path whole = tmp.resolve("whole");
        Trainer.builder(
                        args(whole)
                                .maxSteps(4)
                                .saveStrategy("steps")
                                .saveSteps(2)
                                .build(),
                        scratch())
                .build()
                .train(train, null);
        Path resumed = tmp.resolve("resumed");
        copyTree(whole.resolve("checkpoint-2"), resumed.resolve("checkpoint-2"));
        Trainer.TrainOutput r = Trainer.builder(
                        args(resumed)
                                .maxSteps(4)
                                .saveStrategy("steps")
                                .saveSteps(2)
                                .set("resume_from_checkpoint", "true")
                                .build(),
                        scratch())
                .build()
                .train(train, null);
        assertEquals(4, r.globalStep());
        Map<String, byte[]> expected = weights(whole);
        Map<String, byte[]> actual = weights(resumed);
        List<String> differ = differing(expected, actual);
        assertEquals(
                List.of(),
                differ,
                "weights and BatchNorm buffers that differ after resuming at step 2, with " + "max |diff|: "
                        + maxAbsDiffs(expected, actual, differ));
    }

    /** Max |a - b| of each named float32 tensor (int64 buffers compared as longs), for failure messages. */
    private static Map<String, Double> maxAbsDiffs(Map<String, byte[]> a, Map<String, byte[]> b, List<String> keys) {
        Map<String, Double> out = new java.util.LinkedHashMap<>();
        for (String k : keys) {
            java.nio.ByteBuffer x = java.nio.ByteBuffer.wrap(a.get(k)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            java.nio.ByteBuffer y = java.nio.ByteBuffer.wrap(b.get(k)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            double max = 0;
            if (k.endsWith("num_batches_tracked")) {
                max = Math.abs(x.getLong(0) - y.getLong(0));
            } else {
                for (int i = 0; i + 4 <= a.get(k).length; i += 4)
                    max = Math.max(max, Math.abs(x.getFloat(i) - y.getFloat(i)));
            }
            out.put(k, max);
        }
        return out;
    }

    @Test
    void rejectsFeatureExtractionFromScratchAndMismatchedEvalClasses() throws IOException {
        IllegalArgumentException scratch = assertThrows(
                IllegalArgumentException.class,
                () -> Trainer.builder(args(tmp.resolve("x")).build(), scratch())
                        .mode(TransferMode.featureExtraction())
                        .build());
        assertTrue(
                scratch.getMessage().contains("mode feature_extraction needs pretrained weights"),
                scratch.getMessage());
        Path source = TinyImages.checkpoint(tmp.resolve("source"), "resnet18-torchvision", List.of("a", "b"), 1);
        IllegalArgumentException classes = assertThrows(
                IllegalArgumentException.class,
                () -> Trainer.builder(
                                args(tmp.resolve("y")).evalStrategy("epoch").build(), pretrained(source))
                        .build()
                        .train(TinyImages.dataset(2, 3, 1), TinyImages.dataset(2, 2, 1)));
        assertTrue(
                classes.getMessage().contains("has classes [horizontal, vertical] but the training data"),
                classes.getMessage());
    }

    /** A tiny ResNet-18 trained from scratch on 32×32 images. */
    private static TrainingTask scratch() {
        return TrainingTask.imageClassificationFromScratch(
                io.sparkformers.nn.vision.cnn.CnnConfig.tiny("resnet18-torchvision", 3)
                        .toJson(),
                TinyImages.processor());
    }

    private static TrainingTask pretrained(Path source) {
        return TrainingTask.imageClassification(source, null);
    }

    private static List<String> differing(Map<String, byte[]> a, Map<String, byte[]> b) {
        assertEquals(a.keySet(), b.keySet());
        return a.keySet().stream()
                .filter(k -> !Arrays.equals(a.get(k), b.get(k)))
                .toList();
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (var walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(target);
                else Files.copy(p, target);
            }
        }
    }
}
