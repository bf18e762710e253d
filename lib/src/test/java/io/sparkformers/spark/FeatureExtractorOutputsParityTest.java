package io.sparkformers.spark;

import static io.sparkformers.spark.SparkTestSupport.frame;
import static io.sparkformers.spark.SparkTestSupport.local;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.pipeline.EncoderOutputReferences;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The {@link FeatureExtractor} stage's {@code hiddenStatesCol} and {@code attentionsCol} (HF's output_hidden_states and
 * output_attentions) equal transformers' on the references of parity/encoder_outputs.json: the real bert-base-uncased
 * on the "bank" sentences and the seeded tiny RoBERTa, rows spread over two partitions.
 */
class FeatureExtractorOutputsParityTest {
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = local("FeatureExtractorOutputsParityTest");
    }

    @AfterAll
    static void stop() {
        spark.stop();
        ExecutorModels.clear();
    }

    @Test
    void hiddenStatesAndAttentionsColumnsEqualTransformers() throws Exception {
        for (JsonNode c : EncoderOutputReferences.cases()) {
            String name = c.get("name").asText();
            if (!name.startsWith("bert_base") && !name.startsWith("tiny_roberta")) continue;
            List<String> texts = EncoderOutputReferences.inputs(c);
            List<Row> rows = new FeatureExtractor()
                    .setModel(EncoderOutputReferences.checkpoint(c).toString())
                    .setHiddenStatesCol("hidden_states")
                    .setAttentionsCol("attentions")
                    .transform(frame(spark, texts, 2))
                    .orderBy("id")
                    .collectAsList();
            assertEquals(texts.size(), rows.size());
            for (int i = 0; i < rows.size(); i++) {
                Row r = rows.get(i);
                EncoderOutputReferences.assertMatches(
                        name + " row " + i,
                        c.get("expected").get(i),
                        floats3(r.getList(r.fieldIndex("hidden_states"))),
                        floats4(r.getList(r.fieldIndex("attentions"))));
            }
        }
    }

    @Test
    void outputColumnsAreOnlyThoseAskedFor() {
        var schema = new FeatureExtractor()
                .setModel("all-MiniLM-L6-v2")
                .setAttentionsCol("att")
                .transformSchema(SparkTestSupport.TEXTS);
        assertTrue(List.of(schema.fieldNames()).containsAll(List.of("features", "att")));
        assertThrows(IllegalArgumentException.class, () -> schema.fieldIndex("hidden_states"));
        assertEquals(
                "array<array<array<array<float>>>>",
                schema.apply("att").dataType().simpleString());
    }

    private static float[][][][] floats4(List<Object> layers) {
        float[][][][] out = new float[layers.size()][][][];
        for (int i = 0; i < out.length; i++) out[i] = floats3(seq(layers.get(i)));
        return out;
    }

    private static float[][][] floats3(List<Object> outer) {
        float[][][] out = new float[outer.size()][][];
        for (int i = 0; i < out.length; i++) {
            List<Object> rows = seq(outer.get(i));
            out[i] = new float[rows.size()][];
            for (int j = 0; j < rows.size(); j++) {
                List<Object> v = seq(rows.get(j));
                out[i][j] = new float[v.size()];
                for (int k = 0; k < v.size(); k++) out[i][j][k] = (Float) v.get(k);
            }
        }
        return out;
    }

    /** A Spark array value as a Java list (length/apply exist on Scala 2.12 and 2.13 alike). */
    @SuppressWarnings("unchecked")
    private static List<Object> seq(Object o) {
        if (o instanceof List<?> l) return (List<Object>) l;
        scala.collection.Seq<Object> s = (scala.collection.Seq<Object>) o;
        List<Object> out = new java.util.ArrayList<>(s.length());
        for (int i = 0; i < s.length(); i++) out.add(s.apply(i));
        return out;
    }
}
