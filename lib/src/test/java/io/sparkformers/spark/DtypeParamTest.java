package io.sparkformers.spark;

import static io.sparkformers.spark.SparkTestSupport.cosine;
import static io.sparkformers.spark.SparkTestSupport.frame;
import static io.sparkformers.spark.SparkTestSupport.local;
import static io.sparkformers.spark.SparkTestSupport.miniLm;
import static io.sparkformers.spark.SparkTestSupport.mixedTexts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The scoring stages' {@code dtype} Param: bf16 reaches the executors' model, unknown values are refused. */
class DtypeParamTest {
    static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = local("DtypeParamTest");
    }

    @AfterAll
    static void stop() {
        spark.stop();
        ExecutorModels.clear();
    }

    @Test
    void bf16EmbeddingsOfAStageStayWithinCosineOfFloat32() throws Exception {
        String model = miniLm();
        Dataset<Row> df = frame(spark, mixedTexts(24), 2);
        List<Row> fp32 = new SentenceEmbedder()
                .setModel(model)
                .transform(df)
                .orderBy("id")
                .collectAsList();
        SentenceEmbedder bf16Stage = new SentenceEmbedder().setModel(model).setDtype("bf16");
        List<Row> bf16 = bf16Stage.transform(df).orderBy("id").collectAsList();
        double worst = 1;
        for (int i = 0; i < fp32.size(); i++) {
            double[] a = ((Vector) fp32.get(i).getAs("embedding")).toArray();
            double[] b = ((Vector) bf16.get(i).getAs("embedding")).toArray();
            worst = Math.min(worst, cosine(a, b));
        }
        assertTrue(worst >= 0.999 && worst < 1 - 1e-7, "min cosine bf16 vs fp32 = " + worst);
        assertEquals("bf16", bf16Stage.getDtype());
        assertEquals("fp32", new SentenceEmbedder().getDtype());
    }

    @Test
    void unknownDtypeIsRefusedByTheParam() {
        var e = assertThrows(IllegalArgumentException.class, () -> new SentenceEmbedder().setDtype("fp16"));
        assertTrue(e.getMessage().contains("dtype"), e.getMessage());
    }
}
