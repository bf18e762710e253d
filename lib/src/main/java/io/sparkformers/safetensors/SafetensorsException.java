package io.sparkformers.safetensors;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A safetensors file or sharded checkpoint that breaks the format or is inconsistent (bad header, overlapping
 * offsets, a shard the index names but that is missing, …). The message always starts with the file's path.
 *
 * <p>A checked {@link IOException} rather than an unchecked one: a malformed checkpoint is an input problem a caller
 * should expect exactly like a missing or unreadable file, and every method that can raise it already reads a file.
 */
public class SafetensorsException extends IOException {

    private final transient Path file;

    public SafetensorsException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public SafetensorsException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The file the problem was found in. */
    public Path file() {
        return file;
    }
}
