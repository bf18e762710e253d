package io.sparkformers.nn.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.AutoModels;
import io.sparkformers.nn.Task;
import java.util.List;
import org.junit.jupiter.api.Test;

/** LlamaConfig reads HF's llama / mistral / qwen2 config.json and refuses what the port does not implement. */
class LlamaConfigTest {

    private static ObjectNode json(String s) throws Exception {
        return (ObjectNode) Json.MAPPER.readTree(s.replace('\'', '"'));
    }

    private static String refusal(String config) {
        return assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromJson(json(config)))
                .getMessage();
    }

    @Test
    void refusesUnsupportedValuesLoudly() {
        assertTrue(refusal("{'model_type':'llama','rope_scaling':{'rope_type':'yarn','factor':4.0}}")
                .contains("rope_scaling type 'yarn' is not supported"));
        assertTrue(refusal("{'model_type':'llama','hidden_act':'gelu'}").contains("hidden_act 'gelu'"));
        assertTrue(refusal("{'model_type':'llama','num_attention_heads':4,'num_key_value_heads':3,'hidden_size':32}")
                .contains("not a multiple of num_key_value_heads (3)"));
        assertTrue(refusal("{'model_type':'llama','pretraining_tp':2}").contains("pretraining_tp 2"));
        assertTrue(refusal("{'model_type':'llama','rope_scaling':{'rope_type':'llama3','factor':8.0}}")
                .contains("low_freq_factor"));
        assertTrue(refusal("{'model_type':'gpt2'}").contains("not a Llama-family decoder"));
    }

    @Test
    void readsEachVariantWithItsDefaults() throws Exception {
        LlamaConfig linear = LlamaConfig.fromJson(
                json("{'model_type':'llama','hidden_size':32,'num_attention_heads':4,'num_hidden_layers':2,"
                        + "'rope_scaling':{'type':'linear','factor':2.0}}"));
        assertEquals("linear", linear.ropeScaling().ropeType());
        assertEquals(8, linear.headDim());
        assertEquals(4, linear.numKeyValueHeads());
        assertNull(linear.slidingWindow(0));

        LlamaConfig mistral = LlamaConfig.fromJson(json("{'model_type':'mistral','num_hidden_layers':2}"));
        assertEquals(4096, mistral.slidingWindow(1));
        assertEquals(8, mistral.numKeyValueHeads());
        assertEquals("MistralForCausalLM", mistral.causalLmArchitecture());

        LlamaConfig qwen = LlamaConfig.fromJson(json("{'model_type':'qwen2','num_hidden_layers':3,"
                + "'use_sliding_window':true,'sliding_window':16,'max_window_layers':2}"));
        assertEquals(List.of("full_attention", "full_attention", "sliding_attention"), qwen.layerTypes());
        assertTrue(qwen.qkvBias() && !qwen.outputBias());
        assertNull(LlamaConfig.fromJson(json("{'model_type':'qwen2'}")).slidingWindow(0));
        assertEquals(qwen, LlamaConfig.fromJson(qwen.toJson()));
    }

    @Test
    void autoModelsBuildsDecodersForCausalLmOnly() throws Exception {
        ObjectNode c = LlamaConfig.tiny().toJson();
        assertTrue(AutoModels.fromConfig(c, Task.CAUSAL_LM) instanceof LlamaForCausalLM);
        String msg = assertThrows(
                        IllegalArgumentException.class, () -> AutoModels.fromConfig(c, Task.SEQUENCE_CLASSIFICATION))
                .getMessage();
        assertEquals("task SEQUENCE_CLASSIFICATION is not supported for llama (supported: [CAUSAL_LM])", msg);
    }
}
