package io.sparkformers.nn.vision;

import static io.sparkformers.nn.vision.VisionReferences.array;
import static io.sparkformers.nn.vision.VisionReferences.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.sparkformers.nn.LoadReport;
import io.sparkformers.nn.ParameterNames;
import io.sparkformers.nn.StateDict;
import io.sparkformers.nn.vision.cnn.CnnConfig;
import io.sparkformers.nn.vision.cnn.CnnModel;
import io.sparkformers.safetensors.Tensor;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Logit parity with torchvision (reduced-width VGG16, VGG16-BN, ResNet-18, ResNet-50; seeded weights, eval mode),
 * loaded strictly from safetensors with torchvision's own names, int64 num_batches_tracked included.
 */
class CnnParityTest {

    private NDManager manager;

    @BeforeEach
    void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"vgg16", "vgg16_bn", "resnet18", "resnet50"})
    void logitsAndFeaturesMatchTorchvision(String name) throws IOException {
        CnnModel model = CnnModel.of(CnnConfig.fromJson(VisionReferences.config(name)));
        model.initialize(manager);
        Map<String, Tensor> weights = VisionReferences.weights(name);
        assertEquals(weights.keySet(), ParameterNames.of(model).keySet(), "state-dict keys");
        LoadReport report = StateDict.load(model, weights, StateDict.Options.STRICT);
        assertTrue(report.isExact(), report.describe());

        Map<String, Tensor> ref = VisionReferences.outputs(name);
        NDArray x = array(manager, ref.get("pixel_values"));
        NDArray logits = model.predict(new NDList(x)).head();
        double d = maxAbsDiff(logits, array(manager, ref.get("logits")));
        System.out.printf("%s logits max |diff| = %.3g%n", name, d);
        assertTrue(d <= 1e-4, name + " logits max |diff| = " + d);
        double f = maxAbsDiff(model.predictFeatures(x), array(manager, ref.get("features")));
        assertTrue(f <= 1e-4, name + " features max |diff| = " + f);

        Map<String, Tensor> saved = StateDict.of(model);
        assertEquals(weights, saved, "state_dict() gives back what was loaded, int64 buffers included");
    }
}
