package io.sparkformers.hub;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A checkpoint folder in Hugging Face layout, as {@code save_pretrained} writes it: {@code config.json}, weights in
 * {@code model.safetensors} (or shards listed by {@code model.safetensors.index.json}), {@code tokenizer.json},
 * {@code tokenizer_config.json}, and for sentence-transformers models {@code modules.json} + {@code 1_Pooling/}.
 * Opening validates the layout and refuses pickle weights; the weights themselves are opened lazily.
 */
public final class HfCheckpoint {
    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";
    public static final String WEIGHTS_INDEX = "model.safetensors.index.json";
    public static final String TOKENIZER = "tokenizer.json";
    public static final String TOKENIZER_CONFIG = "tokenizer_config.json";

    private final Path dir;
    private final ObjectNode config;
    private final Path weights;
    private final TokenizerConfig tokenizerConfig;
    private final Optional<SentencePooling> pooling;

    private HfCheckpoint(
            Path dir,
            ObjectNode config,
            Path weights,
            TokenizerConfig tokenizerConfig,
            Optional<SentencePooling> pooling) {
        this.dir = dir;
        this.config = config;
        this.weights = weights;
        this.tokenizerConfig = tokenizerConfig;
        this.pooling = pooling;
    }

    /** Opens a checkpoint folder; every error names the folder and says what a checkpoint folder needs. */
    public static HfCheckpoint open(Path dir) throws IOException {
        if (!Files.exists(dir)) throw new IOException("model folder " + dir + " does not exist");
        if (!Files.isDirectory(dir))
            throw new IOException(dir + " is not a folder; a model is a Hugging Face checkpoint "
                    + "folder holding config.json, model.safetensors and tokenizer.json");
        if (!Files.isReadable(dir)) throw new IOException("model folder " + dir + " is not readable");
        Path configFile = dir.resolve(CONFIG);
        if (!Files.isRegularFile(configFile)) {
            throw new IOException(
                    dir + " has no config.json: not a Hugging Face checkpoint folder (expected config.json, "
                            + "model.safetensors and tokenizer.json, as save_pretrained writes them)");
        }
        ObjectNode config = Json.readObject(configFile);
        if (!config.hasNonNull("model_type")) {
            throw new IOException(configFile + " has no \"model_type\"; add the architecture family, e.g. \"bert\"");
        }
        Path weights = findWeights(dir);
        Path tokCfgFile = dir.resolve(TOKENIZER_CONFIG);
        TokenizerConfig tokCfg = Files.isRegularFile(tokCfgFile)
                ? TokenizerConfig.fromJson(Json.readObject(tokCfgFile))
                : TokenizerConfig.bertUncased(
                        config.path("max_position_embeddings").asInt(512));
        return new HfCheckpoint(dir, config, weights, tokCfg, SentencePooling.read(dir));
    }

    private static Path findWeights(Path dir) throws IOException {
        Path single = dir.resolve(WEIGHTS);
        if (Files.isRegularFile(single)) return single;
        Path index = dir.resolve(WEIGHTS_INDEX);
        if (Files.isRegularFile(index)) return index;
        List<Path> pickles;
        try (Stream<Path> files = Files.list(dir)) {
            pickles = files.filter(UnsafeCheckpointException::isPickle).sorted().toList();
        }
        if (!pickles.isEmpty()) throw new UnsafeCheckpointException(pickles.get(0));
        throw new IOException(dir + " has no model.safetensors (nor model.safetensors.index.json for sharded weights)");
    }

    /**
     * The files that make up the model in {@code dir}, relative with '/' separators, sorted: the top-level files and
     * sentence-transformers' module folders ({@code 1_Pooling}, {@code 2_Normalize}); hidden files and training
     * leftovers such as {@code checkpoint-N} or {@code runs/} are not part of it. What travels when a model is saved
     * with a stage or shipped to executors.
     */
    public static List<String> modelFiles(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        try (var top = Files.list(dir)) {
            for (Path f : top.sorted().toList()) {
                String name = f.getFileName().toString();
                if (name.startsWith(".")) continue;
                if (Files.isRegularFile(f)) {
                    out.add(name);
                } else if (Files.isDirectory(f) && name.matches("\\d+_[A-Za-z]+")) {
                    try (var inner = Files.walk(f)) {
                        for (Path g :
                                inner.filter(Files::isRegularFile).sorted().toList()) {
                            String rel = dir.relativize(g).toString().replace('\\', '/');
                            if (!g.getFileName().toString().startsWith(".")) out.add(rel);
                        }
                    }
                }
            }
        }
        return out;
    }

    public Path dir() {
        return dir;
    }

    /** The parsed {@code config.json} (a copy: callers may not change the checkpoint's view). */
    public ObjectNode config() {
        return config.deepCopy();
    }

    public String modelType() {
        return config.get("model_type").asText();
    }

    /** {@code model.safetensors} or {@code model.safetensors.index.json}. */
    public Path weightsPath() {
        return weights;
    }

    /** Opens the weights (single file or shards); the caller closes them. */
    public SafetensorsCheckpoint openWeights() throws IOException {
        return SafetensorsCheckpoint.open(weights);
    }

    /** {@code tokenizer.json}, or an error saying the folder lacks one. */
    public Path tokenizerJson() throws IOException {
        Path p = dir.resolve(TOKENIZER);
        if (!Files.isRegularFile(p)) {
            throw new IOException(
                    dir + " has no tokenizer.json; Sparkformers tokenizes with the Hugging Face tokenizers "
                            + "library, which needs the fast-tokenizer file (save it with tokenizer.save_pretrained)");
        }
        return p;
    }

    public TokenizerConfig tokenizerConfig() {
        return tokenizerConfig;
    }

    public Optional<SentencePooling> pooling() {
        return pooling;
    }
}
