package io.sparkformers.jobs;

import io.sparkformers.nn.lora.LoraConfig;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --adapter DIR}, one form for {@code pipeline} and {@code predict} (YAML key {@code adapter} of
 * {@code predict --config}): a PEFT LoRA adapter merged into the model, whose base is {@code --model} or, without it,
 * the adapter's {@code base_model_name_or_path} (AutoPeftModel's).
 */
public final class AdapterOption {
    @Option(
            names = "--adapter",
            paramLabel = "DIR",
            description = "A PEFT LoRA adapter folder (adapter_config.json, adapter_model.safetensors) loaded onto the "
                    + "model and merged into it (scoring costs what the base does). --model is the base; without "
                    + "--model, the adapter's base_model_name_or_path is.")
    String dir;

    /** The folder as given (a local path or a Hadoop URI), or null. */
    String value() {
        return dir;
    }

    /** The folder as a local path, or null. */
    Path path() {
        return dir == null ? null : Path.of(dir);
    }

    /**
     * {@code model} when given, else the base a local adapter names (AutoPeftModel's base_model_name_or_path), else
     * null (no adapter, or one behind a Hadoop URI, whose config is read where it is loaded).
     */
    String baseOr(String model) throws IOException {
        if (model != null || dir == null || dir.contains(":/")) return model;
        return LoraConfig.baseReference(Path.of(dir));
    }
}
