package io.sparkformers.spark;

import ai.djl.ndarray.NDManager;
import io.sparkformers.nn.vision.VisionModels;
import io.sparkformers.vision.RgbImage;
import java.util.List;
import org.apache.spark.ml.param.Param;
import org.apache.spark.sql.types.StructType;

/**
 * Base of the image model stages: a {@link ScoringStage} that reads an image column ({@link ImageInput}: Spark's
 * {@code image} struct or encoded bytes) and runs a vision checkpoint in batches of {@code batchSize} rows
 * ({@link ImageCodec}). Persistence as the text stages: Params metadata, then the checkpoint in HF layout
 * (config.json, model.safetensors, preprocessor_config.json) under {@code path/data}. A {@code Model} so that
 * {@link ImageClassifier} can fit one; stages built directly have no parent.
 */
public abstract class ImageStage<S extends ImageStage<S>> extends ScoringStage<S> {
    private static final long serialVersionUID = 1L;

    /** The shared Params' wording and defaults for images. */
    static final InputKind IMAGES = new InputKind(
            "the image checkpoint: a folder (config.json, model.safetensors, "
                    + "preprocessor_config.json) or a Hadoop URI of one (hdfs:, s3a:, file:)",
            "an image checkpoint folder or a Hadoop URI",
            "images per forward pass (> 0)",
            32,
            "where the model runs: auto (the task's Spark GPU if it holds one, else CPU), cpu, or gpu",
            "rows whose image cannot be read (null, corrupt or truncated bytes, an unexpected channel count): error "
                    + "(fail, naming the row), skip (drop the row) or keep (null outputs and the reason in "
                    + "<outputCol>_error)",
            ModelRefs.Needs.FOLDER);

    private final Param<String> inputCol;

    protected ImageStage(String uid, String defaultOutputCol) {
        super(uid, IMAGES, defaultOutputCol);
        inputCol = new Param<>(
                this,
                "inputCol",
                "the image column: Spark's image struct (format \"image\") or binary "
                        + "encoded bytes (format \"binaryFile\" column content)");
        setDefault(inputCol, "image");
    }

    public Param<String> inputCol() {
        return inputCol;
    }

    public String getInputCol() {
        return getOrDefault(inputCol);
    }

    public S setInputCol(String v) {
        set(inputCol, v);
        return self();
    }

    @Override
    protected boolean takesAdapter() {
        return false;
    }

    /** Whether the model needs its classification head. */
    protected abstract boolean classification();

    /** The per-batch computation, holding only plain values of this stage's Params. */
    protected abstract ImageScorer scorer();

    @Override
    protected void validateInput(StructType schema) {
        ImageInput.validate(schema, getInputCol(), "inputCol");
    }

    @Override
    protected InputCodec codec(StructType schema) {
        return new ImageCodec(
                ImageInput.of(schema, getInputCol(), "inputCol"), scorer(), classification(), getBatchSize());
    }

    /** A batch of decoded images → one output value per image ({@link BatchScorer#columns} for several columns). */
    public abstract static class ImageScorer extends BatchScorer {
        private static final long serialVersionUID = 1L;

        /** @param scope a sub-manager closed after the batch */
        protected abstract Object[] score(VisionModels.Loaded model, List<RgbImage> images, NDManager scope);
    }
}
