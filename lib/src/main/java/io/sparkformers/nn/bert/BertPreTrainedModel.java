package io.sparkformers.nn.bert;

import io.sparkformers.nn.PretrainedModel;

/** HF {@code BertPreTrainedModel}: what every BERT-family model shares (config, prefix, init, inputs). */
public abstract class BertPreTrainedModel extends PretrainedModel {

    protected final BertConfig config;

    protected BertPreTrainedModel(BertConfig config) {
        this.config = config;
    }

    public BertConfig config() {
        return config;
    }

    @Override
    public com.fasterxml.jackson.databind.node.ObjectNode configJson() {
        return config.toJson();
    }

    /** BF16 inference: the encoder's six projections per layer multiply in BF16 (pooler and heads in float32). */
    @Override
    public boolean supportsBf16() {
        return true;
    }

    @Override
    public String baseModelPrefix() {
        return config.baseModelPrefix();
    }

    @Override
    public double initializerRange() {
        return config.initializerRange();
    }

    /** input_ids, attention_mask, token_type_ids. */
    @Override
    protected int numInputs() {
        return 3;
    }

    /** Heads whose HF RoBERTa counterpart has another layout are BERT-only: say so instead of mis-naming keys. */
    static BertConfig requireBert(BertConfig c, String head, String robertaLayout) {
        if (!"bert".equals(c.modelType())) {
            throw new IllegalArgumentException(head + " is not supported for model_type '" + c.modelType()
                    + "': HF's RoBERTa head has another layout (" + robertaLayout + ")");
        }
        return c;
    }
}
