package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.nn.lora.LoraConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Estimators' LoRA Params carry PEFT's LoraConfig both ways (setLora, loraConfig): lora_dropout and use_rslora
 * included, which a finetune config's lora section sets; lora_dropout outside [0, 1) is refused by the Param.
 */
class LoraParamsTest {

    @Test
    void setLoraThenLoraConfigKeepsDropoutAndRslora() {
        LoraConfig given = new LoraConfig(
                16,
                8,
                0.1,
                List.of("query", "value"),
                null,
                LoraConfig.Bias.LORA_ONLY,
                List.of("pooler"),
                null,
                null,
                true);
        LoraConfig back = new TextClassifier().setLora(given).loraConfig();
        assertEquals(given, back);
        assertEquals(8 / 4.0, back.scaling(), "rsLoRA: lora_alpha / sqrt(r)");
    }

    @Test
    void loraDropoutOutsideZeroToOneIsRefused() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> new TextClassifier().setLoraDropout(1.0));
        assertTrue(e.getMessage().contains("loraDropout"), e.getMessage());
        TextClassifier c = new TextClassifier().setLoraDropout(0.5);
        assertEquals(0.5, (Double) c.getOrDefault(c.loraDropout()));
    }
}
