package io.sparkformers.hub;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Thrown for pickle checkpoints ({@code pytorch_model.bin}, {@code *.pt}, {@code *.ckpt}): unpickling runs arbitrary
 * code from the file, so we never do it. The message names the file and the one-line conversion to safetensors.
 */
public class UnsafeCheckpointException extends IOException {
    public UnsafeCheckpointException(Path file) {
        this(file.toString());
    }

    /** For pickles that are not local files: {@code source} names where it is (a Hub repo file, a URI). */
    public UnsafeCheckpointException(String source) {
        super(
                source
                        + " is a pickle checkpoint; Sparkformers only reads safetensors because loading a pickle executes "
                        + "arbitrary code from the file. Convert it once where you trust it, e.g. in Python: "
                        + "`transformers.AutoModel.from_pretrained(dir).save_pretrained(dir, safe_serialization=True)` "
                        + "(or `safetensors.torch.save_file(torch.load(f), 'model.safetensors')`), then load the folder again.");
    }

    /** File names that are pickles by convention. */
    public static boolean isPickle(Path file) {
        String n = file.getFileName().toString();
        return n.equals("pytorch_model.bin")
                || n.matches("pytorch_model-\\d+-of-\\d+\\.bin")
                || n.endsWith(".pt")
                || n.endsWith(".pth")
                || n.endsWith(".ckpt")
                || n.equals("pytorch_model.bin.index.json");
    }
}
