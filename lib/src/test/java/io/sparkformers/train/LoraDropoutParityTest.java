package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.GradientCheckpointing;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.ParameterNames;
import io.sparkformers.nn.Task;
import io.sparkformers.nn.lora.LoraConfig;
import io.sparkformers.nn.lora.LoraModel;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * LoRA training with {@code lora_dropout}: one training forward and backward of the tiny GPT-2 under a PEFT adapter
 * (its Conv1D layers c_attn, c_proj, c_fc adapted) gives PEFT's loss and lora_A / lora_B gradients, with dropout 0.3 on
 * the adapter's input (the same masks: both sides seed libtorch's generator alike and draw in the same order) and
 * with dropout 0 (the adapter through the merged weight), against {@code make_lora_gpt2_references.py}.
 */
class LoraDropoutParityTest {

    static {
        System.setProperty("ai.djl.offline", "true");
    }

    static final Path BASE = Path.of("src/test/resources/generation/gpt2-tiny");
    static final Path DIR = Path.of("src/test/resources/lora/gpt2");

    @Test
    void dropoutOnTheAdapterInputGivesPeftsLossAndGradients() throws IOException {
        JsonNode ref = reference(0.3);
        double loss = check(ref);
        double plain = reference(0.0).get("loss").asDouble();
        assertTrue(Math.abs(loss - plain) > 1e-3, "dropout changes the loss: " + loss + " vs " + plain);
    }

    @Test
    void withoutDropoutTheMergedWeightPathGivesPeftsLossAndGradients() throws IOException {
        check(reference(0.0));
    }

    @Test
    void gradientCheckpointingRecomputesTheAdaptersDropoutMasks() throws IOException {
        JsonNode all = Json.readObject(DIR.resolve("references.json"));
        try (HfModel m = load()) {
            LoraModel lora = trainableLora(m, 0.3, new ArrayList<>());
            DataCollatorWithPadding.Batch batch = batch(all.get("input_ids"));
            try (NDManager scope = m.manager().newSubManager()) {
                TrainStep.seedTorch(99);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector();
                        GradientCheckpointing tape =
                                GradientCheckpointing.begin(scope, 99).checkRecompute()) {
                    NDArray logits = lora.forward(
                                    new ParameterStore(scope, false), TrainStep.inputs(scope, batch), true)
                            .head();
                    gc.backward(TrainingLoss.causalLanguageModeling().compute(logits, TrainStep.labels(scope, batch)));
                    assertEquals(2, tape.layers());
                    tape.backward();
                    assertEquals(0.0, tape.maxRecomputeDiff(), "recomputed layer outputs differ");
                }
            }
            for (Parameter p : lora.adapterParameters().values()) {
                try (NDArray g = Autograd.gradientOf(p.getArray())) {
                    assertTrue(g.abs().max().getFloat() > 0, p.getName() + " has a gradient");
                }
            }
        }
    }

    /** The PEFT adapter on the base with {@code lora_dropout}, the base frozen; its tensors added to {@code out}. */
    private static LoraModel trainableLora(HfModel m, double dropout, List<ParamRef> out) throws IOException {
        Path adapterDir = DIR.resolve("peft-adapter");
        LoraModel lora = LoraModel.wrap(m.block(), LoraConfig.read(adapterDir).withLoraDropout(dropout));
        lora.loadAdapterWeights(adapterDir);
        for (ParameterNames.Entry e : ParameterNames.of(m.block()).values())
            e.parameter().freeze(true);
        lora.adapterParameters().forEach((name, p) -> {
            p.freeze(false);
            out.add(new ParamRef(name, p.getArray()));
        });
        return lora;
    }

    private static JsonNode reference(double dropout) throws IOException {
        for (JsonNode t : Json.readObject(DIR.resolve("references.json")).get("train")) {
            if (t.get("lora_dropout").asDouble() == dropout) return t;
        }
        throw new AssertionError("no reference for lora_dropout " + dropout);
    }

    private static HfModel load() throws IOException {
        return HfModel.fromPretrained(
                HfCheckpoint.open(BASE),
                Task.CAUSAL_LM,
                Device.cpu(),
                c -> c.put("resid_pdrop", 0.0).put("embd_pdrop", 0.0).put("attn_pdrop", 0.0));
    }

    /** Runs the reference's training forward/backward; returns our loss after comparing loss and gradients. */
    private static double check(JsonNode ref) throws IOException {
        JsonNode all = Json.readObject(DIR.resolve("references.json"));
        double dropout = ref.get("lora_dropout").asDouble();
        try (HfModel m = load()) {
            List<ParamRef> trainable = new ArrayList<>();
            LoraModel lora = trainableLora(m, dropout, trainable);
            TrainStep step = new TrainStep(lora, m.manager(), TrainingLoss.causalLanguageModeling(), false, trainable);
            double loss = step.forwardBackward(
                            batch(all.get("input_ids")),
                            1.0,
                            all.get("train_seed").asLong())
                    .loss();
            String what = "lora_dropout " + dropout;
            System.out.println("LoRA training parity (" + what + "): loss " + loss + " vs peft " + ref.get("loss"));
            assertTrue(
                    Math.abs(loss - ref.get("loss").asDouble()) <= 1e-5,
                    what + ": loss " + loss + " vs peft " + ref.get("loss").asDouble());
            Map<String, Parameter> byName = lora.adapterParameters();
            double worstAll = 0;
            assertEquals(ref.get("grads").size(), byName.size(), what + ": adapter tensors " + byName.keySet());
            for (var e : ref.get("grads").properties()) {
                Parameter p = byName.get(e.getKey());
                assertTrue(p != null, "no adapter tensor " + e.getKey() + " in " + byName.keySet());
                try (NDArray g = Autograd.gradientOf(p.getArray())) {
                    float[] ours = g.toFloatArray();
                    assertEquals(e.getValue().size(), ours.length, e.getKey());
                    double worst = 0;
                    for (int i = 0; i < ours.length; i++) {
                        worst = Math.max(
                                worst, Math.abs(ours[i] - e.getValue().get(i).asDouble()));
                    }
                    assertTrue(worst <= 1e-5, what + ": gradient of " + e.getKey() + " max |diff| = " + worst);
                    worstAll = Math.max(worstAll, worst);
                }
            }
            System.out.println("LoRA training parity (" + what + "): gradients max |diff| = " + worstAll);
            return loss;
        }
    }

    /** The reference's ids as a batch without padding, labels = ids (HF shifts them inside the loss). */
    static DataCollatorWithPadding.Batch batch(JsonNode rows) {
        int b = rows.size();
        int t = rows.get(0).size();
        long[] ids = new long[b * t];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < t; j++) ids[i * t + j] = rows.get(i).get(j).asLong();
        long[] mask = new long[ids.length];
        java.util.Arrays.fill(mask, 1);
        long[] positions = new long[ids.length];
        for (int i = 0; i < positions.length; i++) positions[i] = i % t;
        int[] lengths = new int[b];
        java.util.Arrays.fill(lengths, t);
        return new DataCollatorWithPadding.Batch(
                b, t, ids, mask, positions, lengths, LabelKind.TOKEN, ids.clone(), new float[0], new long[] {b, t});
    }
}
