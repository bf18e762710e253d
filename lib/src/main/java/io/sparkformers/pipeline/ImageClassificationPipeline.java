package io.sparkformers.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.sparkformers.nn.vision.VisionModel;
import io.sparkformers.nn.vision.VisionModels;
import io.sparkformers.vision.ImageDecoder;
import io.sparkformers.vision.ImageProcessor;
import io.sparkformers.vision.RgbImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * HF {@code pipeline("image-classification")}: decode → preprocess → logits → softmax → the {@code top_k} labels
 * with their scores (HF's {@code [{"label", "score"}]}, best first; {@code top_k} default 5, capped at the number of
 * labels, as HF). Undecodable input fails with an {@code ImageDecodeException} naming it.
 */
public final class ImageClassificationPipeline extends VisionPipeline {

    /** One prediction: HF's {@code {"label": ..., "score": ...}}. */
    public record Prediction(String label, double score) {}

    /** Over a model and processor the caller owns (closing the pipeline does not close them). */
    public ImageClassificationPipeline(VisionModel model, ImageProcessor processor, NDManager manager) {
        this(model, processor, manager, null);
    }

    private ImageClassificationPipeline(
            VisionModel model, ImageProcessor processor, NDManager manager, AutoCloseable owner) {
        super(withHead(model), processor, manager, owner);
    }

    private static VisionModel withHead(VisionModel model) {
        if (model.id2label().isEmpty() || model.headParameterNames().isEmpty()) {
            throw new IllegalArgumentException("image-classification needs a model with a classification head, got "
                    + model.getClass().getSimpleName());
        }
        return model;
    }

    /** Loads a checkpoint folder (config.json, model.safetensors, optional preprocessor_config.json). */
    public static ImageClassificationPipeline fromPretrained(Path dir) throws IOException {
        VisionModels.Loaded m = VisionModels.fromPretrained(dir, true);
        return new ImageClassificationPipeline(m.model(), m.processor(), m.manager(), m);
    }

    /** Classifies image files. */
    public List<List<Prediction>> classifyFiles(List<Path> files, int topK) {
        return classify(files.stream().map(ImageDecoder::decode).toList(), topK);
    }

    /** Classifies encoded images (JPEG/PNG bytes); {@code source} names them in errors. */
    public List<Prediction> classify(byte[] encoded, String source, int topK) {
        return classify(List.of(ImageDecoder.decode(encoded, source)), topK).get(0);
    }

    /** Classifies decoded images, one batch. */
    public List<List<Prediction>> classify(List<RgbImage> images, int topK) {
        if (topK <= 0) throw new IllegalArgumentException("top_k must be > 0, got " + topK);
        Map<Integer, String> labels = model.id2label();
        List<List<Prediction>> out = new ArrayList<>();
        try (NDManager scope = manager.newSubManager()) {
            NDArray logits = model.predict(new NDList(processor.pixelValues(scope, images)))
                    .head(); // (B, C)
            float[] probs = logits.softmax(-1).toFloatArray();
            int c = labels.size();
            for (int b = 0; b < images.size(); b++) {
                float[] row = Arrays.copyOfRange(probs, b * c, (b + 1) * c);
                Integer[] order = new Integer[c];
                for (int i = 0; i < c; i++) order[i] = i;
                Arrays.sort(order, (x, y) -> row[x] != row[y] ? Float.compare(row[y], row[x]) : Integer.compare(x, y));
                List<Prediction> top = new ArrayList<>();
                for (int k = 0; k < Math.min(topK, c); k++)
                    top.add(new Prediction(labels.get(order[k]), row[order[k]]));
                out.add(top);
            }
        }
        return out;
    }
}
