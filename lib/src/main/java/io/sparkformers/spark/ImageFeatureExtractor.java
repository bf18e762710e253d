package io.sparkformers.spark;

import ai.djl.ndarray.NDManager;
import io.sparkformers.nn.vision.VisionModels;
import io.sparkformers.vision.RgbImage;
import java.util.List;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;

/**
 * HF {@code pipeline("image-feature-extraction")} (pooled) as a Spark stage: the features a classification head
 * would read — ViT's pooler output (or [CLS] row), a CNN's penultimate layer — one vector per image, as an ML
 * {@code Vector} (for MLlib estimators) or {@code array<float>}.
 */
public final class ImageFeatureExtractor extends ImageStage<ImageFeatureExtractor> {
    private static final long serialVersionUID = 1L;

    public static final String VECTOR = "vector";
    public static final String ARRAY = "array";

    private final Param<String> outputType;

    public ImageFeatureExtractor(String uid) {
        super(uid, "features");
        outputType = new Param<>(
                this,
                "outputType",
                "vector (an ML Vector, default) or array (array<float>)",
                ParamValidators.inArray(new String[] {VECTOR, ARRAY}));
        setDefault(outputType, VECTOR);
    }

    public ImageFeatureExtractor() {
        this(Identifiable$.MODULE$.randomUID("imgFeat"));
    }

    public static MLReader<ImageFeatureExtractor> read() {
        return StagePersistence.imageReader(ImageFeatureExtractor.class);
    }

    public static ImageFeatureExtractor load(String path) {
        return read().load(path);
    }

    public Param<String> outputType() {
        return outputType;
    }

    public String getOutputType() {
        return getOrDefault(outputType);
    }

    public ImageFeatureExtractor setOutputType(String v) {
        set(outputType, v);
        return this;
    }

    @Override
    protected boolean classification() {
        return false;
    }

    @Override
    protected StructField[] outputFields() {
        DataType t = getOutputType().equals(VECTOR)
                ? SQLDataTypes.VectorType()
                : DataTypes.createArrayType(DataTypes.FloatType, false);
        return new StructField[] {new StructField(getOutputCol(), t, true, Metadata.empty())};
    }

    @Override
    protected ImageScorer scorer() {
        return new Scorer(getOutputType().equals(VECTOR));
    }

    private static final class Scorer extends ImageScorer {
        private static final long serialVersionUID = 1L;
        private final boolean vector;

        Scorer(boolean vector) {
            this.vector = vector;
        }

        @Override
        protected Object[] score(VisionModels.Loaded m, List<RgbImage> images, NDManager scope) {
            float[] flat = m.model()
                    .predictFeatures(m.processor().pixelValues(scope, images))
                    .toFloatArray(); // (B, D)
            return vectorsOrArrays(flat, images.size(), vector);
        }
    }
}
