package io.sparkformers.vision;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import java.util.List;

/**
 * HF image processor settings ({@code preprocessor_config.json} of {@code ViTImageProcessor},
 * {@code ConvNextImageProcessor}, {@code BitImageProcessor}, …), applied in HF's order: resize, center crop,
 * rescale, normalize. Output channels first (HF {@code data_format="channels_first"}).
 *
 * @param doResize       {@code do_resize} (default true)
 * @param height         {@code size.height}: fixed output height, or 0 when resizing by the shortest edge
 * @param width          {@code size.width}: fixed output width, or 0 when resizing by the shortest edge
 * @param shortestEdge   {@code size.shortest_edge}: the short side becomes this, aspect kept (long side truncated
 *                       as HF and torchvision do), or 0 for a fixed size
 * @param resample       {@code resample}: PIL filter code, 0 nearest, 2 bilinear (HF ViT default), 3 bicubic
 * @param doCenterCrop   {@code do_center_crop} (default false)
 * @param cropHeight     {@code crop_size.height}
 * @param cropWidth      {@code crop_size.width}
 * @param doRescale      {@code do_rescale} (default true)
 * @param rescaleFactor  {@code rescale_factor} (default 1/255)
 * @param doNormalize    {@code do_normalize} (default true)
 * @param imageMean      {@code image_mean} per channel (HF ViT default 0.5, 0.5, 0.5)
 * @param imageStd       {@code image_std} per channel (HF ViT default 0.5, 0.5, 0.5)
 */
public record ImageProcessorConfig(
        boolean doResize,
        int height,
        int width,
        int shortestEdge,
        int resample,
        boolean doCenterCrop,
        int cropHeight,
        int cropWidth,
        boolean doRescale,
        double rescaleFactor,
        boolean doNormalize,
        float[] imageMean,
        float[] imageStd) {

    /** Supported {@code resample} codes (PIL): nearest, bilinear, bicubic. */
    public static final List<Integer> RESAMPLE = List.of(0, 2, 3);

    /** Largest {@code size} / {@code crop_size} side accepted, in pixels; their area is bounded by
     * {@link ImageDecoder#MAX_PIXELS} too. */
    public static final int MAX_SIDE = 16_384;

    public static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    public static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

    public ImageProcessorConfig {
        if (doResize
                && !((height > 0 && width > 0 && shortestEdge == 0)
                        || (height == 0 && width == 0 && shortestEdge > 0))) {
            throw new IllegalArgumentException(
                    "size must be {height, width} or {shortest_edge} with positive values, got " + "height=" + height
                            + " width=" + width + " shortest_edge=" + shortestEdge);
        }
        checkArea("size", height, width);
        checkArea("size.shortest_edge", shortestEdge, shortestEdge);
        checkArea("crop_size", cropHeight, cropWidth);
        if (!RESAMPLE.contains(resample)) {
            throw new IllegalArgumentException(
                    "unsupported resample " + resample + " (supported: 0 nearest, 2 bilinear, " + "3 bicubic)");
        }
        if (doCenterCrop && (cropHeight <= 0 || cropWidth <= 0)) {
            throw new IllegalArgumentException("crop_size must be positive but was " + cropHeight + "x" + cropWidth);
        }
        if (doNormalize && (imageMean == null || imageStd == null || imageMean.length != 3 || imageStd.length != 3)) {
            throw new IllegalArgumentException("image_mean and image_std need 3 values each, got "
                    + Arrays.toString(imageMean) + " and " + Arrays.toString(imageStd));
        }
        if (doNormalize) {
            for (float s : imageStd)
                if (!(s > 0)) throw new IllegalArgumentException("image_std must be > 0: " + Arrays.toString(imageStd));
        }
        imageMean = imageMean == null ? null : imageMean.clone();
        imageStd = imageStd == null ? null : imageStd.clone();
    }

    private static void checkArea(String key, int height, int width) {
        if (height > MAX_SIDE || width > MAX_SIDE || (long) height * width > ImageDecoder.MAX_PIXELS) {
            throw new IllegalArgumentException(key + " " + height + "x" + width + " is beyond the limits of " + MAX_SIDE
                    + " pixels a side (ImageProcessorConfig.MAX_SIDE) and " + ImageDecoder.MAX_PIXELS
                    + " pixels in all (ImageDecoder.MAX_PIXELS)");
        }
    }

    /** HF {@code ViTImageProcessor()} defaults: 224×224 bilinear, rescale 1/255, mean = std = 0.5. */
    public static ImageProcessorConfig vitDefaults() {
        return new ImageProcessorConfig(
                true, 224, 224, 0, 2, false, 0, 0, true, 1 / 255.0, true, new float[] {0.5f, 0.5f, 0.5f}, new float[] {
                    0.5f, 0.5f, 0.5f
                });
    }

    /**
     * torchvision's ImageNet evaluation transform: {@code Resize(256)} (shortest edge, bilinear),
     * {@code CenterCrop(224)}, {@code ToTensor()}, {@code Normalize(IMAGENET_MEAN, IMAGENET_STD)}.
     */
    public static ImageProcessorConfig imagenet() {
        return new ImageProcessorConfig(
                true, 0, 0, 256, 2, true, 224, 224, true, 1 / 255.0, true, IMAGENET_MEAN, IMAGENET_STD);
    }

    /** Reads {@code preprocessor_config.json}; missing keys take HF's ViTImageProcessor defaults. */
    public static ImageProcessorConfig fromJson(JsonNode json) {
        ImageProcessorConfig d = vitDefaults();
        int h = d.height, w = d.width, shortest = 0;
        JsonNode size = json.get("size");
        if (size != null && size.isInt()) { // old HF configs: size = 224 means 224×224
            h = size.intValue();
            w = size.intValue();
        } else if (size != null && size.isObject()) {
            if (size.has("shortest_edge")) {
                shortest = size.get("shortest_edge").intValue();
                h = 0;
                w = 0;
            } else {
                h = size.path("height").asInt(0);
                w = size.path("width").asInt(0);
            }
        } else if (size != null) {
            throw new IllegalArgumentException(
                    "preprocessor_config size must be an integer or an object but is " + size);
        }
        int ch = 0, cw = 0;
        JsonNode crop = json.get("crop_size");
        if (crop != null && crop.isInt()) {
            ch = crop.intValue();
            cw = crop.intValue();
        } else if (crop != null && crop.isObject()) {
            ch = crop.path("height").asInt(0);
            cw = crop.path("width").asInt(0);
        }
        return new ImageProcessorConfig(
                json.path("do_resize").asBoolean(true),
                h,
                w,
                shortest,
                json.path("resample").asInt(d.resample),
                json.path("do_center_crop").asBoolean(false),
                ch,
                cw,
                json.path("do_rescale").asBoolean(true),
                json.path("rescale_factor").asDouble(d.rescaleFactor),
                json.path("do_normalize").asBoolean(true),
                floats(json.get("image_mean"), d.imageMean),
                floats(json.get("image_std"), d.imageStd));
    }

    /** preprocessor_config.json as HF writes it (ViTImageProcessor when no crop, else ConvNext-style). */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("image_processor_type", doCenterCrop ? "BitImageProcessor" : "ViTImageProcessor");
        o.put("do_resize", doResize);
        ObjectNode size = o.putObject("size");
        if (shortestEdge > 0) {
            size.put("shortest_edge", shortestEdge);
        } else {
            size.put("height", height);
            size.put("width", width);
        }
        o.put("resample", resample);
        o.put("do_center_crop", doCenterCrop);
        if (doCenterCrop) o.putObject("crop_size").put("height", cropHeight).put("width", cropWidth);
        o.put("do_rescale", doRescale);
        o.put("rescale_factor", rescaleFactor);
        o.put("do_normalize", doNormalize);
        if (imageMean != null)
            for (float v : imageMean) o.withArray("image_mean").add(v);
        if (imageStd != null) for (float v : imageStd) o.withArray("image_std").add(v);
        return o;
    }

    /** A copy of {@code image_mean}. */
    @Override
    public float[] imageMean() {
        return imageMean == null ? null : imageMean.clone();
    }

    /** A copy of {@code image_std}. */
    @Override
    public float[] imageStd() {
        return imageStd == null ? null : imageStd.clone();
    }

    float meanOf(int c) {
        return imageMean[c];
    }

    float stdOf(int c) {
        return imageStd[c];
    }

    private static float[] floats(JsonNode n, float[] dflt) {
        if (n == null || n.isNull()) return dflt;
        if (n.isNumber()) return new float[] {n.floatValue(), n.floatValue(), n.floatValue()};
        if (!n.isArray())
            throw new IllegalArgumentException("image_mean/image_std must be a list of numbers but is " + n);
        float[] out = new float[n.size()];
        for (int i = 0; i < out.length; i++) out[i] = (float) n.get(i).asDouble();
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImageProcessorConfig c && toJson().equals(c.toJson());
    }

    @Override
    public int hashCode() {
        return toJson().hashCode();
    }

    @Override
    public String toString() {
        return "ImageProcessorConfig" + toJson();
    }
}
