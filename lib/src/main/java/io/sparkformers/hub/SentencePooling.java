package io.sparkformers.hub;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * How a sentence-transformers checkpoint turns token vectors into one sentence vector: {@code modules.json} lists a
 * Pooling module ({@code 1_Pooling/config.json}) and optionally a Normalize module. Only CLS and mean pooling are
 * supported (what BERT-family sentence models ship); other modes are refused when read. The Transformer module's
 * {@code sentence_bert_config.json} gives {@code max_seq_length}: sentence-transformers truncates there (256 for
 * all-MiniLM-L6-v2), below the tokenizer's {@code model_max_length}.
 *
 * @param mode         CLS: the first token's vector; MEAN: the average of the real (non-padding) token vectors
 * @param normalize    whether the vector is L2-normalised (a {@code sentence_transformers.models.Normalize} module)
 * @param maxSeqLength sentence-transformers' {@code max_seq_length}, or null when the checkpoint names none
 */
public record SentencePooling(Mode mode, boolean normalize, Integer maxSeqLength) {

    /** The Transformer module's config file, beside config.json. */
    public static final String SENTENCE_BERT_CONFIG = "sentence_bert_config.json";

    public SentencePooling {
        if (maxSeqLength != null && maxSeqLength <= 0) {
            throw new IllegalArgumentException("max_seq_length must be > 0 but was " + maxSeqLength);
        }
    }

    /** Pooling without a max_seq_length of its own. */
    public SentencePooling(Mode mode, boolean normalize) {
        this(mode, normalize, null);
    }

    /** This pooling truncating at {@code maxSeqLength} tokens. */
    public SentencePooling withMaxSeqLength(int maxSeqLength) {
        return new SentencePooling(mode, normalize, maxSeqLength);
    }

    public enum Mode {
        CLS,
        MEAN
    }

    /** What a sentence-embedding model without sentence-transformers files gets: mean pooling, L2-normalised. */
    public static final SentencePooling DEFAULT = new SentencePooling(Mode.MEAN, true);

    /** Reads {@code modules.json} and the pooling config from a checkpoint folder; empty when the folder has none. */
    public static Optional<SentencePooling> read(Path dir) throws IOException {
        Path modulesFile = dir.resolve("modules.json");
        if (!Files.isRegularFile(modulesFile)) return Optional.empty();
        var modules = Json.MAPPER.readTree(modulesFile.toFile());
        String poolingPath = null;
        boolean normalize = false;
        for (var m : modules) {
            String type = m.path("type").asText();
            if (type.endsWith(".Pooling")) poolingPath = m.path("path").asText();
            if (type.endsWith(".Normalize")) normalize = true;
        }
        if (poolingPath == null) return Optional.empty();
        ObjectNode cfg = Json.readObject(dir.resolve(poolingPath).resolve("config.json"));
        boolean cls = cfg.path("pooling_mode_cls_token").asBoolean(false);
        boolean mean = cfg.path("pooling_mode_mean_tokens").asBoolean(false);
        for (String unsupported : new String[] {
            "pooling_mode_max_tokens",
            "pooling_mode_mean_sqrt_len_tokens",
            "pooling_mode_weightedmean_tokens",
            "pooling_mode_lasttoken"
        }) {
            if (cfg.path(unsupported).asBoolean(false)) {
                throw new IOException(
                        dir.resolve(poolingPath) + "/config.json asks for " + unsupported
                                + ", which Sparkformers does not support (supported: pooling_mode_cls_token, pooling_mode_mean_tokens)");
            }
        }
        if (cls == mean) {
            throw new IOException(dir.resolve(poolingPath) + "/config.json must enable exactly one of "
                    + "pooling_mode_cls_token and pooling_mode_mean_tokens");
        }
        Integer maxSeq = null;
        Path sbert = dir.resolve(SENTENCE_BERT_CONFIG);
        if (Files.isRegularFile(sbert)) {
            var m = Json.readObject(sbert).path("max_seq_length");
            if (m.canConvertToInt() && m.asInt() > 0) maxSeq = m.asInt();
        }
        return Optional.of(new SentencePooling(cls ? Mode.CLS : Mode.MEAN, normalize, maxSeq));
    }

    /**
     * Writes {@code modules.json}, {@code 1_Pooling/config.json}, (if normalising) {@code 2_Normalize/} and (with a
     * max_seq_length) {@code sentence_bert_config.json}.
     */
    public void write(Path dir, int hiddenSize) throws IOException {
        if (maxSeqLength != null) {
            // max_seq_length only: do_lower_case is not known here, and the tokenizer lowercases where the model needs
            // it
            Json.write(
                    dir.resolve(SENTENCE_BERT_CONFIG),
                    Json.MAPPER.createObjectNode().put("max_seq_length", maxSeqLength));
        }
        ArrayNode modules = Json.MAPPER.createArrayNode();
        modules.addObject()
                .put("idx", 0)
                .put("name", "0")
                .put("path", "")
                .put("type", "sentence_transformers.models.Transformer");
        modules.addObject()
                .put("idx", 1)
                .put("name", "1")
                .put("path", "1_Pooling")
                .put("type", "sentence_transformers.models.Pooling");
        if (normalize) {
            modules.addObject()
                    .put("idx", 2)
                    .put("name", "2")
                    .put("path", "2_Normalize")
                    .put("type", "sentence_transformers.models.Normalize");
            Files.createDirectories(dir.resolve("2_Normalize"));
        }
        Json.write(dir.resolve("modules.json"), modules);
        Files.createDirectories(dir.resolve("1_Pooling"));
        ObjectNode cfg = Json.MAPPER.createObjectNode();
        cfg.put("word_embedding_dimension", hiddenSize);
        cfg.put("pooling_mode_cls_token", mode == Mode.CLS);
        cfg.put("pooling_mode_mean_tokens", mode == Mode.MEAN);
        cfg.put("pooling_mode_max_tokens", false);
        cfg.put("pooling_mode_mean_sqrt_len_tokens", false);
        Json.write(dir.resolve("1_Pooling").resolve("config.json"), cfg);
    }

    @Override
    public String toString() {
        return mode.name().toLowerCase(Locale.ROOT)
                + (normalize ? "+normalize" : "")
                + (maxSeqLength == null ? "" : ", max_seq_length " + maxSeqLength);
    }
}
