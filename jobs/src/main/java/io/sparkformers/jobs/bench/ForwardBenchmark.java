package io.sparkformers.jobs.bench;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.convert.ModelJar;
import io.sparkformers.hub.MavenArtifacts;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Encoder forward throughput, ours (DJL/libtorch) against ONNX Runtime running the model's original ONNX export, on
 * the same inputs, the same number of intra-op threads, in one JVM and one run: the ratio is what we report.
 */
public final class ForwardBenchmark {

    /** One measured configuration. */
    public record Result(
            String model, int batch, int seqLength, int threads, double oursMsPerBatch, double onnxMsPerBatch) {
        public double oursSequencesPerSecond() {
            return batch * 1000.0 / oursMsPerBatch;
        }

        public double onnxSequencesPerSecond() {
            return batch * 1000.0 / onnxMsPerBatch;
        }

        public double oursTokensPerSecond() {
            return oursSequencesPerSecond() * seqLength;
        }

        /** > 1 means we are faster. */
        public double ratioToOnnxRuntime() {
            return onnxMsPerBatch / oursMsPerBatch;
        }
    }

    private ForwardBenchmark() {}

    /**
     * Times {@code iterations} forward passes (after {@code warmup}) of a (batch, seqLength) batch of random token ids
     * with a full attention mask; median milliseconds per batch for each engine.
     */
    public static Result run(String alias, int batch, int seqLength, int threads, int warmup, int iterations)
            throws IOException, OrtException {
        BuiltinModels.Builtin builtin = BuiltinModels.get(alias);
        Path dir = BuiltinModels.resolve(builtin);
        EncoderBatch input = EncoderBatch.random(batch, seqLength);

        double ours;
        try (HfModel model = HfModel.fromPretrained(dir, Task.BASE)) {
            ours = medianMillis(warmup, iterations, input.ours(model));
        }

        double onnx;
        Path onnxFile = Files.createTempFile("bench", ".onnx");
        try (ModelJar jar = ModelJar.open(MavenArtifacts.resolve(builtin.coordinates()))) {
            jar.extractOnnx(onnxFile);
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
                opts.setIntraOpNumThreads(threads);
                opts.setInterOpNumThreads(1);
                opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                try (OrtSession session = env.createSession(onnxFile.toString(), opts)) {
                    onnx = medianMillis(warmup, iterations, input.onnx(env, session));
                }
            }
        } finally {
            Files.deleteIfExists(onnxFile);
        }
        return new Result(alias, batch, seqLength, threads, ours, onnx);
    }

    /** Token ids in the ordinary vocabulary range, [CLS] first and [SEP] last, fixed seed. */
    static long[] randomIds(int batch, int seqLength) {
        SplittableRandom rnd = new SplittableRandom(42);
        long[] ids = new long[batch * seqLength];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < seqLength; t++) ids[b * seqLength + t] = 1996 + rnd.nextInt(28000);
            ids[b * seqLength] = 101;
            ids[b * seqLength + seqLength - 1] = 102;
        }
        return ids;
    }

    static double medianMillis(int warmup, int iterations, Runnable body) {
        for (int i = 0; i < warmup; i++) body.run();
        double[] ms = new double[iterations];
        for (int i = 0; i < iterations; i++) {
            long t0 = System.nanoTime();
            body.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return ms[iterations / 2];
    }
}
