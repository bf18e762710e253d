package io.sparkformers.convert;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.safetensors.DType;
import io.sparkformers.safetensors.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * What an HF {@code BertModel} checkpoint must contain, shared by the importers: the parameter names and shapes
 * of {@code modeling_bert.py} and the {@code config.json} keys of {@code configuration_bert.py}. Importers build
 * their weights, then {@link #checkShapes} compares key sets and every shape, nanoGPT {@code from_pretrained} style.
 */
final class HfBert {

    private HfBert() {}

    /**
     * Sizes recovered from a checkpoint.
     *
     * @param vocabSize        rows of the word embeddings (HF {@code vocab_size})
     * @param hiddenSize       HF {@code hidden_size}
     * @param numLayers        HF {@code num_hidden_layers}
     * @param intermediateSize HF {@code intermediate_size}
     * @param maxPositions     HF {@code max_position_embeddings}
     * @param typeVocabSize    HF {@code type_vocab_size}
     */
    record Dims(
            long vocabSize,
            long hiddenSize,
            int numLayers,
            long intermediateSize,
            long maxPositions,
            long typeVocabSize) {}

    /** Parameter names and shapes of HF {@code BertModel}, each name prefixed with {@code prefix} ("" or "bert."). */
    static Map<String, long[]> baseModelShapes(Dims d, String prefix, boolean withPooler) {
        Map<String, long[]> s = new LinkedHashMap<>();
        long h = d.hiddenSize(), i = d.intermediateSize();
        s.put(prefix + "embeddings.word_embeddings.weight", new long[] {d.vocabSize(), h});
        s.put(prefix + "embeddings.position_embeddings.weight", new long[] {d.maxPositions(), h});
        s.put(prefix + "embeddings.token_type_embeddings.weight", new long[] {d.typeVocabSize(), h});
        s.put(prefix + "embeddings.LayerNorm.weight", new long[] {h});
        s.put(prefix + "embeddings.LayerNorm.bias", new long[] {h});
        for (int l = 0; l < d.numLayers(); l++) {
            String p = prefix + "encoder.layer." + l + ".";
            for (String qkv : new String[] {"query", "key", "value"}) {
                s.put(p + "attention.self." + qkv + ".weight", new long[] {h, h});
                s.put(p + "attention.self." + qkv + ".bias", new long[] {h});
            }
            s.put(p + "attention.output.dense.weight", new long[] {h, h});
            s.put(p + "attention.output.dense.bias", new long[] {h});
            s.put(p + "attention.output.LayerNorm.weight", new long[] {h});
            s.put(p + "attention.output.LayerNorm.bias", new long[] {h});
            s.put(p + "intermediate.dense.weight", new long[] {i, h});
            s.put(p + "intermediate.dense.bias", new long[] {i});
            s.put(p + "output.dense.weight", new long[] {h, i});
            s.put(p + "output.dense.bias", new long[] {h});
            s.put(p + "output.LayerNorm.weight", new long[] {h});
            s.put(p + "output.LayerNorm.bias", new long[] {h});
        }
        if (withPooler) {
            s.put(prefix + "pooler.dense.weight", new long[] {h, h});
            s.put(prefix + "pooler.dense.bias", new long[] {h});
        }
        return s;
    }

    /** Fails unless {@code actual} has exactly the expected keys, each with the expected shape. */
    static void checkShapes(Map<String, Tensor> actual, Map<String, long[]> expected, String source) {
        TreeSet<String> missing = new TreeSet<>(expected.keySet());
        missing.removeAll(actual.keySet());
        TreeSet<String> unexpected = new TreeSet<>(actual.keySet());
        unexpected.removeAll(expected.keySet());
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new IllegalArgumentException(
                    source + ": parameters do not match HF BERT: missing " + missing + ", unexpected " + unexpected);
        }
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            Tensor t = actual.get(e.getKey());
            if (!Arrays.equals(t.shape(), e.getValue()) || t.dtype() != DType.F32) {
                throw new IllegalArgumentException(
                        source + ": " + e.getKey() + " is " + t + ", expected F32" + Arrays.toString(e.getValue()));
            }
        }
    }

    /** HF {@code config.json} content for a BERT checkpoint, keys in the order {@code transformers} writes them. */
    static ObjectNode config(String architecture, Dims d, int numHeads, String hiddenAct, double layerNormEps) {
        if (d.hiddenSize() % numHeads != 0) {
            throw new IllegalArgumentException("hidden_size (" + d.hiddenSize() + ") is not a multiple of "
                    + "num_attention_heads (" + numHeads + ")");
        }
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.putArray("architectures").add(architecture);
        c.put("attention_probs_dropout_prob", 0.1);
        c.put("hidden_act", hiddenAct);
        c.put("hidden_dropout_prob", 0.1);
        c.put("hidden_size", d.hiddenSize());
        c.put("initializer_range", 0.02);
        c.put("intermediate_size", d.intermediateSize());
        c.put("layer_norm_eps", layerNormEps);
        c.put("max_position_embeddings", d.maxPositions());
        c.put("model_type", "bert");
        c.put("num_attention_heads", numHeads);
        c.put("num_hidden_layers", d.numLayers());
        c.put("pad_token_id", 0);
        c.put("position_embedding_type", "absolute");
        c.put("type_vocab_size", d.typeVocabSize());
        c.put("vocab_size", d.vocabSize());
        return c;
    }

    /** Suggested HF {@code tokenizer_config.json} for a bert-base-uncased style WordPiece tokenizer. */
    static ObjectNode tokenizerConfig(boolean lowerCase, int modelMaxLength) {
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.put("tokenizer_class", "BertTokenizer");
        c.put("do_lower_case", lowerCase);
        c.put("model_max_length", modelMaxLength);
        c.put("cls_token", "[CLS]");
        c.put("sep_token", "[SEP]");
        c.put("pad_token", "[PAD]");
        c.put("mask_token", "[MASK]");
        c.put("unk_token", "[UNK]");
        c.put("tokenize_chinese_chars", true);
        c.putNull("strip_accents"); // null: follow do_lower_case, as bert-base-uncased ships it
        c.put("clean_up_tokenization_spaces", true);
        return c;
    }

    /**
     * A float32 {@code [in, out]} matrix (ONNX MatMul operand, TF kernel) as a new PyTorch-layout {@code [out, in]}
     * Linear weight: {@code result[o][i] = source[i][o]}.
     */
    static Tensor transpose(Tensor t, String name) {
        long[] s = t.shape();
        if (s.length != 2 || t.dtype() != DType.F32) {
            throw new IllegalArgumentException(name + ": expected a 2-D F32 matrix to transpose, got " + t);
        }
        int rows = Math.toIntExact(s[0]), cols = Math.toIntExact(s[1]);
        FloatBuffer src = t.data().asFloatBuffer();
        ByteBuffer out = ByteBuffer.allocate(Math.multiplyExact(rows * cols, 4)).order(ByteOrder.LITTLE_ENDIAN);
        FloatBuffer dst = out.asFloatBuffer();
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            src.get(r * cols, row);
            for (int c = 0; c < cols; c++) dst.put(c * rows + r, row[c]);
        }
        return new Tensor(DType.F32, new long[] {cols, rows}, out);
    }

    /** A float's shortest decimal form as a double, so 1e-12f is written 1.0E-12, not 9.999999960041972E-13. */
    static double cleanDouble(float f) {
        return Double.parseDouble(Float.toString(f));
    }
}
