package io.sparkformers.nn.vision.vit;

import ai.djl.training.initializer.NormalInitializer;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.HfInit;
import io.sparkformers.nn.vision.VisionModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * HF {@code ViTPreTrainedModel}: config, base model prefix "vit", and {@code _init_weights} (Linear, Conv2d,
 * cls_token and position_embeddings ~ N(0, initializer_range) — HF truncates at ±2σ, a difference that only
 * matters for fresh weights; LayerNorm 1 and 0).
 */
public abstract class ViTPreTrainedModel extends VisionModel {

    protected final ViTConfig config;

    protected ViTPreTrainedModel(ViTConfig config) {
        this.config = config;
    }

    public ViTConfig config() {
        return config;
    }

    @Override
    public String baseModelPrefix() {
        return "vit";
    }

    @Override
    public double initializerRange() {
        return config.initializerRange();
    }

    @Override
    public ObjectNode configJson() {
        return config.toJson();
    }

    @Override
    public int numChannels() {
        return config.numChannels();
    }

    @Override
    public int imageSize() {
        return config.imageSize();
    }

    @Override
    public Map<Integer, String> id2label() {
        return config.id2label();
    }

    /** The ViTModel inside (this model itself for the base model). */
    public abstract ViTModel vit();

    @Override
    protected void applyInitializers() {
        HfInit.apply(this, config.initializerRange());
        ViTEmbeddings e = vit().embeddings();
        e.clsTokenParameter().setInitializer(new NormalInitializer((float) config.initializerRange()));
        e.positionEmbeddingsParameter().setInitializer(new NormalInitializer((float) config.initializerRange()));
    }

    /** Blocks of the ViTModel under {@code prefix}: embeddings, each layer, the final layernorm (and pooler). */
    static List<List<String>> blocks(String prefix, ViTConfig c, boolean withPooler) {
        List<List<String>> out = new ArrayList<>();
        out.add(List.of(prefix + "embeddings."));
        for (int i = 0; i < c.numHiddenLayers(); i++) out.add(List.of(prefix + "encoder.layer." + i + "."));
        out.add(List.of(prefix + "layernorm."));
        if (withPooler) out.add(List.of(prefix + "pooler."));
        return out;
    }
}
