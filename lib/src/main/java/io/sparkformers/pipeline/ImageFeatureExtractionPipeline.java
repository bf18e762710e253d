package io.sparkformers.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.sparkformers.nn.vision.VisionModel;
import io.sparkformers.nn.vision.VisionModels;
import io.sparkformers.nn.vision.vit.ViTPreTrainedModel;
import io.sparkformers.vision.ImageDecoder;
import io.sparkformers.vision.ImageProcessor;
import io.sparkformers.vision.RgbImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * HF {@code pipeline("image-feature-extraction")}: per image either the whole last_hidden_state (ViT, HF's default
 * output: (1 + N) rows of D) or one pooled vector ({@code pool=True}: ViT's pooler_output, or the [CLS] row
 * without a pooler; CNNs: the penultimate layer — VGG's classifier[5], ResNet's pooled layer4).
 */
public final class ImageFeatureExtractionPipeline extends VisionPipeline {

    public ImageFeatureExtractionPipeline(VisionModel model, ImageProcessor processor, NDManager manager) {
        this(model, processor, manager, null);
    }

    private ImageFeatureExtractionPipeline(
            VisionModel model, ImageProcessor processor, NDManager manager, AutoCloseable owner) {
        super(model, processor, manager, owner);
    }

    /** Loads a checkpoint folder as its base model (ViTModel with pooler; CNNs as they are). */
    public static ImageFeatureExtractionPipeline fromPretrained(Path dir) throws IOException {
        VisionModels.Loaded m = VisionModels.fromPretrained(dir, false);
        return new ImageFeatureExtractionPipeline(m.model(), m.processor(), m.manager(), m);
    }

    /** One pooled feature vector (D) per image. */
    public List<float[]> pooled(List<RgbImage> images) {
        List<float[]> out = new ArrayList<>();
        try (NDManager scope = manager.newSubManager()) {
            NDArray f = model.predictFeatures(processor.pixelValues(scope, images)); // (B, D)
            for (int b = 0; b < images.size(); b++) out.add(f.get(b).toFloatArray());
        }
        return out;
    }

    /** ViT only: last_hidden_state per image as (1 + N) rows of D, HF's default output. */
    public List<float[][]> lastHiddenState(List<RgbImage> images) {
        if (!(model instanceof ViTPreTrainedModel vit)) {
            throw new IllegalArgumentException(
                    "last_hidden_state is a ViT output; for " + model.getClass().getSimpleName() + " use pooled()");
        }
        List<float[][]> out = new ArrayList<>();
        try (NDManager scope = manager.newSubManager()) {
            NDArray h = vit.vit()
                    .predict(new NDList(processor.pixelValues(scope, images)))
                    .head(); // (B, T, D)
            int t = Math.toIntExact(h.getShape().get(1));
            for (int b = 0; b < images.size(); b++) {
                float[][] rows = new float[t][];
                for (int i = 0; i < t; i++) rows[i] = h.get(b, i).toFloatArray();
                out.add(rows);
            }
        }
        return out;
    }

    /** Pooled features of an image file. */
    public float[] pooled(Path file) {
        return pooled(List.of(ImageDecoder.decode(file))).get(0);
    }
}
