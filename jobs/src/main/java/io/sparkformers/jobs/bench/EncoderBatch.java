package io.sparkformers.jobs.bench;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.sparkformers.nn.HfModel;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.Map;

/**
 * One encoder input batch that the encoder benchmarks feed to every engine alike: random token ids, a full attention
 * mask, zero token types. {@link #ours} and {@link #onnx} are one forward pass each, the copy out included, as a real
 * caller pays it.
 */
record EncoderBatch(long[] ids, long[] mask, long[] types, Shape shape) {

    static EncoderBatch random(int batch, int seqLength) {
        long[] ids = ForwardBenchmark.randomIds(batch, seqLength);
        long[] mask = new long[ids.length];
        Arrays.fill(mask, 1);
        return new EncoderBatch(ids, mask, new long[ids.length], new Shape(batch, seqLength));
    }

    /** Our forward pass, its arrays scoped to the call. */
    Runnable ours(HfModel model) {
        return () -> {
            try (NDManager scope = model.manager().newSubManager()) {
                model.predict(new NDList(
                                scope.create(ids, shape), scope.create(mask, shape), scope.create(types, shape)))
                        .head()
                        .toFloatArray();
            }
        };
    }

    /** ONNX Runtime's forward pass over the model's own ONNX export. */
    Runnable onnx(OrtEnvironment env, OrtSession session) {
        return () -> {
            try (OnnxTensor i = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape.getShape());
                    OnnxTensor m = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape.getShape());
                    OnnxTensor t = OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape.getShape());
                    OrtSession.Result r =
                            session.run(Map.of("input_ids", i, "attention_mask", m, "token_type_ids", t))) {
                ((OnnxTensor) r.get(0)).getFloatBuffer();
            } catch (OrtException e) {
                throw new IllegalStateException(e);
            }
        };
    }
}
