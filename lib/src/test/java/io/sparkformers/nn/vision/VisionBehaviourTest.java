package io.sparkformers.nn.vision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.sparkformers.nn.ConfigJson;
import io.sparkformers.nn.LoadReport;
import io.sparkformers.nn.ParameterNames;
import io.sparkformers.nn.StateDict;
import io.sparkformers.nn.vision.cnn.CnnConfig;
import io.sparkformers.nn.vision.cnn.CnnModel;
import io.sparkformers.nn.vision.vit.ViTConfig;
import io.sparkformers.nn.vision.vit.ViTForImageClassification;
import io.sparkformers.pipeline.ImageClassificationPipeline;
import io.sparkformers.pipeline.ImageFeatureExtractionPipeline;
import io.sparkformers.vision.ImageProcessorConfig;
import io.sparkformers.vision.RgbImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** BatchNorm state, freezing, transfer to new labels, save/load, pipelines, config errors. */
class VisionBehaviourTest {

    private NDManager manager;

    @BeforeEach
    void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    @Test
    void batchNormTrainingUpdatesRunningStatsWithMomentumPointOne() {
        BatchNorm2d bn = new BatchNorm2d(2);
        bn.initialize(manager, ai.djl.ndarray.types.DataType.FLOAT32, new Shape(1, 2, 2, 2));
        NDArray x = manager.arange(16f).reshape(2, 2, 2, 2); // channel 0: 0..3, 8..11; channel 1: +4
        bn.forward(new ParameterStore(manager, false), new NDList(x), true);
        var p = ParameterNames.of(bn);
        float[] mean = p.get("running_mean").parameter().getArray().toFloatArray();
        float[] var = p.get("running_var").parameter().getArray().toFloatArray();
        assertEquals(0.1f * 5.5f, mean[0], 1e-5); // 0.9 * 0 + 0.1 * batch mean
        assertEquals(0.9f * 1 + 0.1f * 138f / 7f, var[0], 1e-5); // unbiased batch variance
        assertEquals(1L, p.get("num_batches_tracked").parameter().getArray().getLong());
        bn.forward(new ParameterStore(manager, false), new NDList(x), false);
        assertEquals(1L, p.get("num_batches_tracked").parameter().getArray().getLong(), "eval does not count");
    }

    @Test
    void featureExtractionTrainsOnlyTheHeadAndBuffersNeverTrain() {
        CnnModel m = CnnModel.of(CnnConfig.tiny("resnet18-torchvision", 3));
        m.initialize(manager);
        assertEquals(Set.of("fc.weight", "fc.bias"), m.parametersToTrain(0));
        assertTrue(m.trainableParameterNames().stream()
                .noneMatch(n -> n.contains("running_") || n.contains("num_batches")));
        Set<String> last2 = m.parametersToTrain(2);
        assertTrue(
                last2.contains("layer4.1.conv2.weight") && last2.contains("layer4.0.downsample.1.weight"),
                last2.toString());
        assertFalse(last2.contains("layer3.1.conv1.weight"));
        assertEquals(
                Set.copyOf(m.trainableParameterNames()),
                m.parametersToTrain(m.featureBlocks().size()));
        m.freezeAllButLast(0);
        var names = ParameterNames.of(m);
        assertFalse(names.get("conv1.weight").parameter().requiresGradient());
        assertTrue(names.get("fc.weight").parameter().requiresGradient());
        assertEquals(9, m.featureBlocks().size(), "stem + 8 residual blocks");
    }

    @Test
    void vitBlocksAreEmbeddingsLayersAndFinalNorm() {
        ViTForImageClassification m = new ViTForImageClassification(ViTConfig.tiny(4));
        m.initialize(manager);
        assertEquals(
                List.of(
                        List.of("vit.embeddings."),
                        List.of("vit.encoder.layer.0."),
                        List.of("vit.encoder.layer.1."),
                        List.of("vit.layernorm.")),
                m.featureBlocks());
        Set<String> all = Set.copyOf(m.trainableParameterNames());
        assertEquals(all, m.parametersToTrain(99));
        assertTrue(m.parametersToTrain(1).containsAll(Set.of("vit.layernorm.weight", "classifier.weight")));
    }

    @Test
    void newHeadForOtherLabelsKeepsTheFeatureExtractor() throws Exception {
        CnnConfig src = CnnConfig.fromJson(VisionReferences.config("vgg16_bn"));
        CnnModel m = CnnModel.of(src.withLabels(ConfigJson.labels(Map.of(0, "cat", 1, "dog", 2, "bird"))));
        m.initialize(manager);
        LoadReport r = StateDict.load(m, VisionReferences.weights("vgg16_bn"), new StateDict.Options(false, true));
        assertEquals(Set.of("classifier.6.weight", "classifier.6.bias"), Set.copyOf(r.newlyInitialized()));
        NDArray x = VisionReferences.array(
                manager, VisionReferences.outputs("vgg16_bn").get("pixel_values"));
        assertEquals(new Shape(2, 3), m.predict(new NDList(x)).head().getShape());
        double d = VisionReferences.maxAbsDiff(
                m.predictFeatures(x),
                VisionReferences.array(
                        manager, VisionReferences.outputs("vgg16_bn").get("features")));
        assertTrue(d <= 1e-4, "features unchanged by the new head: max |diff| = " + d);
    }

    @Test
    void savedCheckpointLoadsBackAndClassifiesThroughThePipeline(@TempDir Path dir) throws Exception {
        try (VisionModels.Loaded ref = VisionModels.fromPretrained(VisionReferences.dir("vit"), true)) {
            assertTrue(ref.loadReport().isExact(), ref.loadReport().describe());
            ImageProcessorConfig pc = new ImageProcessorConfig(
                    true,
                    32,
                    32,
                    0,
                    2,
                    false,
                    0,
                    0,
                    true,
                    1 / 255.0,
                    true,
                    ImageProcessorConfig.IMAGENET_MEAN,
                    ImageProcessorConfig.IMAGENET_STD);
            VisionModels.savePretrained(ref.model(), pc, dir);
        }
        RgbImage img = new RgbImage(40, 40, new byte[40 * 40 * 3]);
        try (ImageClassificationPipeline p = ImageClassificationPipeline.fromPretrained(dir)) {
            List<ImageClassificationPipeline.Prediction> top =
                    p.classify(List.of(img), 3).get(0);
            assertEquals(3, top.size());
            assertTrue(top.get(0).score() >= top.get(1).score()
                    && top.get(1).score() >= top.get(2).score());
            assertTrue(
                    Set.of(
                                    "t-shirt",
                                    "trouser",
                                    "pullover",
                                    "dress",
                                    "coat",
                                    "sandal",
                                    "shirt",
                                    "sneaker",
                                    "bag",
                                    "ankle-boot")
                            .contains(top.get(0).label()),
                    top.toString());
            assertEquals(10, p.classify(List.of(img), 50).get(0).size(), "top_k is capped at the label count");
        }
        try (ImageFeatureExtractionPipeline f = ImageFeatureExtractionPipeline.fromPretrained(dir)) {
            assertEquals(32, f.pooled(List.of(img)).get(0).length);
            assertEquals(17, f.lastHiddenState(List.of(img)).get(0).length);
        }
    }

    @Test
    void unsupportedConfigsFailNamingTheChoices() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> VisionModels.fromConfig(
                        io.sparkformers.hub.Json.MAPPER.createObjectNode().put("model_type", "resnet34"), true));
        assertTrue(
                e.getMessage()
                        .startsWith("unsupported image model_type 'resnet34' (supported: [vit, vgg16-torchvision"),
                e.getMessage());
        IllegalArgumentException p = assertThrows(
                IllegalArgumentException.class,
                () -> new ViTConfig(
                        30, 8, 3, 32, 2, 2, 64, "gelu", 0, 0, 0.02, 1e-12, true, ConfigJson.defaultLabels(2), null));
        assertEquals("image_size (30) is not a multiple of patch_size (8)", p.getMessage());
    }
}
