package io.sparkformers.distributed;

import java.security.SecureRandom;

/**
 * Job secrets for {@link Collective}: the driver draws a fresh one per training job and ships it to the tasks;
 * peers prove they hold it with an HMAC-SHA256 challenge–response (see {@link Handshake}) before any tensor byte
 * is accepted. The secret never travels on a collective connection.
 */
public final class Secrets {
    /** Length of a job secret: 32 bytes, the HMAC-SHA256 block-size-friendly key length (256 bits). */
    public static final int JOB_SECRET_BYTES = 32;

    /** Shortest secret a {@link Collective} accepts (128 bits). */
    static final int MIN_SECRET_BYTES = 16;

    private static final SecureRandom RANDOM = new SecureRandom();

    private Secrets() {}

    /** A fresh random 32-byte secret from {@link SecureRandom}. */
    public static byte[] newJobSecret() {
        byte[] secret = new byte[JOB_SECRET_BYTES];
        RANDOM.nextBytes(secret);
        return secret;
    }

    static byte[] nonce(int bytes) {
        byte[] n = new byte[bytes];
        RANDOM.nextBytes(n);
        return n;
    }
}
