package io.sparkformers.spark;

import ai.djl.huggingface.tokenizers.Encoding;
import io.sparkformers.hub.TextTokenizer;
import java.util.Iterator;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.Predef$;

/**
 * HF's tokenizer as a Spark stage: a text column (and an optional pair column) → {@code input_ids},
 * {@code attention_mask}, {@code token_type_ids} ({@code array<int>}, unpadded, truncated at {@code maxLength}), with
 * the checkpoint's {@code tokenizer.json}. Null, empty and whitespace-only texts give null token columns, which the
 * model stages then handle under their {@code handleInvalid}. Saving copies the tokenizer files under
 * {@code path/data}.
 */
public final class HuggingFaceTokenizer extends TextStage<HuggingFaceTokenizer> {
    private static final long serialVersionUID = 1L;

    public HuggingFaceTokenizer(String uid) {
        super(uid);
    }

    public HuggingFaceTokenizer() {
        this(Identifiable$.MODULE$.randomUID("hfTokenizer"));
    }

    public static MLReader<HuggingFaceTokenizer> read() {
        return StagePersistence.textReader(HuggingFaceTokenizer.class);
    }

    public static HuggingFaceTokenizer load(String path) {
        return read().load(path);
    }

    @Override
    public StructType transformSchema(StructType schema) {
        requireModel();
        requireString(schema, getInputCol(), "inputCol");
        if (!getInputPairCol().isEmpty()) requireString(schema, getInputPairCol(), "inputPairCol");
        requireAbsent(schema, getInputIdsCol(), "inputIdsCol");
        requireAbsent(schema, getAttentionMaskCol(), "attentionMaskCol");
        requireAbsent(schema, getTokenTypeIdsCol(), "tokenTypeIdsCol");
        var ints = DataTypes.createArrayType(DataTypes.IntegerType, false);
        return schema.add(getInputIdsCol(), ints, true)
                .add(getAttentionMaskCol(), ints, true)
                .add(getTokenTypeIdsCol(), ints, true);
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema(), true);
        ModelSource executorRef = executorRef(dataset.sparkSession().sparkContext(), ModelRefs.Needs.TOKENIZER);
        var names = java.util.Arrays.asList(dataset.schema().fieldNames());
        return mapPartitions(
                dataset,
                out,
                new Tokenize(
                        executorRef,
                        getMaxLength(),
                        names.indexOf(getInputCol()),
                        getInputPairCol().isEmpty() ? -1 : names.indexOf(getInputPairCol())));
    }

    /** Tokenizes each row with the executor's cached tokenizer (plain values only). */
    private record Tokenize(ModelSource model, int maxLength, int text, int pair)
            implements FlatMapFunction<Iterator<Row>, Row> {
        @Override
        public Iterator<Row> call(Iterator<Row> rows) throws Exception {
            TextTokenizer tokenizer = ExecutorModels.tokenizer(model.use(), maxLength);
            return new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return rows.hasNext();
                }

                @Override
                public Row next() {
                    Row in = rows.next();
                    int n = in.length();
                    Object[] v = new Object[n + 3];
                    for (int i = 0; i < n; i++) v[i] = in.get(i);
                    String t = in.isNullAt(text) ? null : in.getString(text);
                    String p = pair < 0 || in.isNullAt(pair) ? null : in.getString(pair);
                    if (InputReader.invalidText(t) == null && (pair < 0 || InputReader.invalidText(p) == null)) {
                        Encoding e = pair < 0 ? tokenizer.encode(t) : tokenizer.encode(t, p);
                        v[n] = ints(e.getIds()); // as Spark's row decoder gives them, see PartitionScorer.external
                        v[n + 1] = ints(e.getAttentionMask());
                        v[n + 2] = ints(e.getTypeIds());
                    }
                    return RowFactory.create(v);
                }
            };
        }

        private static Object ints(long[] a) {
            int[] out = new int[a.length];
            for (int i = 0; i < a.length; i++) out[i] = Math.toIntExact(a[i]);
            return Predef$.MODULE$.wrapIntArray(out);
        }
    }
}
