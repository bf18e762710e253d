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
import io.sparkformers.nn.vision.vit.ViTConfig;
import io.sparkformers.nn.vision.vit.ViTForImageClassification;
import io.sparkformers.nn.vision.vit.ViTModel;
import io.sparkformers.safetensors.Tensor;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * HF ViT against torchvision's VisionTransformer (tiny: 32×32, patch 8, width 32, 2 layers), its state dict mapped
 * to HF names by the generator script; and HF's interpolate_pos_encoding at 48×48.
 */
class ViTParityTest {

    private NDManager manager;
    private Map<String, Tensor> ref;
    private ViTForImageClassification model;

    @BeforeEach
    void open() throws IOException {
        manager = NDManager.newBaseManager();
        ref = VisionReferences.outputs("vit");
        model = new ViTForImageClassification(ViTConfig.fromJson(VisionReferences.config("vit")));
        model.initialize(manager);
        Map<String, Tensor> weights = VisionReferences.weights("vit");
        assertEquals(weights.keySet(), ParameterNames.of(model).keySet(), "HF ViTForImageClassification keys");
        LoadReport report = StateDict.load(model, weights, StateDict.Options.STRICT);
        assertTrue(report.isExact(), report.describe());
    }

    @AfterEach
    void close() {
        manager.close();
    }

    private void assertClose(NDArray actual, String refName) {
        double d = maxAbsDiff(actual, array(manager, ref.get(refName)));
        System.out.printf("vit %s max |diff| = %.3g%n", refName, d);
        assertTrue(d <= 1e-4, refName + " max |diff| = " + d);
    }

    @Test
    void logitsMatchTorchvisionVisionTransformer() {
        assertClose(
                model.predict(new NDList(array(manager, ref.get("pixel_values"))))
                        .head(),
                "logits");
    }

    @Test
    void baseModelGivesTorchvisionEncoderOutput() throws IOException {
        ViTModel base = new ViTModel(model.config(), false);
        base.initialize(manager);
        LoadReport r = StateDict.load(base, VisionReferences.weights("vit"));
        assertEquals(java.util.Set.of("classifier.weight", "classifier.bias"), java.util.Set.copyOf(r.unexpected()));
        assertTrue(r.missing().isEmpty(), r.describe());
        assertClose(
                base.predict(new NDList(array(manager, ref.get("pixel_values"))))
                        .head(),
                "last_hidden_state");
    }

    @Test
    void otherImageSizeInterpolatesPositionsAsHf() {
        NDList in = new NDList(array(manager, ref.get("pixel_values_48")));
        assertClose(model.predict(in).head(), "logits_48");
        assertClose(model.vit().predict(in).head(), "last_hidden_state_48");
    }
}
