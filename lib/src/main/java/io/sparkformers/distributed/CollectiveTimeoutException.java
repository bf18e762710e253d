package io.sparkformers.distributed;

/** A peer did not connect, authenticate, send or receive within its timeout; the message names it. */
public class CollectiveTimeoutException extends CollectiveException {
    private static final long serialVersionUID = 1L;

    public CollectiveTimeoutException(String message, Throwable cause) {
        super(message, cause);
    }
}
