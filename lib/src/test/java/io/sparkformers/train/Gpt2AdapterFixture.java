package io.sparkformers.train;

import ai.djl.Device;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.ParameterNames;
import io.sparkformers.nn.Task;
import io.sparkformers.nn.lora.LoraConfig;
import io.sparkformers.nn.lora.LoraModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes the GPT-2 LoRA adapter our training makes, for {@code make_lora_gpt2_references.py} (its PEFT logits are
 * the reference of {@code LoraGpt2ParityTest}): the tiny GPT-2 with r=4, lora_alpha=8, lora_dropout 0.1 on c_attn and
 * c_fc, three AdamW steps (lr 1e-2, clipping 1.0) of causal-LM loss on the reference's ids, then
 * {@link LoraModel#saveAdapter}. Run from {@code lib/} with the test classpath:
 *
 * <pre>java -cp target/classes:target/test-classes:DEPS io.sparkformers.train.Gpt2AdapterFixture \
 *     src/test/resources/lora/gpt2/ours-adapter</pre>
 */
public final class Gpt2AdapterFixture {

    private Gpt2AdapterFixture() {}

    public static void main(String[] args) throws Exception {
        System.setProperty("ai.djl.offline", "true");
        Path out = Path.of(args[0]);
        var ids = io.sparkformers.hub.Json.readObject(LoraDropoutParityTest.DIR.resolve("references.json"))
                .get("input_ids");
        try (HfModel m = HfModel.fromPretrained(
                        HfCheckpoint.open(LoraDropoutParityTest.BASE), Task.CAUSAL_LM, Device.cpu(), c -> c);
                AdamW adamw = new AdamW(ParamGroup.hfDefaults(1e-2, 0.0))) {
            TrainStep.seedTorch(19);
            LoraModel lora = LoraModel.wrap(
                    m.block(),
                    LoraConfig.of(4, 8, List.of("c_attn", "c_fc"))
                            .withLoraDropout(0.1)
                            .withTaskType("CAUSAL_LM")
                            .withBaseModel("gpt2-tiny"));
            for (ParameterNames.Entry e : ParameterNames.of(m.block()).values())
                e.parameter().freeze(true);
            List<ParamRef> trainable = new ArrayList<>();
            lora.adapterParameters().forEach((name, p) -> {
                p.freeze(false);
                trainable.add(new ParamRef(name, p.getArray()));
            });
            TrainStep step = new TrainStep(lora, m.manager(), TrainingLoss.causalLanguageModeling(), false, trainable);
            for (int s = 0; s < 3; s++) {
                double loss = step.forwardBackward(LoraDropoutParityTest.batch(ids), 1.0, s)
                        .loss();
                step.applyUpdate(adamw, 1.0, 1.0);
                System.out.println("step " + s + " loss " + loss);
            }
            lora.saveAdapter(out);
        }
    }
}
