package io.sparkformers.jobs.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.nn.lora.LoraConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The finetune config's {@code lora:} block: PEFT LoraConfig keys, checked with the rest before any data. */
class FinetuneLoraConfigTest {

    private static Map<String, Object> config(Object lora, String mode) {
        return Map.of(
                "model",
                "m",
                "mode",
                mode,
                "data",
                Map.of("train", "x.csv"),
                "training",
                Map.of("output_dir", "o"),
                "lora",
                lora);
    }

    @Test
    void loraBlockBecomesPeftsLoraConfig() {
        FinetuneConfig c = FinetuneConfig.fromMap(
                config(
                        Map.of(
                                "r",
                                8,
                                "lora_alpha",
                                16,
                                "target_modules",
                                List.of("query", "value"),
                                "bias",
                                "lora_only",
                                "modules_to_save",
                                List.of("pooler")),
                        "fine_tune"),
                Map.of());
        LoraConfig l = c.lora();
        assertEquals(8, l.r());
        assertEquals(2.0, l.scaling());
        assertEquals(List.of("query", "value"), l.targetModules());
        assertEquals(LoraConfig.Bias.LORA_ONLY, l.bias());
        assertEquals(List.of("pooler"), l.modulesToSave());
        assertEquals(
                ".*query",
                FinetuneConfig.fromMap(config(Map.of("target_modules", ".*query"), "fine_tune"), Map.of())
                        .lora()
                        .targetRegex());
        assertNull(FinetuneConfig.fromMap(
                        Map.of("model", "m", "data", Map.of("train", "x.csv"), "training", Map.of("output_dir", "o")),
                        Map.of())
                .lora());
    }

    @Test
    void unknownLoraKeysAndOtherModesAreRefused() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> FinetuneConfig.fromMap(
                        config(Map.of("rank", 8, "bias", "some"), "feature_extraction"), Map.of()));
        assertTrue(e.getMessage().contains("lora.rank"), e.getMessage());
        assertTrue(e.getMessage().contains("leave mode fine_tune, not feature_extraction"), e.getMessage());
        assertTrue(e.getMessage().contains("LoRA bias must be one of none, all, lora_only"), e.getMessage());
    }

    /** The section is read by PEFT's own reader: its other keys pass, its unsupported variants are refused by name. */
    @Test
    void peftKeysAreReadByPeftsReaderAndUnsupportedOnesRefused() {
        LoraConfig l = FinetuneConfig.fromMap(
                        config(
                                Map.of("peft_type", "LORA", "task_type", "SEQ_CLS", "use_dora", false, "r", 4),
                                "fine_tune"),
                        Map.of())
                .lora();
        assertEquals(4, l.r());
        assertEquals(LoraConfig.BERT_TARGETS, l.targetModules());
        IllegalArgumentException dora = assertThrows(
                IllegalArgumentException.class,
                () -> FinetuneConfig.fromMap(config(Map.of("use_dora", true), "fine_tune"), Map.of()));
        assertTrue(
                dora.getMessage().contains("lora sets use_dora, which is not supported (plain LoRA only)"),
                dora.getMessage());
        IllegalArgumentException text = assertThrows(
                IllegalArgumentException.class,
                () -> FinetuneConfig.fromMap(config(Map.of("r", "sixteen"), "fine_tune"), Map.of()));
        assertTrue(text.getMessage().contains("lora: r must be an integer but was \"sixteen\""), text.getMessage());
    }
}
