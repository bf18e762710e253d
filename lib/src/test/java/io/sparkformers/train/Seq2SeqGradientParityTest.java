package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.ParameterNames;
import io.sparkformers.nn.Task;
import io.sparkformers.safetensors.SafetensorsFile;
import io.sparkformers.safetensors.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One seq2seq training step equals PyTorch's for BART, T5 and Marian (tiny seeded checkpoints with the parity
 * fixtures' architectures and tokenizers, HF's default initialisation, dropout 0; final_logits_bias a buffer, not
 * trained, as in HF): three real (source, target) pairs featurized and collated as HF's {@code run_summarization.py} and
 * {@code DataCollatorForSeq2Seq} do (input_ids, attention_mask, labels with -100, decoder_input_ids shifted right),
 * then the loss and the gradient of every parameter after {@code loss.backward()}, within 1e-5 — against
 * {@code src/test/python/make_seq2seq_training_references.py} (resources/seq2seq-training).
 */
class Seq2SeqGradientParityTest {

    static {
        System.setProperty("ai.djl.offline", "true");
    }

    static final Path MODELS = Path.of("src/test/resources/seq2seq");
    static final Path REFS = Path.of("src/test/resources/seq2seq-training");

    @ParameterizedTest
    @ValueSource(strings = {"bart-tiny", "t5-tiny", "marian-tiny"})
    void lossAndGradientsEqualTorch(String name) throws IOException {
        JsonNode ref =
                Json.readObject(REFS.resolve("references.json")).get("models").get(name);
        Path dir = MODELS.resolve(name);
        HfCheckpoint ckpt = HfCheckpoint.open(dir);
        long pad = ckpt.config().get("pad_token_id").asLong();
        long start = ckpt.config().get("decoder_start_token_id").asLong();
        List<String> sources = new ArrayList<>();
        List<String> targets = new ArrayList<>();
        for (JsonNode p : ref.get("pairs")) {
            sources.add(p.get(0).asText());
            targets.add(p.get(1).asText());
        }
        List<Seq2SeqLanguageModelingTask.Example> rows;
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.builder()
                .optTokenizerPath(ckpt.tokenizerJson())
                .optAddSpecialTokens(true)
                .optTruncation(false)
                .optPadding(false)
                .build()) {
            rows = Seq2SeqLanguageModelingTask.featurize(
                    TextDataset.of("license pairs", sources, targets, null), tok, "", 48, 16, "training");
        }
        try (HfModel m = HfModel.fromPretrained(
                        HfCheckpoint.open(REFS.resolve(name)), Task.SEQ2SEQ_LM, Device.cpu(), c -> c);
                NDManager scope = m.manager().newSubManager();
                SafetensorsFile torch = SafetensorsFile.open(REFS.resolve(name + ".safetensors"))) {
            ModelBatch batch = Seq2SeqLanguageModelingTask.collate(scope, rows, pad, start);
            assertArrayEquals(longs(ref.get("input_ids")), batch.inputs().get(0).toLongArray(), "input_ids");
            assertArrayEquals(
                    longs(ref.get("attention_mask")), batch.inputs().get(1).toLongArray(), "attention_mask");
            assertArrayEquals(
                    longs(ref.get("decoder_input_ids")), batch.inputs().get(2).toLongArray(), "decoder ids");
            assertArrayEquals(longs(ref.get("labels")), batch.labels().toLongArray(), "labels");

            Map<String, ParameterNames.Entry> params = ParameterNames.of(m.block());
            double loss;
            Map<String, float[]> grads = new TreeMap<>();
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray logits = m.block()
                        .forward(new ParameterStore(scope, false), batch.inputs(), true)
                        .head();
                NDArray l = TrainingLoss.maskedLanguageModeling().compute(logits, batch.labels());
                loss = l.getFloat();
                gc.backward(l);
            }
            for (ParameterNames.Entry e : params.values()) {
                NDArray g = Autograd.gradientOf(e.parameter().getArray());
                if (g != null) {
                    grads.put(e.name(), g.toFloatArray());
                    g.close();
                }
            }
            double expectedLoss = ref.get("loss").asDouble();
            System.out.printf("%s: loss %.7f vs torch %.7f%n", name, loss, expectedLoss);
            assertEquals(expectedLoss, loss, 1e-5 * Math.abs(expectedLoss), name + " loss");

            assertEquals(torch.names(), grads.keySet(), name + ": the parameters with a gradient, by HF name");
            double worst = 0;
            String where = "";
            for (String k : torch.names()) {
                Tensor t = torch.tensor(k);
                float[] expected = t.toFloatArray();
                float[] ours = grads.get(k);
                assertEquals(expected.length, ours.length, k);
                for (int i = 0; i < ours.length; i++) {
                    double d = Math.abs(ours[i] - expected[i]);
                    if (d > worst) {
                        worst = d;
                        where = k + "[" + i + "]";
                    }
                }
            }
            System.out.printf("%s: %d gradients, max |diff| = %.3g at %s%n", name, grads.size(), worst, where);
            assertTrue(worst <= 1e-5, name + ": gradients max |diff| = " + worst + " at " + where);
        }
    }

    private static long[] longs(JsonNode rows) {
        List<Long> v = new ArrayList<>();
        for (JsonNode r : rows) for (JsonNode x : r) v.add(x.asLong());
        return v.stream().mapToLong(Long::longValue).toArray();
    }
}
