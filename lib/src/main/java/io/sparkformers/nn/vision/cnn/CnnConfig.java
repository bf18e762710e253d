package io.sparkformers.nn.vision.cnn;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.ConfigJson;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A torchvision CNN as a {@code config.json}: the variant and the head, e.g.
 * {@code {"model_type": "resnet18-torchvision", "num_classes": 10}}. torchvision models have no config of their
 * own; this one names what its constructor takes, plus reduced widths for small models and tests.
 *
 * @param modelType            {@code model_type}: one of {@link #SUPPORTED}
 * @param baseWidth            {@code base_width}: channels of the first stage (torchvision 64); VGG scales its
 *                             whole cfg by {@code base_width / 64}, ResNet's stages are 1, 2, 4, 8 × base_width
 * @param classifierHiddenSize {@code classifier_hidden_size}: VGG's two hidden Linear widths (torchvision 4096;
 *                             unused by ResNet)
 * @param dropout              {@code dropout}: VGG classifier dropout probability (torchvision 0.5)
 * @param numChannels          {@code num_channels}: input channels (3)
 * @param imageSize            {@code image_size}: side of the images the weights are allocated for (224); any
 *                             size of at least 32 runs
 * @param id2label             {@code id2label}, or {@code num_classes} (default 1000) unnamed labels
 * @param extra                keys not read here, kept for the round trip
 */
public record CnnConfig(
        String modelType,
        int baseWidth,
        int classifierHiddenSize,
        double dropout,
        int numChannels,
        int imageSize,
        Map<Integer, String> id2label,
        ObjectNode extra) {

    /** {@code model_type} values: torchvision's VGG16, VGG16-BN, ResNet-18 and ResNet-50. */
    public static final List<String> SUPPORTED =
            List.of("vgg16-torchvision", "vgg16_bn-torchvision", "resnet18-torchvision", "resnet50-torchvision");

    public CnnConfig {
        if (modelType == null || !SUPPORTED.contains(modelType)) { // List.of(...).contains(null) throws
            throw new IllegalArgumentException(
                    "unsupported CNN model_type '" + modelType + "' (supported: " + SUPPORTED + ")");
        }
        if (baseWidth <= 0) throw new IllegalArgumentException("base_width must be > 0 but was " + baseWidth);
        if (classifierHiddenSize <= 0) {
            throw new IllegalArgumentException("classifier_hidden_size must be > 0 but was " + classifierHiddenSize);
        }
        if (!(dropout >= 0 && dropout < 1))
            throw new IllegalArgumentException("dropout must be in [0, 1) but was " + dropout);
        if (numChannels <= 0) throw new IllegalArgumentException("num_channels must be > 0 but was " + numChannels);
        if (imageSize < 32) throw new IllegalArgumentException("image_size must be >= 32 but was " + imageSize);
        id2label = ConfigJson.labels(id2label);
        extra = extra == null ? JsonNodeFactory.instance.objectNode() : extra.deepCopy();
    }

    /** torchvision's full-size model of this type with {@code numClasses} outputs. */
    public static CnnConfig of(String modelType, int numClasses) {
        return new CnnConfig(modelType, 64, 4096, 0.5, 3, 224, ConfigJson.defaultLabels(numClasses), null);
    }

    /** Reads config.json; {@code num_classes} or {@code id2label} sizes the head. */
    public static CnnConfig fromJson(JsonNode json) {
        ConfigJson r = ConfigJson.reading(json);
        String type = r.stringOr("model_type", null);
        Integer numClasses = r.intOrNull("num_classes");
        boolean named = json.has("id2label");
        Map<Integer, String> labels = r.id2label();
        if (!named) labels = ConfigJson.defaultLabels(numClasses == null ? 1000 : numClasses);
        if (numClasses != null && labels.size() != numClasses) {
            throw new IllegalArgumentException(
                    "num_classes (" + numClasses + ") disagrees with id2label (" + labels.size() + " labels)");
        }
        return new CnnConfig(
                type,
                r.intOr("base_width", 64),
                r.intOr("classifier_hidden_size", 4096),
                r.doubleOr("dropout", 0.5),
                r.intOr("num_channels", 3),
                r.intOr("image_size", 224),
                labels,
                r.remaining());
    }

    /** config.json as written by {@code save_pretrained}: HF keys, sorted. */
    public ObjectNode toJson() {
        Map<String, Object> known = new LinkedHashMap<>();
        known.put("model_type", modelType);
        known.put("num_classes", numClasses());
        known.put("base_width", baseWidth);
        known.put("classifier_hidden_size", classifierHiddenSize);
        known.put("dropout", dropout);
        known.put("num_channels", numChannels);
        known.put("image_size", imageSize);
        return ConfigJson.write(known, extra, id2label);
    }

    public int numClasses() {
        return id2label.size();
    }

    public boolean isVgg() {
        return isVgg(modelType);
    }

    /** The same model with a new head: transfer learning to other labels. */
    public CnnConfig withLabels(Map<Integer, String> labels) {
        return new CnnConfig(
                modelType, baseWidth, classifierHiddenSize, dropout, numChannels, imageSize, labels, extra);
    }

    /** A reduced-width model for tests: base_width 8, classifier hidden 32, 32×32 images. */
    public static CnnConfig tiny(String modelType, int numClasses) {
        return new CnnConfig(modelType, 8, 32, 0.5, 3, 32, ConfigJson.defaultLabels(numClasses), null);
    }

    private static boolean isVgg(String type) {
        return type != null && type.startsWith("vgg");
    }
}
