package io.sparkformers.vision;

/**
 * An image that cannot be decoded (empty, corrupt or truncated bytes, an unsupported format or channel layout).
 * The message names the source (a file, a row, "bytes") and what to do about it.
 */
public class ImageDecodeException extends RuntimeException {

    private final String source;

    public ImageDecodeException(String source, String problem, Throwable cause) {
        super("cannot decode image " + source + ": " + problem, cause);
        this.source = source;
    }

    public ImageDecodeException(String source, String problem) {
        this(source, problem, null);
    }

    /** What was being decoded: a path, a row id, or a caller's description. */
    public String source() {
        return source;
    }
}
