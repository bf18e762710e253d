package io.sparkformers.spark;

import io.sparkformers.train.TrainerCallback;
import io.sparkformers.train.TrainerControl;
import io.sparkformers.train.TrainerState;
import io.sparkformers.train.TrainingArguments;
import java.io.IOException;

/**
 * Fault injection for the distributed-training tests: on the first attempt of a fit, the replica of {@code rank}
 * SIGKILLs its own executor JVM when step {@code after + 1} begins (so rank 0 has saved checkpoint-{@code after}).
 */
record KillExecutorAtStep(int rank, long after) implements TrainerCallbackFactory {

    @Override
    public TrainerCallback create(int replica, int attempt) {
        if (replica != rank || attempt != 1) return null;
        return new TrainerCallback() {
            @Override
            public void onStepBegin(TrainingArguments args, TrainerState state, TrainerControl control) {
                if (state.globalStep != after + 1) return;
                long pid = ProcessHandle.current().pid();
                System.err.println("test fault: killing executor JVM " + pid + " at step " + state.globalStep);
                try {
                    new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor();
                } catch (IOException | InterruptedException e) {
                    Runtime.getRuntime().halt(137);
                }
                Runtime.getRuntime().halt(137);
            }
        };
    }
}
