package io.sparkformers.nn.vision;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.LoadReport;
import io.sparkformers.nn.StateDict;
import io.sparkformers.nn.vision.cnn.CnnConfig;
import io.sparkformers.nn.vision.cnn.CnnModel;
import io.sparkformers.nn.vision.vit.ViTConfig;
import io.sparkformers.nn.vision.vit.ViTForImageClassification;
import io.sparkformers.nn.vision.vit.ViTModel;
import io.sparkformers.runtime.GemmPath;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.SafetensorsWriter;
import io.sparkformers.vision.ImageProcessor;
import io.sparkformers.vision.ImageProcessorConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code AutoModelForImageClassification} / {@code AutoModel} for images: a checkpoint folder ({@code config.json},
 * {@code model.safetensors}, optional {@code preprocessor_config.json}) → an initialised, loaded
 * {@link VisionModel} plus its image processor. {@code model_type} "vit" is HF ViT; the torchvision CNNs are named
 * in {@link CnnConfig#SUPPORTED}.
 * <pre>{@code
 * try (VisionModels.Loaded m = VisionModels.fromPretrained(dir, true)) {
 *     NDArray pixels = m.processor().pixelValues(scope, List.of(ImageDecoder.decode(file)));
 *     NDArray logits = m.model().predict(new NDList(pixels)).head();
 * }
 * }</pre>
 */
public final class VisionModels {

    /** {@code model_type} values understood here. */
    public static final List<String> SUPPORTED_MODEL_TYPES;

    static {
        List<String> all = new ArrayList<>(List.of("vit"));
        all.addAll(CnnConfig.SUPPORTED);
        SUPPORTED_MODEL_TYPES = List.copyOf(all);
    }

    private VisionModels() {}

    /**
     * The (uninitialised) model a config describes: with a classification head, or the bare feature extractor
     * (ViTModel with pooler; CNNs always carry their classifier, whose penultimate layer gives the features).
     */
    public static VisionModel fromConfig(JsonNode config, boolean classification) {
        String type = config.path("model_type").asText(null);
        if ("vit".equals(type)) {
            ViTConfig c = ViTConfig.fromJson(config);
            return classification ? new ViTForImageClassification(c) : new ViTModel(c, true);
        }
        if (CnnConfig.SUPPORTED.contains(type)) return CnnModel.of(CnnConfig.fromJson(config));
        throw new IllegalArgumentException(
                "unsupported image model_type '" + type + "' (supported: " + SUPPORTED_MODEL_TYPES + ")");
    }

    /** The processor a model type expects when a checkpoint has no preprocessor_config.json. */
    public static ImageProcessorConfig defaultProcessor(VisionModel model) {
        if (model instanceof CnnModel) return ImageProcessorConfig.imagenet();
        int s = model.imageSize();
        ImageProcessorConfig v = ImageProcessorConfig.vitDefaults();
        return new ImageProcessorConfig(
                true, s, s, 0, v.resample(), false, 0, 0, true, v.rescaleFactor(), true, v.imageMean(), v.imageStd());
    }

    /** A loaded model, its processor, what the load did, and the manager owning the weights. */
    public record Loaded(
            VisionModel model, ImageProcessor processor, LoadReport loadReport, NDManager manager, ObjectNode config)
            implements AutoCloseable {
        @Override
        public void close() {
            manager.close();
        }
    }

    /** Loads a checkpoint folder on the CPU with HF {@code from_pretrained} semantics. */
    public static Loaded fromPretrained(Path dir, boolean classification) throws IOException {
        return fromPretrained(dir, classification, Device.cpu(), StateDict.Options.HF);
    }

    /**
     * Loads a checkpoint folder. For transfer learning to another label set, edit the config first (or load with
     * {@code ignoreMismatchedSizes}) and the new head keeps its fresh initialisation, as HF's
     * {@code ignore_mismatched_sizes=True}.
     */
    public static Loaded fromPretrained(Path dir, boolean classification, Device device, StateDict.Options options)
            throws IOException {
        Path configFile = dir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) {
            throw new IOException(dir + " has no config.json: not a checkpoint folder (expected config.json and "
                    + "model.safetensors, as save_pretrained writes them)");
        }
        ObjectNode config = Json.readObject(configFile);
        VisionModel model = fromConfig(config, classification);
        ImageProcessor processor = ImageProcessor.fromDir(dir, defaultProcessor(model));
        GemmPath.apply(); // before the first GEMM: MKL's fast path on AMD
        NDManager manager = NDManager.newBaseManager(device);
        try (SafetensorsCheckpoint weights = SafetensorsCheckpoint.open(dir)) {
            model.initialize(manager);
            LoadReport report = StateDict.load(model, weights.readAll(), options);
            return new Loaded(model, processor, report, manager, config);
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** Writes config.json, model.safetensors (torchvision / HF names) and preprocessor_config.json. */
    public static void savePretrained(VisionModel model, ImageProcessorConfig processor, Path dir) throws IOException {
        Files.createDirectories(dir);
        ObjectNode config = model.configJson();
        config.putArray("architectures").add(model.getClass().getSimpleName());
        Json.write(dir.resolve("config.json"), config);
        SafetensorsWriter.write(dir.resolve("model.safetensors"), StateDict.of(model), Map.of("format", "pt"));
        Json.write(dir.resolve(ImageProcessor.CONFIG_FILE), processor.toJson());
    }
}
