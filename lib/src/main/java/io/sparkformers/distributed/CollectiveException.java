package io.sparkformers.distributed;

import java.io.IOException;

/**
 * A collective operation or the ring set-up failed: the message names this rank, the operation, and the peer
 * (rank and host:port) that failed, timed out or refused authentication. After one, the {@link Collective} is
 * closed: training must restart the ring (e.g. from the last checkpoint).
 */
public class CollectiveException extends IOException {
    private static final long serialVersionUID = 1L;

    public CollectiveException(String message) {
        super(message);
    }

    public CollectiveException(String message, Throwable cause) {
        super(message, cause);
    }
}
