package io.sparkformers.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkformers.hub.SentencePooling;
import io.sparkformers.safetensors.DType;
import io.sparkformers.safetensors.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a BERT-family encoder exported to ONNX by {@code torch.onnx} / Optimum (all-MiniLM, bge, e5) back into an
 * HF {@code BertModel} checkpoint. Initializers keep their HF names except the dense weights feeding a MatMul,
 * which the exporter renames {@code onnx::MatMul_NNN} and stores {@code [in, out]}: each is named by dataflow
 * (MatMul → Add with initializer {@code X.bias} ⇒ {@code X.weight}), cross-checked against the MatMul node name,
 * and transposed to PyTorch's {@code [out, in]}. The config is recovered from shapes and graph constants.
 * Dynamically quantised exports (int8 weights with {@code _scale} / {@code _zero_point}, MatMulInteger) are
 * dequantised to float32; the result then carries the quantisation error of the source.
 */
public final class OnnxBertImporter {

    /**
     * Initializers that are not {@code BertModel} parameters, by HF name, with the reason they are dropped. All
     * other deviations from the HF names are the {@code bert.} prefix (stripped) and the dataflow-named MatMul
     * weights (transposed).
     */
    static final Map<String, String> DROPPED = Map.of(
            "embeddings.position_ids",
            "a buffer holding 0..max_position_embeddings-1; HF rebuilds it, "
                    + "recent transformers versions do not save it");

    /**
     * Sentence-transformers pooling of the models shipped in jars, by ONNX file base name (the model cards of
     * sentence-transformers/all-MiniLM-L6-v2, BAAI/bge-small-en-v1.5, intfloat/e5-small-v2).
     */
    static final Map<String, SentencePooling> KNOWN_POOLING = Map.of(
            "all-minilm-l6-v2", new SentencePooling(SentencePooling.Mode.MEAN, true, 256),
            "all-minilm-l6-v2-q", new SentencePooling(SentencePooling.Mode.MEAN, true, 256),
            "bge-small-en-v1.5", new SentencePooling(SentencePooling.Mode.CLS, true, 512),
            "bge-small-en-v1.5-q", new SentencePooling(SentencePooling.Mode.CLS, true, 512),
            "e5-small-v2", new SentencePooling(SentencePooling.Mode.MEAN, true, 512),
            "e5-small-v2-q", new SentencePooling(SentencePooling.Mode.MEAN, true, 512));

    /**
     * {@code model_max_length} of the suggested tokenizer config: the position table's 512, as HF's
     * {@code tokenizer_config.json} of these models says. sentence-transformers truncates all-MiniLM-L6-v2 at
     * 256 ({@code max_seq_length}, in {@link #KNOWN_POOLING}): a sentence-embedding setting, not a tokenizer limit.
     */
    static final int MODEL_MAX_LENGTH = 512;

    private static final Pattern LAYER = Pattern.compile("^encoder\\.layer\\.(\\d+)\\.");
    /** A dense MatMul's node name: {@code /encoder/layer.0/attention/self/query/MatMul} (quantised: {@code …/MatMul_quant}). */
    private static final Pattern MATMUL_NODE = Pattern.compile("^/?(.+)/MatMul(?:_\\d+)?(?:_quant)?$");

    private static final Set<String> PASS_THROUGH = Set.of("Cast", "Mul");

    private OnnxBertImporter() {}

    /** Imports the ONNX model and tokenizer json of a model jar; pooling comes from {@link #KNOWN_POOLING}. */
    public static ImportedCheckpoint importJar(Path jar) throws IOException {
        try (ModelJar mj = ModelJar.open(jar)) {
            OnnxModel model = mj.readOnnx();
            return importModel(model, mj.readTokenizerJson(), Optional.ofNullable(KNOWN_POOLING.get(mj.modelName())));
        }
    }

    /**
     * Imports a parsed model.
     *
     * @param tokenizerJson the model's HF {@code tokenizer.json}, passed through unchanged
     * @param pooling       the sentence-transformers pooling (with max_seq_length), if known
     */
    public static ImportedCheckpoint importModel(
            OnnxModel model, byte[] tokenizerJson, Optional<SentencePooling> pooling) {
        String src = model.source();
        Map<String, Tensor> values = new LinkedHashMap<>(model.initializers());
        Map<String, String> aliases = dequantize(values, src);
        Map<String, String> hfToOnnx = new HashMap<>();
        Map<String, Tensor> weights = new HashMap<>();
        Set<String> claimed = new HashSet<>();

        for (OnnxModel.Node node : model.nodes()) {
            if (!node.opType().equals("MatMul") && !node.opType().equals("MatMulInteger")) continue;
            if (node.inputs().size() < 2) continue;
            String w = aliases.getOrDefault(node.inputs().get(1), node.inputs().get(1));
            if (!values.containsKey(w)) continue; // activations × activations (attention scores)
            String bias = biasAfter(model, values, node);
            String module = hfName(bias.substring(0, bias.length() - ".bias".length()));
            Matcher m = MATMUL_NODE.matcher(node.name());
            if (m.matches()) {
                String fromNode = hfName(m.group(1).replace('/', '.'));
                if (!fromNode.equals(module)) {
                    throw new IllegalArgumentException(src + ": MatMul node '" + node.name() + "' names module '"
                            + fromNode + "' but its output feeds bias '" + bias + "' (module '" + module
                            + "'); refusing to guess which weight '" + w + "' is");
                }
            }
            String name = module + ".weight";
            if (!claimed.add(w) || weights.containsKey(name)) {
                throw new IllegalArgumentException(src + ": weight '" + w + "' / parameter '" + name
                        + "' is claimed by more than one MatMul (at node '" + node.name() + "')");
            }
            weights.put(name, HfBert.transpose(values.get(w), src + ": " + w + " (" + name + ")"));
            hfToOnnx.put(name, w);
        }
        for (Map.Entry<String, Tensor> e : values.entrySet()) {
            if (claimed.contains(e.getKey())) continue;
            String name = hfName(e.getKey());
            Tensor t = e.getValue();
            if (DROPPED.containsKey(name)) continue;
            if (name.endsWith(".weight") || name.endsWith(".bias")) {
                if (weights.put(name, t) != null) {
                    throw new IllegalArgumentException(src + ": parameter '" + name + "' appears twice");
                }
                hfToOnnx.put(name, e.getKey());
            } else if (t.shape().length == 2 && t.dtype().isFloatingPoint()) {
                // a matrix no dense MatMul claimed is a weight we could not name: never drop it silently
                throw new IllegalArgumentException(src + ": initializer '" + e.getKey() + "' " + t
                        + " is not an HF parameter name and no MatMul → Add(*.bias) names it");
            }
        }

        HfBert.Dims dims = dims(weights, src);
        int heads = numAttentionHeads(model, dims.hiddenSize());
        double eps = layerNormEps(model);
        String act = hiddenAct(model, hfToOnnx, dims.numLayers());
        Map<String, long[]> expected = HfBert.baseModelShapes(dims, "", weights.containsKey("pooler.dense.weight"));
        HfBert.checkShapes(weights, expected, src);
        Map<String, Tensor> ordered = new LinkedHashMap<>();
        for (String k : expected.keySet()) ordered.put(k, weights.get(k));

        boolean lowerCase = checkTokenizer(tokenizerJson, dims.vocabSize(), src);
        return new ImportedCheckpoint(
                ordered,
                HfBert.config("BertModel", dims, heads, act, eps),
                tokenizerJson,
                HfBert.tokenizerConfig(lowerCase, MODEL_MAX_LENGTH),
                pooling);
    }

    /** HF parameter name of an ONNX initializer or module path: the optional {@code bert.} prefix removed. */
    static String hfName(String onnxName) {
        return onnxName.startsWith("bert.") ? onnxName.substring("bert.".length()) : onnxName;
    }

    /**
     * The {@code *.bias} initializer added to this MatMul's output: its consumer Add, possibly behind the
     * Cast and scale Mul of a quantised MatMulInteger.
     */
    private static String biasAfter(OnnxModel model, Map<String, Tensor> values, OnnxModel.Node matmul) {
        Set<String> found = new TreeSet<>();
        Deque<String> frontier = new ArrayDeque<>(matmul.outputs());
        for (int hops = 0; hops < 4 && !frontier.isEmpty() && found.isEmpty(); hops++) {
            Deque<String> next = new ArrayDeque<>();
            for (String v : frontier) {
                for (OnnxModel.Node c : model.consumers(v)) {
                    if (c.opType().equals("Add")) {
                        for (String in : c.inputs()) {
                            if (!in.equals(v) && in.endsWith(".bias") && values.containsKey(in)) found.add(in);
                        }
                    } else if (PASS_THROUGH.contains(c.opType())) {
                        next.addAll(c.outputs());
                    }
                }
            }
            frontier = next;
        }
        if (found.size() != 1) {
            throw new IllegalArgumentException(model.source() + ": MatMul node '" + matmul.name() + "' multiplies by "
                    + "initializer '" + matmul.inputs().get(1) + "' but "
                    + (found.isEmpty()
                            ? "no Add with a '*.bias' initializer follows it"
                            : "several biases follow it: " + found)
                    + "; cannot name the weight");
        }
        return found.iterator().next();
    }

    /**
     * Replaces each dynamically quantised initializer triple {@code N_quantized}, {@code N_scale},
     * {@code N_zero_point} with float32 {@code N = (q - zero_point) * scale}, scale and zero point per tensor or
     * per column (last axis), as onnxruntime's {@code quantize_dynamic} writes them.
     *
     * @return value name in the graph ({@code N_quantized}) → dequantised initializer name ({@code N})
     */
    private static Map<String, String> dequantize(Map<String, Tensor> values, String src) {
        Map<String, String> aliases = new HashMap<>();
        for (String q : List.copyOf(values.keySet())) {
            if (!q.endsWith("_quantized")) continue;
            String base = q.substring(0, q.length() - "_quantized".length());
            Tensor qt = values.get(q), scale = values.get(base + "_scale"), zp = values.get(base + "_zero_point");
            if (scale == null || zp == null) continue;
            if ((qt.dtype() != DType.I8 && qt.dtype() != DType.U8)
                    || scale.dtype() != DType.F32
                    || zp.dtype() != qt.dtype()) {
                throw new IllegalArgumentException(src + ": cannot dequantise '" + q + "' " + qt + " with scale "
                        + scale + " and zero point " + zp + " (supported: int8/uint8 with float32 scale)");
            }
            long[] s = qt.shape();
            long cols = s.length == 0 ? 1 : s[s.length - 1];
            if ((scale.numel() != 1 && scale.numel() != cols) || zp.numel() != scale.numel()) {
                throw new IllegalArgumentException(src + ": cannot dequantise '" + q + "' " + qt + ": scale " + scale
                        + " and zero point " + zp + " are neither per-tensor nor per-column");
            }
            float[] sc = scale.toFloatArray();
            boolean signed = qt.dtype() == DType.I8;
            ByteBuffer qb = qt.data(), zb = zp.data();
            int n = Math.toIntExact(qt.numel()), per = sc.length;
            ByteBuffer out = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
            FloatBuffer f = out.asFloatBuffer();
            for (int k = 0; k < n; k++) {
                int j = per == 1 ? 0 : (int) (k % cols);
                int qv = signed ? qb.get(k) : qb.get(k) & 0xff;
                int zv = signed ? zb.get(j) : zb.get(j) & 0xff;
                f.put(k, (qv - zv) * sc[j]);
            }
            values.remove(q);
            values.remove(base + "_scale");
            values.remove(base + "_zero_point");
            values.put(base, new Tensor(DType.F32, s, out));
            aliases.put(q, base);
        }
        return aliases;
    }

    private static HfBert.Dims dims(Map<String, Tensor> w, String src) {
        long[] word = shapeOf(w, "embeddings.word_embeddings.weight", 2, src);
        long[] pos = shapeOf(w, "embeddings.position_embeddings.weight", 2, src);
        long[] type = shapeOf(w, "embeddings.token_type_embeddings.weight", 2, src);
        long[] inter = shapeOf(w, "encoder.layer.0.intermediate.dense.bias", 1, src);
        int layers = 0;
        for (String k : w.keySet()) {
            Matcher m = LAYER.matcher(k);
            if (m.find()) layers = Math.max(layers, Integer.parseInt(m.group(1)) + 1);
        }
        return new HfBert.Dims(word[0], word[1], layers, inter[0], pos[0], type[0]);
    }

    /** The shape of initializer {@code name}, which must have {@code rank} dimensions (the sizes are read from it). */
    private static long[] shapeOf(Map<String, Tensor> w, String name, int rank, String src) {
        Tensor t = w.get(name);
        if (t == null)
            throw new IllegalArgumentException(
                    src + ": no initializer for '" + name + "' (nor 'bert." + name + "'); not a BERT encoder export?");
        if (t.shape().length != rank) { // found by fuzzing: a scalar embedding table gave an index error
            throw new IllegalArgumentException(src + ": initializer '" + name + "' " + t + " has " + t.shape().length
                    + " dimensions, expected " + rank + "; not a BERT encoder export?");
        }
        return t.shape();
    }

    /**
     * Heads from the attention reshapes {@code (B, T, H) -> (B, T, nh, hs)}: a 4-element target shape, static or
     * concatenated from Constant pieces, whose last two entries multiply to {@code hidden}. All must agree.
     */
    static int numAttentionHeads(OnnxModel model, long hidden) {
        Set<Long> found = new TreeSet<>();
        for (OnnxModel.Node n : model.nodes()) {
            if (!n.opType().equals("Reshape") || n.inputs().size() < 2) continue;
            Long[] target = staticShape(model, n.inputs().get(1));
            if (target == null || target.length != 4 || target[2] == null || target[3] == null) continue;
            long nh = target[2], hs = target[3];
            if (nh == -1 && hs > 0 && hidden % hs == 0) nh = hidden / hs;
            if (hs == -1 && nh > 0 && hidden % nh == 0) hs = hidden / nh;
            if (nh > 0 && hs > 0 && nh * hs == hidden) found.add(nh);
        }
        if (found.size() != 1) {
            throw new IllegalArgumentException(model.source() + ": cannot tell num_attention_heads: attention Reshape "
                    + "targets (B, T, heads, head_size) with heads*head_size = " + hidden + " give " + found);
        }
        return Math.toIntExact(found.iterator().next());
    }

    /** A shape value's entries where static (null where computed at run time), or null if not a 1-D shape. */
    private static Long[] staticShape(OnnxModel model, String value) {
        Optional<Tensor> t = model.staticValue(value);
        if (t.isPresent()) return longs(t.get());
        Optional<OnnxModel.Node> p = model.producer(value);
        if (p.isEmpty() || !p.get().opType().equals("Concat")) return null;
        List<Long> parts = new ArrayList<>();
        for (String in : p.get().inputs()) {
            Optional<Tensor> piece = model.staticValue(in);
            Long[] v = piece.map(OnnxBertImporter::longs).orElse(null);
            if (v == null) parts.add(null); // a dynamic piece, e.g. Unsqueeze(Gather(Shape)) of B or T
            else parts.addAll(Arrays.asList(v));
        }
        return parts.toArray(new Long[0]);
    }

    private static Long[] longs(Tensor t) {
        if (t.dtype() != DType.I64 && t.dtype() != DType.I32) return null;
        int n = Math.toIntExact(t.numel());
        Long[] out = new Long[n];
        ByteBuffer b = t.data();
        for (int i = 0; i < n; i++) out[i] = t.dtype() == DType.I64 ? b.getLong(i * 8) : (long) b.getInt(i * 4);
        return out;
    }

    /**
     * {@code layer_norm_eps}: the {@code epsilon} attribute of LayerNormalization nodes (ONNX default 1e-5), or,
     * for LayerNorm decomposed into primitives, the constant in {@code Sqrt(ReduceMean((x - mean)^2) + eps)}.
     */
    static double layerNormEps(OnnxModel model) {
        Set<Float> found = new TreeSet<>();
        for (OnnxModel.Node n : model.nodes()) {
            if (n.opType().equals("LayerNormalization")) {
                found.add(n.attribute("epsilon").map(OnnxModel.Attribute::f).orElse(1e-5f));
            } else if (n.opType().equals("Sqrt") && !n.inputs().isEmpty()) {
                Optional<OnnxModel.Node> add = model.producer(n.inputs().get(0));
                if (add.isEmpty() || !add.get().opType().equals("Add")) continue;
                boolean fromMean = add.get().inputs().stream()
                        .anyMatch(in -> model.producer(in)
                                .map(p -> p.opType().equals("ReduceMean"))
                                .orElse(false));
                if (!fromMean) continue;
                for (String in : add.get().inputs()) {
                    model.staticValue(in)
                            .filter(t -> t.dtype() == DType.F32 && t.numel() == 1)
                            .ifPresent(t -> found.add(t.toFloatArray()[0]));
                }
            }
        }
        if (found.size() != 1) {
            throw new IllegalArgumentException(
                    model.source() + ": cannot tell layer_norm_eps: LayerNorm epsilons found " + found
                            + " (expected exactly one value)");
        }
        return HfBert.cleanDouble(found.iterator().next());
    }

    /**
     * {@code hidden_act} from the ops between each layer's intermediate bias Add and the next MatMul: Erf is the
     * exact GELU HF calls {@code "gelu"}, Tanh the approximation {@code "gelu_new"}, Relu {@code "relu"}.
     */
    private static String hiddenAct(OnnxModel model, Map<String, String> hfToOnnx, int layers) {
        Set<String> acts = new TreeSet<>();
        for (int l = 0; l < layers; l++) {
            String bias = hfToOnnx.get("encoder.layer." + l + ".intermediate.dense.bias");
            if (bias == null) continue;
            Set<String> ops = new TreeSet<>();
            Deque<String> todo = new ArrayDeque<>();
            for (OnnxModel.Node add : model.consumers(bias)) todo.addAll(add.outputs());
            Set<String> seen = new HashSet<>();
            while (!todo.isEmpty() && seen.size() < 64) {
                String v = todo.poll();
                if (!seen.add(v)) continue;
                for (OnnxModel.Node c : model.consumers(v)) {
                    if (c.opType().startsWith("MatMul") || c.opType().equals("DynamicQuantizeLinear")) continue;
                    ops.add(c.opType());
                    todo.addAll(c.outputs());
                }
            }
            if (ops.contains("Erf")) acts.add("gelu");
            else if (ops.contains("Tanh")) acts.add("gelu_new");
            else if (ops.contains("Relu")) acts.add("relu");
            else
                throw new IllegalArgumentException(model.source() + ": layer " + l + ": unrecognised activation "
                        + "after the intermediate dense (ops " + ops + ")");
        }
        if (acts.size() != 1) {
            throw new IllegalArgumentException(model.source() + ": cannot tell hidden_act: found " + acts);
        }
        return acts.iterator().next();
    }

    /**
     * Checks the tokenizer is a WordPiece whose vocabulary fits the embedding table, and returns whether it
     * lower-cases (its BertNormalizer's {@code lowercase}).
     */
    private static boolean checkTokenizer(byte[] json, long vocabSize, String src) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException(src + ": tokenizer json does not parse: " + e.getMessage(), e);
        }
        JsonNode model = root.path("model");
        if (!model.path("type").asText().equals("WordPiece")) {
            throw new IllegalArgumentException(src + ": expected a WordPiece tokenizer, got model type '"
                    + model.path("type").asText() + "'");
        }
        int n = model.path("vocab").size();
        if (n > vocabSize) {
            throw new IllegalArgumentException(
                    src + ": tokenizer has " + n + " tokens but the word embeddings only " + vocabSize + " rows");
        }
        return root.path("normalizer").path("lowercase").asBoolean(false);
    }
}
