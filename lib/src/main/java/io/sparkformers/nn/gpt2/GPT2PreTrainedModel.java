package io.sparkformers.nn.gpt2;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.PretrainedModel;
import java.util.List;
import java.util.regex.Pattern;

/**
 * HF {@code GPT2PreTrainedModel}: config, prefix "transformer", inputs (input_ids, attention_mask, position_ids).
 * Checkpoints may hold the tied {@code lm_head.weight} and the causal-mask buffers {@code attn.bias} /
 * {@code attn.masked_bias} of older versions: not weights here.
 */
public abstract class GPT2PreTrainedModel extends PretrainedModel {

    protected final GPT2Config config;

    protected GPT2PreTrainedModel(GPT2Config config) {
        this.config = config;
    }

    public GPT2Config config() {
        return config;
    }

    @Override
    public ObjectNode configJson() {
        return config.toJson();
    }

    @Override
    public String baseModelPrefix() {
        return "transformer";
    }

    @Override
    public double initializerRange() {
        return config.initializerRange();
    }

    @Override
    protected int numInputs() {
        return 3;
    }

    @Override
    public List<Pattern> ignoredOnLoad() {
        return List.of(Pattern.compile("lm_head\\.weight"), Pattern.compile("(.*\\.)?attn\\.(masked_)?bias"));
    }
}
