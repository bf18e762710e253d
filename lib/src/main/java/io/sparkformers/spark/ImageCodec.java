package io.sparkformers.spark;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.sparkformers.nn.ComputeDtype;
import io.sparkformers.nn.vision.VisionModels;
import io.sparkformers.spark.ImageStage.ImageScorer;
import io.sparkformers.spark.TokenBudgetBatcher.Scored;
import io.sparkformers.spark.TokenBudgetBatcher.Stats;
import io.sparkformers.vision.ImageDecodeException;
import io.sparkformers.vision.RgbImage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.sql.Row;

/**
 * Images as a scoring stage's input: rows are decoded ({@link ImageInput}: Spark's image struct or encoded bytes; a
 * row that cannot be read gives its reason, naming its origin and position) in batches of {@code batchSize} rows, and
 * each batch's images run through the stage's {@link ImageScorer} on the executor's cached vision model — one at a
 * time when they preprocess to different sizes.
 */
final class ImageCodec extends InputCodec {
    private static final long serialVersionUID = 1L;

    private final ImageInput input;
    private final ImageScorer scorer;
    private final boolean classification;
    private final int batchSize;

    /** @param classification whether the model needs its classification head */
    /**
     * Most images a batch may hold, capped like text's token budget ({@link TokenBudgetBatcher#MAX_TOKENS_PER_BATCH},
     * 2^20 tokens): 4096 images of a ViT-B/16's 197 tokens; its 224² pixel input alone is then 2.4 GB of floats, and
     * every decoded image of the batch is held until it runs.
     */
    static final int MAX_BATCH_SIZE = 4096;

    ImageCodec(ImageInput input, ImageScorer scorer, boolean classification, int batchSize) {
        if (batchSize > MAX_BATCH_SIZE) { // on the driver, before any job
            throw new IllegalArgumentException("batchSize must be <= " + MAX_BATCH_SIZE + " images per forward pass "
                    + "(a batch's decoded images and activations are held at once), got " + batchSize);
        }
        this.input = input;
        this.scorer = scorer;
        this.classification = classification;
        this.batchSize = batchSize;
    }

    /** A row's image, or why it has none. */
    private record Decoded(RgbImage image, String error) {}

    @Override
    String column() {
        return input.column();
    }

    @Override
    String noun() {
        return "image";
    }

    @Override
    Partition open(String model, Device device, ComputeDtype dtype, int partition) throws IOException {
        if (dtype == ComputeDtype.BF16) { // auto: float32
            throw new IllegalArgumentException("dtype bf16 is not supported for image models (BF16 inference covers "
                    + "the BERT family): use dtype fp32 or auto");
        }
        ExecutorModels.Lease<VisionModels.Loaded> lease = ExecutorModels.vision(model, classification, device);
        VisionModels.Loaded m = lease.model();
        Stats stats = new Stats();
        return new Partition(lease, stats) {
            private long position;

            @Override
            Iterator<Scored<Row>> score(Iterator<Row> rows) {
                return inWindows(
                        rows,
                        batchSize,
                        r -> decode(r, "row " + position++ + " of partition " + partition),
                        Decoded::error,
                        window -> ImageCodec.this.score(m, window, stats),
                        stats);
            }
        };
    }

    private Decoded decode(Row row, String where) {
        try {
            return new Decoded(input.read(row, where), null);
        } catch (ImageDecodeException | IllegalArgumentException e) {
            return new Decoded(null, e.getMessage());
        }
    }

    /** One value per row of the window (null for the rows without an image). */
    private Object[] score(VisionModels.Loaded m, List<Decoded> window, Stats stats) {
        Object[] out = new Object[window.size()];
        List<RgbImage> images = new ArrayList<>(window.size());
        for (Decoded d : window) if (d.image() != null) images.add(d.image());
        if (images.isEmpty()) return out;
        stats.batches++;
        Object[] values = score(m, images);
        int v = 0;
        for (int i = 0; i < out.length; i++) if (window.get(i).image() != null) out[i] = values[v++];
        return out;
    }

    /** Scores decoded images together; when they preprocess to different sizes, one at a time. */
    private Object[] score(VisionModels.Loaded m, List<RgbImage> images) {
        try (NDManager scope = m.manager().newSubManager()) {
            return scorer.score(m, images, scope);
        } catch (IllegalArgumentException sizes) {
            Object[] out = new Object[images.size()];
            for (int i = 0; i < images.size(); i++) {
                try (NDManager scope = m.manager().newSubManager()) {
                    out[i] = scorer.score(m, List.of(images.get(i)), scope)[0];
                }
            }
            return out;
        }
    }
}
