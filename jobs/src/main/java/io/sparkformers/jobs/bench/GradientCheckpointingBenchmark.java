package io.sparkformers.jobs.bench;

import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.nn.HfModel;
import io.sparkformers.train.AdamW;
import io.sparkformers.train.DataCollatorWithPadding;
import io.sparkformers.train.ParamGroup;
import io.sparkformers.train.TrainStep;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Peak memory and step time of fine-tuning with and without {@code gradient_checkpointing}: one mode per JVM (the
 * peak resident set, {@code VmHWM}, is per process), every parameter training (AdamW, clipping 1.0). Run the two
 * modes alternately, several rounds, and compare medians:
 * <pre>java -cp … io.sparkformers.jobs.bench.GradientCheckpointingBenchmark all-MiniLM-L6-v2 8 256 5 on</pre>
 * Prints one line: model, batch, sequence length, mode, median step ms, peak RSS MiB, RSS before the first step.
 */
public final class GradientCheckpointingBenchmark {
    private GradientCheckpointingBenchmark() {}

    public static void main(String[] a) throws IOException {
        String alias = a[0];
        int batch = Integer.parseInt(a[1]);
        int seq = Integer.parseInt(a[2]);
        int steps = Integer.parseInt(a[3]);
        boolean on = a[4].equals("on");
        DataCollatorWithPadding.Batch b =
                TrainingBenchmark.classificationBatch(ForwardBenchmark.randomIds(batch, seq), batch, seq);
        Path dir = BuiltinModels.resolve(BuiltinModels.get(alias));
        try (HfModel model = TrainingBenchmark.sequenceClassifier(dir);
                AdamW adamw = new AdamW(ParamGroup.hfDefaults(5e-5, 0.01))) {
            TrainStep step = new TrainStep(
                            model.block(),
                            model.manager(),
                            DataCollatorWithPadding.LabelKind.SINGLE_LABEL,
                            0.0,
                            false,
                            TrainingBenchmark.everyParameter(model))
                    .gradientCheckpointing(on);
            long rss0 = TrainingBenchmark.vmRssKb();
            double[] ms = new double[steps];
            for (int i = 0; i < steps; i++) {
                long t0 = System.nanoTime();
                step.forwardBackward(b, 1.0, i);
                step.applyUpdate(adamw, 1.0, 1.0);
                ms[i] = (System.nanoTime() - t0) / 1e6;
            }
            double[] timed = Arrays.copyOfRange(ms, 1, steps); // the first step warms up
            Arrays.sort(timed);
            System.out.printf(
                    "%s batch %d seq %d gradient_checkpointing %s: median step %.0f ms, peak RSS %d MiB "
                            + "(RSS before the first step %d MiB)%n",
                    alias,
                    batch,
                    seq,
                    on ? "on " : "off",
                    timed[timed.length / 2],
                    TrainingBenchmark.procStatusKb("VmHWM:") / 1024,
                    rss0 / 1024);
        }
    }
}
