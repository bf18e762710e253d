package io.sparkformers.nn;

import io.sparkformers.safetensors.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/** Deterministic checkpoints for tests: every value a fixed function of key and index. */
final class TestWeights {

    private TestWeights() {}

    /** A checkpoint with the model's own names and shapes, values from sines (LayerNorm weights near 1). */
    static Map<String, Tensor> deterministic(PretrainedModel model, double scale) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        int k = 0;
        for (ParameterNames.Entry e : ParameterNames.of(model).values()) {
            long[] shape = e.parameter().getShape().getShape();
            float[] v = new float[(int) Tensor.numel(shape)];
            k++;
            boolean norm = e.name().matches(".*(LayerNorm|layer_norm)\\.weight");
            for (int i = 0; i < v.length; i++) {
                double s = Math.sin(0.37 * i + 1.3 * k) * scale;
                v[i] = (float) (norm ? 1 + 0.3 * s : s);
            }
            out.put(e.name(), Tensor.ofFloats(v, shape));
        }
        return out;
    }
}
