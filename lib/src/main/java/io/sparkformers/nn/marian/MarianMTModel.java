package io.sparkformers.nn.marian;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.bart.BartForConditionalGeneration;
import io.sparkformers.nn.bart.BartPositions;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Port of HF {@code MarianMTModel}: BART's {@link BartForConditionalGeneration} layout and parameter names
 * ({@code model.shared}, {@code model.encoder}, {@code model.decoder}, {@code final_logits_bias}; HF's Marian modules
 * are "Copied from Bart") with sinusoidal positions and no layernorm_embedding ({@link BartPositions#SINUSOIDAL}).
 * Block inputs and outputs, encoding and cached decoding are BART's.
 */
public final class MarianMTModel extends BartForConditionalGeneration {

    private final MarianConfig marian;

    public MarianMTModel(MarianConfig m) {
        super(m.layers(), BartPositions.SINUSOIDAL);
        marian = m;
    }

    /** The Marian config ({@link #config()} is its BART layer fields). */
    public MarianConfig marianConfig() {
        return marian;
    }

    @Override
    public ObjectNode configJson() {
        return marian.toJson();
    }

    /**
     * The tied copies of the shared table (encoder/decoder embed_tokens, lm_head), not stored apart by HF, and the
     * sinusoidal position tables older exports stored (a function here, not weights).
     */
    @Override
    public List<Pattern> ignoredOnLoad() {
        return List.of(
                Pattern.compile("model\\.(encoder|decoder)\\.embed_(tokens|positions)\\.weight"),
                Pattern.compile("lm_head\\.weight"));
    }
}
