package io.sparkformers.spark;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import io.sparkformers.spark.TokenBudgetBatcher.Batch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * HF {@code pipeline("fill-mask")} as a Spark stage, on a masked-LM checkpoint: for each mask token of a row, the
 * {@code topK} most likely tokens as HF's {@code {score, token, token_str, sequence}}, in one
 * {@code array<struct<…>>} per row (several masks: each mask's candidates in turn, as HF's nested lists flattened).
 * Scores are softmax probabilities over the whole vocabulary; with {@code targets} only those words (by their first
 * sub-token, as HF) are ranked. A row without a mask token is invalid (see {@code handleInvalid}).
 */
public final class FillMasker extends ModelStage<FillMasker> {
    private static final long serialVersionUID = 1L;

    /** HF's candidate struct. */
    public static final StructType CANDIDATE = new StructType()
            .add("score", DataTypes.DoubleType, false)
            .add("token", DataTypes.LongType, false)
            .add("token_str", DataTypes.StringType, false)
            .add("sequence", DataTypes.StringType, false);

    private final IntParam topK;
    private final StringArrayParam targets;

    public FillMasker(String uid) {
        super(uid, "fill_mask");
        topK = new IntParam(this, "topK", "candidates per mask token (> 0)", ParamValidators.gt(0));
        targets = new StringArrayParam(this, "targets", "words to rank instead of the whole vocabulary (empty: all)");
        setDefault(topK, 5);
        setDefault(targets, new String[0]);
    }

    public FillMasker() {
        this(Identifiable$.MODULE$.randomUID("fillMask"));
    }

    public static MLReader<FillMasker> read() {
        return StagePersistence.textReader(FillMasker.class);
    }

    public static FillMasker load(String path) {
        return read().load(path);
    }

    public IntParam topK() {
        return topK;
    }

    public StringArrayParam targets() {
        return targets;
    }

    public int getTopK() {
        return (Integer) getOrDefault(topK);
    }

    public String[] getTargets() {
        return getOrDefault(targets);
    }

    public FillMasker setTopK(int v) {
        set(topK, v);
        return this;
    }

    public FillMasker setTargets(String... v) {
        set(targets, v);
        return this;
    }

    @Override
    protected Task task() {
        return Task.MASKED_LM;
    }

    @Override
    protected DataType outputDataType() {
        return DataTypes.createArrayType(CANDIDATE, false);
    }

    @Override
    protected RowScorer scorer() {
        return new Scorer(getTopK(), getTargets());
    }

    private static final class Scorer extends RowScorer {
        private static final long serialVersionUID = 1L;
        private final int topK;
        private final String[] targets;

        Scorer(int topK, String[] targets) {
            this.topK = topK;
            this.targets = targets;
        }

        @Override
        protected Object[] score(HfModel model, TextTokenizer tokenizer, Batch batch, NDManager scope) {
            long maskId = tokenizer.singleTokenId(tokenizer.config().maskToken());
            long[] targetIds = targets.length == 0 ? null : targetIds(tokenizer);
            NDArray logits = model.predict(inputs(scope, batch)).head(); // (B, T, V)
            Object[] out = new Object[batch.size()];
            for (int r = 0; r < out.length; r++) {
                long[] ids = batch.ids(r);
                List<Object> candidates = new ArrayList<>();
                for (int pos = 0; pos < ids.length; pos++) {
                    if (ids[pos] != maskId) continue;
                    float[] probs = logits.get(r, pos).softmax(0).toFloatArray(); // (V,)
                    for (long token : top(probs, targetIds)) {
                        long[] filled = ids.clone();
                        filled[pos] = token;
                        candidates.add(RowFactory.create(
                                (double) probs[(int) token],
                                token,
                                tokenizer.decode(new long[] {token}, false),
                                tokenizer.decode(filled, true)));
                    }
                }
                out[r] = candidates.isEmpty()
                        ? invalid("no mask token (" + tokenizer.config().maskToken() + ") in the text")
                        : candidates.toArray();
            }
            return out;
        }

        /** The top k ids by probability; ties keep the lower id first, as torch.topk on CPU. */
        private long[] top(float[] probs, long[] pool) {
            int n = pool == null ? probs.length : pool.length;
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) order[i] = pool == null ? i : (int) pool[i];
            Arrays.sort(
                    order, (a, b) -> probs[a] != probs[b] ? Float.compare(probs[b], probs[a]) : Integer.compare(a, b));
            long[] out = new long[Math.min(topK, n)];
            for (int k = 0; k < out.length; k++) out[k] = order[k];
            return out;
        }

        private long[] targetIds(TextTokenizer tokenizer) {
            long[] ids = new long[targets.length];
            for (int i = 0; i < ids.length; i++) {
                long[] pieces = tokenizer.encode(targets[i]).getIds();
                if (pieces.length < 3) throw new IllegalArgumentException("target '" + targets[i] + "' has no tokens");
                ids[i] = pieces[1]; // pieces[0] is [CLS]: the word's first sub-token follows
            }
            return ids;
        }
    }
}
