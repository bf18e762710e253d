package io.sparkformers.jobs.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.convert.ModelJar;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.MavenArtifacts;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.spark.TokenBudgetBatcher;
import io.sparkformers.spark.TokenBudgetBatcher.Encoded;
import java.io.IOException;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The ONNX Runtime peer of {@code bench inference-spark}'s bare loop: the alias's original ONNX export (from its Maven
 * jar) run on the same rows, with the same token-budget batching ({@link TokenBudgetBatcher}, length-sorted windows)
 * and the same number of intra-op threads, then mean pooling over real tokens and L2 normalisation in Java (what
 * all-MiniLM-L6-v2's sentence-transformers modules do), so both loops do the same work per row.
 */
public final class OnnxEmbeddingLoop {
    private OnnxEmbeddingLoop() {}

    /** Wall seconds to embed {@code texts}, session creation excluded (one warm-up batch first). */
    public static double seconds(
            String alias,
            List<String> texts,
            int maxLength,
            int window,
            int maxTokensPerBatch,
            int batchSize,
            int threads)
            throws IOException, OrtException {
        BuiltinModels.Builtin builtin = BuiltinModels.get(alias);
        Path dir = BuiltinModels.resolve(builtin);
        Path onnxFile = Files.createTempFile("bench-inference", ".onnx");
        try (ModelJar jar = ModelJar.open(MavenArtifacts.resolve(builtin.coordinates()));
                TextTokenizer tok = TextTokenizer.load(HfCheckpoint.open(dir), maxLength)) {
            jar.extractOnnx(onnxFile);
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
                opts.setIntraOpNumThreads(threads);
                opts.setInterOpNumThreads(1);
                opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                try (OrtSession session = env.createSession(onnxFile.toString(), opts)) {
                    run(
                            env,
                            session,
                            tok,
                            texts.subList(0, Math.min(8, texts.size())),
                            window,
                            maxTokensPerBatch,
                            batchSize);
                    long t0 = System.nanoTime();
                    run(env, session, tok, texts, window, maxTokensPerBatch, batchSize);
                    return (System.nanoTime() - t0) / 1e9;
                }
            }
        } finally {
            Files.deleteIfExists(onnxFile);
        }
    }

    private static void run(
            OrtEnvironment env,
            OrtSession session,
            TextTokenizer tok,
            List<String> texts,
            int window,
            int maxTokensPerBatch,
            int batchSize) {
        TokenBudgetBatcher b = new TokenBudgetBatcher(window, maxTokensPerBatch, batchSize, true, tok.padTokenId());
        b.run(
                        texts.iterator(),
                        t -> {
                            var e = tok.encode(t);
                            return new Encoded(e.getIds(), e.getAttentionMask(), e.getTypeIds(), null);
                        },
                        batch -> {
                            long[] shape = {batch.size(), batch.seqLength()};
                            Map<String, OnnxTensor> in = new HashMap<>();
                            try {
                                in.put(
                                        "input_ids",
                                        OnnxTensor.createTensor(env, LongBuffer.wrap(batch.inputIds()), shape));
                                in.put(
                                        "attention_mask",
                                        OnnxTensor.createTensor(env, LongBuffer.wrap(batch.attentionMask()), shape));
                                if (session.getInputNames().contains("token_type_ids")) {
                                    in.put(
                                            "token_type_ids",
                                            OnnxTensor.createTensor(env, LongBuffer.wrap(batch.tokenTypeIds()), shape));
                                }
                                try (OrtSession.Result r = session.run(in)) {
                                    float[] hidden = ((OnnxTensor) r.get(0))
                                            .getFloatBuffer()
                                            .array(); // (B, T, H)
                                    return meanPoolNormalized(hidden, batch.size(), batch.seqLength(), batch.lengths());
                                }
                            } catch (OrtException e) {
                                throw new IllegalStateException(
                                        "ONNX Runtime failed on a batch of " + batch.size() + " rows × "
                                                + batch.seqLength() + " tokens: " + e.getMessage(),
                                        e);
                            } finally {
                                in.values().forEach(OnnxTensor::close);
                            }
                        })
                .forEachRemaining(x -> {});
    }

    /** Mean of each row's first {@code lengths[r]} token vectors, L2-normalised: one float[H] per row. */
    static Object[] meanPoolNormalized(float[] hidden, int rows, int t, int[] lengths) {
        int h = hidden.length / (rows * t);
        Object[] out = new Object[rows];
        for (int r = 0; r < rows; r++) {
            float[] v = new float[h];
            for (int k = 0; k < lengths[r]; k++) {
                int base = (r * t + k) * h;
                for (int j = 0; j < h; j++) v[j] += hidden[base + j];
            }
            double norm = 0;
            for (int j = 0; j < h; j++) {
                v[j] /= lengths[r];
                norm += v[j] * v[j];
            }
            float inv = (float) (1 / Math.max(Math.sqrt(norm), 1e-12));
            for (int j = 0; j < h; j++) v[j] *= inv;
            out[r] = v;
        }
        return out;
    }
}
