package io.sparkformers.nn.distilbert;

import io.sparkformers.nn.PretrainedModel;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** HF {@code DistilBertPreTrainedModel}: config, prefix "distilbert", init, inputs (input_ids, attention_mask). */
public abstract class DistilBertPreTrainedModel extends PretrainedModel {

    protected final DistilBertConfig config;

    protected DistilBertPreTrainedModel(DistilBertConfig config) {
        this.config = config;
    }

    public DistilBertConfig config() {
        return config;
    }

    @Override
    public com.fasterxml.jackson.databind.node.ObjectNode configJson() {
        return config.toJson();
    }

    @Override
    public String baseModelPrefix() {
        return "distilbert";
    }

    @Override
    public double initializerRange() {
        return config.initializerRange();
    }

    @Override
    protected int numInputs() {
        return 2;
    }

    @Override
    public List<Pattern> ignoredOnLoad() {
        return ignoredKeys(false);
    }

    /** Buffers, and the MLM head of pre-training checkpoints unless the model is the MLM (tied projector only). */
    static List<Pattern> ignoredKeys(boolean maskedLm) {
        List<Pattern> p = new ArrayList<>(List.of(Pattern.compile("(.*\\.)?embeddings\\.position_ids")));
        p.add(Pattern.compile(maskedLm ? "vocab_projector\\.weight" : "vocab_(transform|layer_norm|projector)\\..*"));
        return List.copyOf(p);
    }
}
