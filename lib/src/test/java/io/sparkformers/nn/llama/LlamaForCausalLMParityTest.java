package io.sparkformers.nn.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.CausalLanguageModel;
import io.sparkformers.nn.CausalLanguageModel.KvCache;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.ParameterNames;
import io.sparkformers.nn.Task;
import io.sparkformers.nn.WeightLoadException;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.SafetensorsFile;
import io.sparkformers.safetensors.SafetensorsWriter;
import io.sparkformers.safetensors.Tensor;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Llama, Mistral and Qwen2 against HF transformers 4.57.6 (references from
 * {@code src/test/python/make_llama_references.py}): logits of a left-padded prefill and of three cached decoding
 * steps, for each rope scaling type, tied and untied heads, biases, sliding windows, and F32 / BF16 / F16 / sharded
 * weights; cache reordering, strict loading, and save_pretrained round trips.
 */
class LlamaForCausalLMParityTest {

    private static final String[] CASES = {
        "llama", "llama3_tied", "linear_sharded", "dynamic", "mistral_window", "qwen2_bias"
    };

    private NDManager manager;

    @BeforeEach
    void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    static Path dir(String name) {
        try {
            return Path.of(LlamaForCausalLMParityTest.class
                            .getResource("/llama/" + name + "/config.json")
                            .toURI())
                    .getParent();
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException(
                    "reference folder llama/" + name + " is missing; regenerate with "
                            + "lib/src/test/python/make_llama_references.py",
                    e);
        }
    }

    private Map<String, NDArray> reference(String name) throws IOException {
        return reference(manager, name);
    }

    /** The case's transformers outputs (reference.safetensors), as arrays of {@code manager}. */
    static Map<String, NDArray> reference(NDManager manager, String name) throws IOException {
        Map<String, NDArray> out = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(dir(name).resolve("reference.safetensors"))) {
            f.readAll()
                    .forEach((k, t) -> out.put(
                            k,
                            t.dtype().isFloatingPoint()
                                    ? manager.create(t.toFloatArray(), new Shape(t.shape()))
                                    : manager.create(t.toLongArray(), new Shape(t.shape()))));
        }
        return out;
    }

    /** Logits at real tokens only: padded queries see no key, and what they produce is never used. */
    private static void assertLogits(NDArray expected, NDArray actual, NDArray mask, String what) {
        assertEquals(expected.getShape(), actual.getShape(), what + " shape");
        NDArray keep = mask.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).expandDims(2);
        NDArray e = expected.mul(keep);
        NDArray a = actual.mul(keep);
        double maxDiff = a.sub(e).abs().max().getFloat();
        assertTrue(a.allClose(e, 1e-4, 1e-5, false), what + ": max |diff| = " + maxDiff);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "llama3_tied", "linear_sharded", "dynamic", "mistral_window", "qwen2_bias"})
    void prefillAndCachedDecodingMatchTransformers(String name) throws IOException {
        Map<String, NDArray> ref = reference(name);
        try (HfModel hf = HfModel.fromPretrained(dir(name), Task.CAUSAL_LM)) {
            assertTrue(hf.loadReport().isExact(), hf.loadReport().describe());
            CausalLanguageModel lm = (CausalLanguageModel) hf.block();
            NDArray mask = ref.get("attention_mask");
            CausalLanguageModel.Step step = lm.forward(ref.get("input_ids"), mask, ref.get("position_ids"), null);
            assertLogits(ref.get("prefill_logits"), step.logits(), mask, name + " prefill");
            KvCache cache = step.cache();
            for (int i = 1; i <= 3; i++) {
                NDArray ids = ref.get("step" + i + "_ids");
                assertEquals(
                        ids.flatten(),
                        step.logits().get(":, -1, :").argMax(-1),
                        name + " greedy token before step " + i);
                step = lm.forward(ids, ref.get("step" + i + "_mask"), ref.get("step" + i + "_positions"), cache);
                cache = step.cache();
                assertEquals(8 + i, cache.length());
                assertLogits(ref.get("step" + i + "_logits"), step.logits(), ids.onesLike(), name + " step " + i);
            }
            cache.close();
        }
    }

    @Test
    void parameterNamesAreTheCheckpointKeys() throws IOException {
        for (String name : new String[] {"llama", "llama3_tied", "qwen2_bias"}) {
            try (HfModel hf = HfModel.fromPretrained(dir(name), Task.CAUSAL_LM);
                    SafetensorsCheckpoint w = hf.checkpoint().openWeights()) {
                assertEquals(
                        new java.util.TreeSet<>(w.names()),
                        new java.util.TreeSet<>(ParameterNames.of(hf.block()).keySet()),
                        name);
            }
        }
    }

    @Test
    void selectedCacheDecodesAsTheSelectedRowsAlone() throws IOException {
        Map<String, NDArray> ref = reference("mistral_window");
        try (HfModel hf = HfModel.fromPretrained(dir("mistral_window"), Task.CAUSAL_LM)) {
            CausalLanguageModel lm = (CausalLanguageModel) hf.block();
            CausalLanguageModel.Step prefill =
                    lm.forward(ref.get("input_ids"), ref.get("attention_mask"), ref.get("position_ids"), null);
            NDArray rows = manager.create(new long[] {1, 0, 1});
            KvCache picked = prefill.cache().select(rows);
            NDArray ids = ref.get("step1_ids").get(rows);
            NDArray mask = ref.get("step1_mask").get(rows);
            NDArray positions = ref.get("step1_positions").get(rows);
            CausalLanguageModel.Step together = lm.forward(ids, mask, positions, picked);
            for (int k = 0; k < 3; k++) {
                int row = k == 1 ? 0 : 1;
                String r = row + ":" + (row + 1);
                CausalLanguageModel.Step alone = lm.forward(
                        ref.get("input_ids").get(r),
                        ref.get("attention_mask").get(r),
                        ref.get("position_ids").get(r),
                        null);
                CausalLanguageModel.Step next = lm.forward(
                        ref.get("step1_ids").get(r),
                        ref.get("step1_mask").get(r),
                        ref.get("step1_positions").get(r),
                        alone.cache());
                NDArray a = together.logits().get(k + ":" + (k + 1));
                double maxDiff = a.sub(next.logits()).abs().max().getFloat();
                assertTrue(a.allClose(next.logits(), 1e-4, 1e-5, false), "row " + k + ": max |diff| = " + maxDiff);
                next.cache().close();
            }
            together.cache().close();
        }
    }

    private static Path copyWith(Path target, String name, Map<String, Tensor> weights) throws IOException {
        Files.createDirectories(target);
        Files.copy(dir(name).resolve("config.json"), target.resolve("config.json"));
        SafetensorsWriter.write(target.resolve("model.safetensors"), weights, Map.of("format", "pt"));
        return target;
    }

    private static Map<String, Tensor> weights(String name) throws IOException {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(dir(name).resolve("model.safetensors"))) {
            f.readAll().forEach((k, t) -> {
                ByteBuffer b = ByteBuffer.allocate(t.data().remaining());
                b.put(t.data()).flip();
                out.put(k, new Tensor(t.dtype(), t.shape(), b));
            });
        }
        return out;
    }

    @Test
    void strictLoadingRefusesAMissingKeyByName(@TempDir Path tmp) throws IOException {
        Map<String, Tensor> w = weights("llama");
        w.remove("model.layers.1.mlp.up_proj.weight");
        Path folder = copyWith(tmp.resolve("missing"), "llama", w);
        WeightLoadException e =
                assertThrows(WeightLoadException.class, () -> HfModel.fromPretrained(folder, Task.CAUSAL_LM));
        assertTrue(e.getMessage().contains("missing keys [model.layers.1.mlp.up_proj.weight]"), e.getMessage());
    }

    @Test
    void loadingRefusesAWrongShapeByName(@TempDir Path tmp) throws IOException {
        Map<String, Tensor> w = weights("llama");
        w.put(
                "model.norm.weight",
                new Tensor(io.sparkformers.safetensors.DType.F32, new long[] {31}, ByteBuffer.allocate(31 * 4)));
        Path folder = copyWith(tmp.resolve("shape"), "llama", w);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> HfModel.fromPretrained(folder, Task.CAUSAL_LM));
        assertTrue(e.getMessage().contains("model.norm.weight of shape (31,)"), e.getMessage());
        assertTrue(e.getMessage().contains("(32,)"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3_tied", "linear_sharded", "qwen2_bias", "mistral_window"})
    void savedFolderLoadsBackWithEqualLogits(String name, @TempDir Path tmp) throws IOException {
        Map<String, NDArray> ref = reference(name);
        Path saved = tmp.resolve("saved");
        NDArray before;
        try (HfModel hf = HfModel.fromPretrained(dir(name), Task.CAUSAL_LM)) {
            CausalLanguageModel.Step s = ((CausalLanguageModel) hf.block())
                    .forward(ref.get("input_ids"), ref.get("attention_mask"), ref.get("position_ids"), null);
            before = s.logits();
            s.cache().close();
            hf.savePretrained(saved);
        }
        ObjectNode config = Json.readObject(saved.resolve("config.json"));
        assertEquals(
                Json.readObject(dir(name).resolve("config.json")).get("architectures"), config.get("architectures"));
        try (HfModel back = HfModel.fromPretrained(saved, Task.CAUSAL_LM)) {
            CausalLanguageModel.Step s = ((CausalLanguageModel) back.block())
                    .forward(ref.get("input_ids"), ref.get("attention_mask"), ref.get("position_ids"), null);
            assertEquals(0f, s.logits().sub(before).abs().max().getFloat(), name);
            s.cache().close();
            assertEquals(
                    LlamaConfig.fromJson(Json.readObject(dir(name).resolve("config.json"))),
                    ((LlamaForCausalLM) back.block()).config(),
                    name + " config round trip");
        }
    }
}
