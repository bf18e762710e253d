package io.sparkformers.jobs.bench;

import ai.djl.Device;
import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.ParameterNames;
import io.sparkformers.nn.Task;
import io.sparkformers.train.AdamW;
import io.sparkformers.train.DataCollatorWithPadding;
import io.sparkformers.train.ParamGroup;
import io.sparkformers.train.ParamRef;
import io.sparkformers.train.TrainStep;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Fine-tuning throughput of a sequence classifier (every parameter trains, AdamW, clipping at 1.0): the time of one
 * optimizer step split into forward (with loss), backward and optimizer (clip + AdamW + zero grads), and the process's
 * resident memory ({@code VmRSS}) after warm-up, half-way and at the end, to show native memory does not grow.
 */
public final class TrainingBenchmark {

    /** One measured run; times are means over the timed steps. */
    public record Result(
            String model,
            int batch,
            int seqLength,
            int threads,
            int steps,
            double forwardMs,
            double backwardMs,
            double optimizerMs,
            long rssAfterWarmupKb,
            long rssMidKb,
            long rssEndKb) {
        public double stepMs() {
            return forwardMs + backwardMs + optimizerMs;
        }

        public double samplesPerSecond() {
            return batch * 1000.0 / stepMs();
        }

        public double tokensPerSecond() {
            return samplesPerSecond() * seqLength;
        }

        /** RSS growth over the timed steps, in MiB. */
        public double rssGrowthMib() {
            return (rssEndKb - rssAfterWarmupKb) / 1024.0;
        }
    }

    private TrainingBenchmark() {}

    public static Result run(String alias, int batch, int seqLength, int threads, int warmup, int steps)
            throws IOException {
        Path dir = BuiltinModels.resolve(BuiltinModels.get(alias));
        long[] ids = ForwardBenchmark.randomIds(batch, seqLength);
        long[] mask = new long[ids.length];
        Arrays.fill(mask, 1);
        int[] lengths = new int[batch];
        Arrays.fill(lengths, seqLength);
        long[] labels = new long[batch];
        for (int i = 0; i < batch; i++) labels[i] = i % 2;
        DataCollatorWithPadding.Batch b = new DataCollatorWithPadding.Batch(
                batch,
                seqLength,
                ids,
                mask,
                new long[ids.length],
                lengths,
                DataCollatorWithPadding.LabelKind.SINGLE_LABEL,
                labels,
                new float[0],
                new long[] {batch});
        try (HfModel model = HfModel.fromPretrained(
                        HfCheckpoint.open(dir),
                        Task.SEQUENCE_CLASSIFICATION,
                        Device.cpu(),
                        c -> c.put("problem_type", "single_label_classification"));
                AdamW adamw = new AdamW(ParamGroup.hfDefaults(5e-5, 0.01))) {
            List<ParamRef> params = new ArrayList<>();
            for (ParameterNames.Entry e : ParameterNames.of(model.block()).values()) {
                params.add(new ParamRef(e.name(), e.parameter().getArray()));
            }
            TrainStep step = new TrainStep(
                    model.block(), model.manager(), DataCollatorWithPadding.LabelKind.SINGLE_LABEL, 0.0, false, params);
            for (int i = 0; i < warmup; i++) {
                step.forwardBackward(b, 1.0, i);
                step.applyUpdate(adamw, 1.0, 1.0);
            }
            long rss0 = vmRssKb();
            long rssMid = rss0;
            long fwd = 0;
            long bwd = 0;
            long opt = 0;
            for (int i = 0; i < steps; i++) {
                TrainStep.MicroResult r = step.forwardBackward(b, 1.0, warmup + i);
                fwd += r.forwardNanos();
                bwd += r.backwardNanos();
                long t0 = System.nanoTime();
                step.applyUpdate(adamw, 1.0, 1.0);
                opt += System.nanoTime() - t0;
                if (i == steps / 2) rssMid = vmRssKb();
            }
            long rssEnd = vmRssKb();
            return new Result(
                    alias,
                    batch,
                    seqLength,
                    threads,
                    steps,
                    fwd / 1e6 / steps,
                    bwd / 1e6 / steps,
                    opt / 1e6 / steps,
                    rss0,
                    rssMid,
                    rssEnd);
        }
    }

    /** This process's resident set size from /proc/self/status (kB), or -1 where there is no /proc. */
    static long vmRssKb() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) return -1;
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        return -1;
    }
}
