package io.sparkformers.spark;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.sparkformers.nn.vision.VisionModels;
import io.sparkformers.vision.RgbImage;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * HF {@code pipeline("image-classification")} as a Spark stage: the best label of each image in {@code outputCol}
 * (string), its softmax probability in {@code scoreCol} (double) and, when {@code probabilityCol} is set, every
 * class's probability as a Vector in id2label order. What {@link ImageClassifier#fit} returns.
 */
public final class ImageClassificationModel extends ImageStage<ImageClassificationModel> {
    private static final long serialVersionUID = 1L;

    private final Param<String> scoreCol;
    private final Param<String> probabilityCol;

    public ImageClassificationModel(String uid) {
        super(uid, "prediction");
        scoreCol = new Param<>(this, "scoreCol", "double column with the predicted label's probability");
        probabilityCol = new Param<>(
                this,
                "probabilityCol",
                "Vector column with every class's probability in " + "id2label order (\"\" for none)");
        setDefault(scoreCol, "score");
        setDefault(probabilityCol, "");
    }

    public ImageClassificationModel() {
        this(Identifiable$.MODULE$.randomUID("imgClsModel"));
    }

    public static MLReader<ImageClassificationModel> read() {
        return StagePersistence.imageReader(ImageClassificationModel.class);
    }

    public static ImageClassificationModel load(String path) {
        return read().load(path);
    }

    public Param<String> scoreCol() {
        return scoreCol;
    }

    public Param<String> probabilityCol() {
        return probabilityCol;
    }

    public String getScoreCol() {
        return getOrDefault(scoreCol);
    }

    public String getProbabilityCol() {
        return getOrDefault(probabilityCol);
    }

    public ImageClassificationModel setScoreCol(String v) {
        set(scoreCol, v);
        return this;
    }

    public ImageClassificationModel setProbabilityCol(String v) {
        set(probabilityCol, v);
        return this;
    }

    @Override
    protected boolean classification() {
        return true;
    }

    @Override
    protected StructField[] outputFields() {
        StructType t = new StructType()
                .add(getOutputCol(), DataTypes.StringType, true)
                .add(getScoreCol(), DataTypes.DoubleType, true);
        return (getProbabilityCol().isEmpty() ? t : t.add(getProbabilityCol(), SQLDataTypes.VectorType(), true))
                .fields();
    }

    @Override
    protected ImageScorer scorer() {
        return new Scorer(!getProbabilityCol().isEmpty());
    }

    private static final class Scorer extends ImageScorer {
        private static final long serialVersionUID = 1L;
        private final boolean probabilities;

        Scorer(boolean probabilities) {
            this.probabilities = probabilities;
        }

        @Override
        protected Object[] score(VisionModels.Loaded m, List<RgbImage> images, NDManager scope) {
            Map<Integer, String> labels = new TreeMap<>(m.model().id2label());
            NDArray logits = m.model()
                    .predict(new NDList(m.processor().pixelValues(scope, images)))
                    .head(); // (B, C)
            float[] probs = logits.softmax(-1).toFloatArray();
            int c = labels.size();
            Object[] out = new Object[images.size()];
            for (int b = 0; b < out.length; b++) {
                int best = 0;
                for (int k = 1; k < c; k++) if (probs[b * c + k] > probs[b * c + best]) best = k;
                double[] row = new double[c];
                for (int k = 0; k < c; k++) row[k] = probs[b * c + k];
                out[b] = probabilities
                        ? columns(labels.get(best), row[best], Vectors.dense(row))
                        : columns(labels.get(best), row[best]);
            }
            return out;
        }
    }
}
