package io.sparkformers.convert;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A jar (or zip) that ships one ONNX model and its {@code tokenizer.json}, as the embedding-model jars on Maven
 * Central do ({@code all-minilm-l6-v2.onnx} beside {@code all-minilm-l6-v2-tokenizer.json}). Entries are read
 * straight from the archive; nothing is extracted to disk.
 */
public final class ModelJar implements Closeable {

    private final Path path;
    private final ZipFile zip;
    private final ZipEntry onnx;
    private final ZipEntry tokenizer;

    private ModelJar(Path path, ZipFile zip, ZipEntry onnx, ZipEntry tokenizer) {
        this.path = path;
        this.zip = zip;
        this.onnx = onnx;
        this.tokenizer = tokenizer;
    }

    /** Opens {@code jar} and locates its single {@code .onnx} entry and its single tokenizer json entry. */
    public static ModelJar open(Path jar) throws IOException {
        ZipFile zip = new ZipFile(jar.toFile());
        try {
            List<ZipEntry> models = new ArrayList<>(), tokenizers = new ArrayList<>();
            zip.stream().filter(e -> !e.isDirectory()).forEach(e -> {
                String base = baseName(e.getName());
                if (base.endsWith(".onnx")) models.add(e);
                else if (base.equals("tokenizer.json") || base.endsWith("-tokenizer.json")) tokenizers.add(e);
            });
            if (models.size() != 1) {
                throw new IllegalArgumentException(jar + ": expected exactly one .onnx entry, found "
                        + models.stream().map(ZipEntry::getName).toList());
            }
            if (tokenizers.size() != 1) {
                throw new IllegalArgumentException(jar + ": expected exactly one tokenizer json entry "
                        + "(tokenizer.json or *-tokenizer.json), found "
                        + tokenizers.stream().map(ZipEntry::getName).toList());
            }
            return new ModelJar(jar, zip, models.get(0), tokenizers.get(0));
        } catch (RuntimeException | Error e) {
            zip.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** Entry name of the ONNX model, e.g. {@code all-minilm-l6-v2.onnx}. */
    public String onnxEntry() {
        return onnx.getName();
    }

    /** Entry name of the tokenizer json. */
    public String tokenizerEntry() {
        return tokenizer.getName();
    }

    /** The model's base name: the ONNX entry's file name without {@code .onnx}, e.g. {@code bge-small-en-v1.5}. */
    public String modelName() {
        String base = baseName(onnx.getName());
        return base.substring(0, base.length() - ".onnx".length());
    }

    /** Parses the ONNX entry (inflated into one array the size of the model). */
    public OnnxModel readOnnx() throws IOException {
        try (InputStream in = zip.getInputStream(onnx)) {
            return OnnxModel.read(in, onnx.getSize(), path + "!/" + onnx.getName());
        }
    }

    /** Copies the ONNX entry to a file (ONNX Runtime and other tools read models from files). */
    public void extractOnnx(java.nio.file.Path target) throws IOException {
        try (InputStream in = zip.getInputStream(onnx)) {
            java.nio.file.Files.copy(in, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** The tokenizer json bytes, unchanged. */
    public byte[] readTokenizerJson() throws IOException {
        try (InputStream in = zip.getInputStream(tokenizer)) {
            return in.readAllBytes();
        }
    }

    private static String baseName(String entry) {
        return entry.substring(entry.lastIndexOf('/') + 1);
    }

    @Override
    public void close() throws IOException {
        zip.close();
    }
}
