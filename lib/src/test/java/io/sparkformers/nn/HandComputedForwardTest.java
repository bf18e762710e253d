package io.sparkformers.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.sparkformers.nn.bert.BertConfig;
import io.sparkformers.nn.bert.BertModel;
import io.sparkformers.safetensors.Tensor;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A 1-layer, hidden-4, 2-head BERT with hand-set weights, checked against an independent plain-Java double
 * forward written from HF's modeling_bert (loops, erf GELU, finfo.min mask, eps from config).
 */
class HandComputedForwardTest {

    static final int H = 4;
    static final int NH = 2;
    static final int HS = 2;
    static final int I = 3;
    static final double EPS = 1e-12;

    private static BertConfig config() {
        return new BertConfig(
                7,
                H,
                1,
                NH,
                I,
                "gelu",
                0.3,
                0.3,
                8,
                2,
                0.02,
                EPS,
                0,
                "absolute",
                "bert",
                null,
                ConfigJson.defaultLabels(2),
                null,
                null,
                null);
    }

    @Test
    void forwardMatchesPlainJavaReference() {
        BertConfig c = config();
        long[] ids = {2, 5, 1, 6, 0};
        long[] types = {0, 0, 1, 1, 1};
        long[] mask = {1, 1, 1, 1, 0};
        try (NDManager m = NDManager.newBaseManager()) {
            BertModel model = new BertModel(c, true);
            model.initialize(m);
            Map<String, Tensor> w = TestWeights.deterministic(model, 0.8);
            // identity-like attention projections for the first layer's query, so the case is partly hand-checkable
            w.put(
                    "encoder.layer.0.attention.self.query.weight",
                    Tensor.ofFloats(new float[] {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}, H, H));
            LoadReport r = StateDict.load(model, w, StateDict.Options.STRICT);
            assertTrue(r.isExact(), r.describe());

            NDList out = model.predict(new NDList(
                    m.create(ids, new Shape(1, 5)), m.create(mask, new Shape(1, 5)), m.create(types, new Shape(1, 5))));
            double[][] ref = new double[5][];
            double[] pooled = reference(w, ids, types, mask, ref);
            float[] got = out.get(0).toFloatArray();
            double max = 0;
            for (int t = 0; t < 5; t++) {
                for (int h = 0; h < H; h++) max = Math.max(max, Math.abs(got[t * H + h] - ref[t][h]));
            }
            assertTrue(max <= 1e-5, "last_hidden_state max |diff| = " + max);
            float[] gotPooled = out.get(1).toFloatArray();
            double maxP = 0;
            for (int h = 0; h < H; h++) maxP = Math.max(maxP, Math.abs(gotPooled[h] - pooled[h]));
            assertTrue(maxP <= 1e-5, "pooler_output max |diff| = " + maxP);
        }
    }

    @Test
    void geluIsTheExactErfForm() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] xs = {-3f, -1.5f, -0.5f, 0f, 0.3f, 1f, 2.5f};
            float[] got = Activations.gelu(m.create(xs)).toFloatArray();
            for (int i = 0; i < xs.length; i++) {
                assertEquals(gelu(xs[i]), got[i], 1e-6, "gelu(" + xs[i] + ")");
            }
        }
    }

    /** Plain-Java BERT forward for one sequence; fills {@code hidden} (T x H) and returns the pooled vector. */
    static double[] reference(Map<String, Tensor> w, long[] ids, long[] types, long[] mask, double[][] hidden) {
        int t = ids.length;
        double[][] x = new double[t][H];
        double[] word = d(w, "embeddings.word_embeddings.weight");
        double[] pos = d(w, "embeddings.position_embeddings.weight");
        double[] typ = d(w, "embeddings.token_type_embeddings.weight");
        for (int i = 0; i < t; i++) {
            for (int h = 0; h < H; h++) {
                x[i][h] = word[(int) ids[i] * H + h] + typ[(int) types[i] * H + h] + pos[i * H + h];
            }
            x[i] = layerNorm(x[i], d(w, "embeddings.LayerNorm.weight"), d(w, "embeddings.LayerNorm.bias"));
        }
        String l = "encoder.layer.0.";
        double[][] q = linear(x, w, l + "attention.self.query");
        double[][] k = linear(x, w, l + "attention.self.key");
        double[][] v = linear(x, w, l + "attention.self.value");
        double[][] ctx = new double[t][H];
        for (int head = 0; head < NH; head++) {
            for (int i = 0; i < t; i++) {
                double[] s = new double[t];
                double mx = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < t; j++) {
                    double dot = 0;
                    for (int e = 0; e < HS; e++) dot += q[i][head * HS + e] * k[j][head * HS + e];
                    s[j] = dot / Math.sqrt(HS) + (1 - mask[j]) * -Float.MAX_VALUE;
                    mx = Math.max(mx, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < t; j++) sum += (s[j] = Math.exp(s[j] - mx));
                for (int j = 0; j < t; j++) {
                    for (int e = 0; e < HS; e++) ctx[i][head * HS + e] += s[j] / sum * v[j][head * HS + e];
                }
            }
        }
        double[][] a = linear(ctx, w, l + "attention.output.dense");
        for (int i = 0; i < t; i++) {
            for (int h = 0; h < H; h++) a[i][h] += x[i][h];
            a[i] = layerNorm(
                    a[i], d(w, l + "attention.output.LayerNorm.weight"), d(w, l + "attention.output.LayerNorm.bias"));
        }
        double[][] inter = linear(a, w, l + "intermediate.dense");
        for (double[] row : inter) for (int j = 0; j < row.length; j++) row[j] = gelu(row[j]);
        double[][] o = linear(inter, w, l + "output.dense");
        for (int i = 0; i < t; i++) {
            for (int h = 0; h < H; h++) o[i][h] += a[i][h];
            hidden[i] = layerNorm(o[i], d(w, l + "output.LayerNorm.weight"), d(w, l + "output.LayerNorm.bias"));
        }
        double[] p = linear(new double[][] {hidden[0]}, w, "pooler.dense")[0];
        for (int h = 0; h < H; h++) p[h] = Math.tanh(p[h]);
        return p;
    }

    private static double[] d(Map<String, Tensor> w, String key) {
        float[] f = w.get(key).toFloatArray();
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) out[i] = f[i];
        return out;
    }

    /** y = x W^T + b with PyTorch's (out, in) weight layout. */
    private static double[][] linear(double[][] x, Map<String, Tensor> w, String name) {
        double[] wt = d(w, name + ".weight");
        double[] b = d(w, name + ".bias");
        int out = b.length;
        int in = x[0].length;
        double[][] y = new double[x.length][out];
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < out; o++) {
                double s = b[o];
                for (int j = 0; j < in; j++) s += x[i][j] * wt[o * in + j];
                y[i][o] = s;
            }
        }
        return y;
    }

    private static double[] layerNorm(double[] x, double[] g, double[] b) {
        double mean = 0;
        for (double v : x) mean += v / x.length;
        double var = 0;
        for (double v : x) var += (v - mean) * (v - mean) / x.length;
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = (x[i] - mean) / Math.sqrt(var + EPS) * g[i] + b[i];
        return out;
    }

    static double gelu(double x) {
        return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
    }

    /** erf by its Maclaurin series (double-accurate for |x| < 4), ±1 beyond. */
    static double erf(double x) {
        if (Math.abs(x) > 5) return Math.signum(x);
        double term = x;
        double sum = x;
        for (int n = 1; n < 200; n++) {
            term *= -x * x / n;
            double add = term / (2 * n + 1);
            sum += add;
            if (Math.abs(add) < 1e-17) break;
        }
        return 2 / Math.sqrt(Math.PI) * sum;
    }
}
