package io.sparkformers.train;

import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.HfCheckpointWriter;
import io.sparkformers.nn.StateDict;
import io.sparkformers.nn.bert.BertConfig;
import io.sparkformers.nn.bert.BertModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A seeded, randomly initialised 2-layer BERT saved as a base checkpoint without pooler (like all-MiniLM-L6-v2), with
 * MiniLM's real tokenizer, and toy sentiment rows for it.
 */
public final class TinyBert {
    private TinyBert() {}

    static Path create(Path dir) throws IOException {
        return create(dir, true);
    }

    /**
     * @param dropout false sets every dropout rate to 0, so a micro-batch's gradient does not depend on which dropout
     *                seed (hence which micro-batch split) produced it
     */
    public static Path create(Path dir, boolean dropout) throws IOException {
        Path minilm = BuiltinModels.resolve(BuiltinModels.get("all-MiniLM-L6-v2"));
        HfCheckpoint src = HfCheckpoint.open(minilm);
        ObjectNode json = BertConfig.tiny().toJson();
        json.put("vocab_size", 30522);
        json.put("max_position_embeddings", 64);
        if (!dropout) {
            json.put("hidden_dropout_prob", 0.0);
            json.put("attention_probs_dropout_prob", 0.0);
        }
        json.remove("id2label");
        json.remove("label2id");
        BertModel base = new BertModel(BertConfig.fromJson(json), false);
        try (NDManager m = NDManager.newBaseManager()) {
            JniUtils.setSeed(7);
            base.initialize(m);
            json.putArray("architectures").add("BertModel");
            HfCheckpointWriter.write(
                    dir,
                    json,
                    StateDict.of(base),
                    Files.readAllBytes(src.tokenizerJson()),
                    src.tokenizerConfig(),
                    Optional.empty());
        }
        return dir;
    }

    private static final String[] GOOD = {"great", "wonderful", "good", "lovely", "excellent", "fine"};
    private static final String[] BAD = {"awful", "terrible", "bad", "horrible", "poor", "dreadful"};
    private static final String[] NOUN = {"movie", "film", "show", "book", "song", "meal", "day"};

    /** {@code n} rows "the movie was great" → pos / "… awful" → neg, deterministic. */
    static TextDataset sentiment(int n, int offset) {
        List<String> texts = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (int i = offset; i < offset + n; i++) {
            boolean pos = i % 2 == 0;
            String adj = (pos ? GOOD : BAD)[(i / 2) % GOOD.length];
            String noun = NOUN[(i / 3) % NOUN.length];
            texts.add("the " + noun + " was " + adj + (i % 5 == 0 ? " and i saw it twice this week" : ""));
            labels.add(pos ? "pos" : "neg");
        }
        return TextDataset.of("toy sentiment " + offset + ".." + (offset + n), texts, null, labels);
    }
}
