package io.sparkformers.nn.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * PEFT's LoraConfig value: {@code adapter_config.json} written and read back gives the same config for every field (the
 * with…() copies rely on it), and each with…() changes its one field, as the canonical constructor builds it.
 */
class LoraConfigTest {
    static final LoraConfig FULL = new LoraConfig(
            4,
            12.5,
            0.05,
            List.of("query", "value"),
            null,
            LoraConfig.Bias.LORA_ONLY,
            List.of("classifier"),
            "SEQ_CLS",
            "all-MiniLM-L6-v2",
            true);
    static final LoraConfig REGEX =
            new LoraConfig(8, 16, 0.0, null, ".*\\.attn\\.c_attn", LoraConfig.Bias.NONE, List.of(), null, null, false);

    @Test
    void adapterConfigJsonReadsBackAsTheSameConfig() {
        for (LoraConfig c : List.of(FULL, REGEX, LoraConfig.of(2, 4, LoraConfig.BERT_TARGETS))) {
            assertEquals(
                    c,
                    LoraConfig.fromJson(c.toJson(), "adapter_config.json"),
                    c.toJson().toString());
        }
    }

    @Test
    void eachWithChangesOnlyItsField() {
        assertEquals(
                new LoraConfig(
                        4,
                        12.5,
                        0.1,
                        List.of("query", "value"),
                        null,
                        LoraConfig.Bias.LORA_ONLY,
                        List.of("classifier"),
                        "SEQ_CLS",
                        "all-MiniLM-L6-v2",
                        true),
                FULL.withLoraDropout(0.1));
        assertEquals(
                new LoraConfig(
                        4,
                        12.5,
                        0.05,
                        List.of("query", "value"),
                        null,
                        LoraConfig.Bias.LORA_ONLY,
                        List.of("score", "pooler"),
                        "SEQ_CLS",
                        "all-MiniLM-L6-v2",
                        true),
                FULL.withModulesToSave(List.of("score", "pooler")));
        assertEquals(
                new LoraConfig(
                        8, 16, 0.0, null, ".*\\.attn\\.c_attn", LoraConfig.Bias.NONE, List.of(), null, "gpt2", false),
                REGEX.withBaseModel("gpt2"));
        assertEquals(
                new LoraConfig(
                        8,
                        16,
                        0.0,
                        null,
                        ".*\\.attn\\.c_attn",
                        LoraConfig.Bias.NONE,
                        List.of(),
                        "CAUSAL_LM",
                        null,
                        false),
                REGEX.withTaskType("CAUSAL_LM"));
        assertEquals(List.of(), FULL.withModulesToSave(null).modulesToSave());
        assertEquals(null, FULL.withTaskType(null).taskType());
    }

    @Test
    void aCopyIsValidatedAgain() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FULL.withLoraDropout(1.5));
        assertEquals("lora_dropout must be in [0, 1) but was 1.5", e.getMessage());
    }
}
