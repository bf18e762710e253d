package io.sparkformers.spark;

import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import io.sparkformers.pipeline.Pipeline;
import io.sparkformers.pipeline.PipelineOptions;
import io.sparkformers.pipeline.TokenClassificationPipeline;
import io.sparkformers.pipeline.TokenClassificationPipeline.Entity;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * HF {@code pipeline("token-classification")} / {@code "ner"} as a Spark stage, on a token-classification checkpoint:
 * text → {@code array<struct<entity_group,score,start,end,word>>}, start/end being character offsets into the text
 * (Java string indices). {@code aggregationStrategy} and {@code ignoreLabels} are HF's; with {@code none} each entry
 * is one token and {@code entity_group} holds the token's label (HF's {@code entity}). Reads raw text only: the
 * offsets need it. Post-processing is {@link TokenClassificationPipeline}'s, run per batch on the executor's cached
 * model.
 */
public final class TokenClassificationModel extends ModelStage<TokenClassificationModel> {
    private static final long serialVersionUID = 1L;

    /** One entity: HF's {@code {entity_group, score, start, end, word}}. */
    public static final StructType ENTITY = new StructType()
            .add("entity_group", DataTypes.StringType, false)
            .add("score", DataTypes.DoubleType, false)
            .add("start", DataTypes.IntegerType, false)
            .add("end", DataTypes.IntegerType, false)
            .add("word", DataTypes.StringType, false);

    /** Default of {@code aggregationStrategy} (a compile-time constant: the CLI reads it without loading a stage). */
    public static final String DEFAULT_AGGREGATION_STRATEGY = "none";

    private final Param<String> aggregationStrategy;
    private final StringArrayParam ignoreLabels;

    public TokenClassificationModel(String uid) {
        super(uid, "entities");
        aggregationStrategy = new Param<>(
                this,
                "aggregationStrategy",
                "HF's aggregation_strategy: none (one entry "
                        + "per token), simple, first, average or max (tokens merged into words and entities)",
                ParamValidators.inArray(new String[] {"none", "simple", "first", "average", "max"}));
        ignoreLabels = new StringArrayParam(this, "ignoreLabels", "labels left out of the output (HF's ignore_labels)");
        setDefault(aggregationStrategy, DEFAULT_AGGREGATION_STRATEGY);
        setDefault(ignoreLabels, new String[] {"O"});
    }

    public TokenClassificationModel() {
        this(Identifiable$.MODULE$.randomUID("tokCls"));
    }

    public static MLReader<TokenClassificationModel> read() {
        return StagePersistence.textReader(TokenClassificationModel.class);
    }

    public static TokenClassificationModel load(String path) {
        return read().load(path);
    }

    public Param<String> aggregationStrategy() {
        return aggregationStrategy;
    }

    public StringArrayParam ignoreLabels() {
        return ignoreLabels;
    }

    public String getAggregationStrategy() {
        return getOrDefault(aggregationStrategy);
    }

    public String[] getIgnoreLabels() {
        return getOrDefault(ignoreLabels);
    }

    public TokenClassificationModel setAggregationStrategy(String v) {
        set(aggregationStrategy, v);
        return this;
    }

    public TokenClassificationModel setIgnoreLabels(String... v) {
        set(ignoreLabels, v);
        return this;
    }

    @Override
    protected Task task() {
        return Task.TOKEN_CLASSIFICATION;
    }

    @Override
    protected DataType outputDataType() {
        return DataTypes.createArrayType(ENTITY, false);
    }

    /** Offsets index the text, so token columns are never read in its place. */
    @Override
    protected boolean readsTokens(org.apache.spark.sql.types.StructType schema) {
        return false;
    }

    @Override
    protected RowScorer scorer() {
        return new Scorer(getMaxLength(), getBatchSize(), getAggregationStrategy(), Arrays.asList(getIgnoreLabels()));
    }

    private static final class Scorer extends PipelineScorer<List<Entity>> {
        private static final long serialVersionUID = 1L;
        private final String strategy;
        private final List<String> ignore;

        Scorer(int maxLength, int batchSize, String strategy, List<String> ignore) {
            super(maxLength, batchSize);
            this.strategy = strategy;
            this.ignore = List.copyOf(ignore);
        }

        @Override
        protected PipelineOptions.Builder taskOptions(PipelineOptions.Builder b) {
            return b.aggregationStrategy(strategy).ignoreLabels(ignore);
        }

        @Override
        protected Pipeline<List<Entity>> create(HfModel model, PipelineOptions options) throws java.io.IOException {
            return new TokenClassificationPipeline(model, options);
        }

        @Override
        protected Object toSpark(List<Entity> entities) {
            Object[] out = new Object[entities.size()];
            for (int i = 0; i < out.length; i++) {
                Entity e = entities.get(i);
                out[i] = RowFactory.create(e.entity(), e.score(), e.start(), e.end(), e.word());
            }
            return out;
        }
    }
}
