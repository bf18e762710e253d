package io.sparkformers.jobs.bench;

import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import java.io.IOException;
import java.nio.file.Path;

/** Time to load a checkpoint folder into a ready model (config, safetensors mapping, parameter copy), median of runs. */
public final class LoadBenchmark {

    /** @param importSeconds the one-time import from the Maven jar, 0 when it was already imported */
    public record Result(String model, long parameters, double importSeconds, double loadMillis) {}

    private LoadBenchmark() {}

    public static Result run(String alias, Task task, int repetitions) throws IOException {
        BuiltinModels.Builtin builtin = BuiltinModels.get(alias);
        long t0 = System.nanoTime();
        boolean imported = BuiltinModels.isImported(builtin);
        Path dir = BuiltinModels.resolve(builtin);
        double importSeconds = imported ? 0 : (System.nanoTime() - t0) / 1e9;
        long[] params = new long[1];
        double ms = ForwardBenchmark.medianMillis(1, repetitions, () -> {
            try (HfModel m = HfModel.fromPretrained(dir, task)) {
                params[0] = m.block().getParameters().values().stream()
                        .mapToLong(p -> p.getArray().size())
                        .sum();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        return new Result(alias, params[0], importSeconds, ms);
    }
}
