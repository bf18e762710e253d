package io.sparkformers.convert;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * How sentence-transformers turns token states into one sentence embedding: the {@code Pooling} module and an
 * optional {@code Normalize} module. Follows sentence-transformers' {@code modules.json} and
 * {@code 1_Pooling/config.json} formats. Query/passage prefixes some models expect (e5: {@code "query: "},
 * bge: an instruction for short queries) are a usage convention, not part of the checkpoint, and are not covered.
 *
 * @param mode                   which tokens are pooled
 * @param normalize              whether a {@code Normalize} (L2) module follows pooling
 * @param wordEmbeddingDimension width of the token states (HF {@code hidden_size})
 */
public record SentencePooling(Mode mode, boolean normalize, long wordEmbeddingDimension) {

    /** Pooling modes used by the shipped models. */
    public enum Mode {
        /** The {@code [CLS]} token's state (bge). */
        CLS,
        /** Mean of the states of non-padding tokens (all-MiniLM, e5). */
        MEAN
    }

    /** {@code 1_Pooling/config.json} content. */
    public ObjectNode poolingConfig() {
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.put("word_embedding_dimension", wordEmbeddingDimension);
        c.put("pooling_mode_cls_token", mode == Mode.CLS);
        c.put("pooling_mode_mean_tokens", mode == Mode.MEAN);
        c.put("pooling_mode_max_tokens", false);
        c.put("pooling_mode_mean_sqrt_len_tokens", false);
        c.put("pooling_mode_weightedmean_tokens", false);
        c.put("pooling_mode_lasttoken", false);
        c.put("include_prompt", true);
        return c;
    }

    /** {@code modules.json} content: Transformer at the root, Pooling in {@code 1_Pooling}, then Normalize if set. */
    public ArrayNode modulesJson() {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        a.addObject().put("idx", 0).put("name", "0").put("path", "").put("type", "sentence_transformers.models.Transformer");
        a.addObject().put("idx", 1).put("name", "1").put("path", "1_Pooling").put("type", "sentence_transformers.models.Pooling");
        if (normalize) {
            a.addObject().put("idx", 2).put("name", "2").put("path", "2_Normalize")
                    .put("type", "sentence_transformers.models.Normalize");
        }
        return a;
    }
}
