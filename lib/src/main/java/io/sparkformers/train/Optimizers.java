package io.sparkformers.train;

import ai.djl.Device;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The optimizer a fit uses, as HF's {@code Trainer.create_optimizer}: HF's parameter groups (no weight decay on biases
 * and LayerNorm weights), optionally the head at its own learning rate, {@code optim} chosen by name, and — when
 * resuming — the state saved in the checkpoint, so the resumed run continues bit-exactly. Shared by the text and
 * image trainers.
 */
final class Optimizers {
    private Optimizers() {}

    /**
     * @param headLrMultiplier factor on the learning rate of the parameters {@code isHead} selects (1: one rate)
     * @param resumeFrom       checkpoint folder holding {@code optimizer.safetensors}, or null for a fresh state
     */
    static Optimizer create(
            TrainingArguments args, double headLrMultiplier, Predicate<String> isHead, Path resumeFrom, Device device)
            throws IOException {
        double lr = args.learningRate();
        double wd = args.weightDecay();
        List<ParamGroup> groups = new ArrayList<>();
        if (headLrMultiplier != 1.0) {
            double headLr = lr * headLrMultiplier;
            groups.add(new ParamGroup("head_no_decay", n -> isHead.test(n) && ParamGroup.isNoDecay(n), headLr, 0.0));
            groups.add(new ParamGroup("head_decay", isHead, headLr, wd));
        }
        groups.addAll(ParamGroup.hfDefaults(lr, wd));
        Optimizer optimizer = switch (args.optim()) {
            case "adamw_torch", "adamw_hf" -> new AdamW(groups, args.adamBeta1(), args.adamBeta2(), args.adamEpsilon());
            case "sgd" -> new Sgd(groups, 0.0);
            default -> throw new IllegalArgumentException("optim '" + args.optim() + "' is not supported");
        };
        if (resumeFrom != null) {
            Path file = resumeFrom.resolve(CheckpointManager.OPTIMIZER_NAME);
            if (!Files.exists(file)) {
                optimizer.close();
                throw new IllegalArgumentException("checkpoint " + resumeFrom + " has no "
                        + CheckpointManager.OPTIMIZER_NAME + ": it cannot be resumed exactly");
            }
            try (SafetensorsCheckpoint s = SafetensorsCheckpoint.open(file)) {
                optimizer.loadStateDict(s.readAll(), device);
            }
        }
        return optimizer;
    }
}
