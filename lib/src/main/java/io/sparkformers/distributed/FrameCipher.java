package io.sparkformers.distributed;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM sealing of a link's frames, keyed from the {@link Handshake} that authenticated it.
 *
 * <p><b>Why AES-GCM frames and not TLS 1.3 ({@code SSLEngine}).</b> The ring already runs a mutual HMAC handshake
 * over the job secret, which yields fresh nonces from both sides; TLS would add a second handshake and, since the
 * JDK's TLS 1.3 has no external pre-shared keys, certificates generated per job (no public JDK API for that) or a
 * keystore to distribute. {@code SSLEngine} also cuts the stream into records of at most 16 KiB — 256 wrap/unwrap
 * calls and copies per 4 MiB segment — through a state machine that must be driven by hand on the non-blocking
 * channels. One GCM seal per frame over the existing framing is a few dozen lines, costs one AES-NI/CLMUL pass per
 * byte (what TLS's record layer costs too) and keeps the deadline, abort and error paths as they are.
 *
 * <p><b>Keys.</b> HKDF-SHA256 (RFC 5869): PRK = HMAC(salt = nonceA | nonceC, job secret), and one 256-bit key per
 * direction, OKM = HMAC(PRK, info | 0x01) with info naming the direction, both ranks and the world size. Every
 * connection thus has keys of its own, even within one job, so a frame cannot be moved to another link.
 *
 * <p><b>Frames.</b> The 16-byte frame header travels in clear and is the additional authenticated data; the payload
 * is sealed and followed by the 16-byte tag. The 96-bit GCM nonce is 4 zero bytes then a 64-bit frame counter kept
 * by each side (never sent): a flipped bit, a replayed, reordered, dropped or injected frame, or a frame sealed
 * under another key fails the tag check, and the frame is refused before any of its bytes are used.
 * {@code Cipher.init} per frame is what GCM requires (the JDK refuses a reused key and nonce); buffers are reused.
 */
final class FrameCipher {
    static final int TAG_BYTES = 16;

    private static final int KEY_BYTES = 32;
    private static final int NONCE_BYTES = 12;
    private static final byte[] CONNECTOR_TO_ACCEPTOR =
            "sparkformers-collective-v2 aes-256-gcm connector->acceptor".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ACCEPTOR_TO_CONNECTOR =
            "sparkformers-collective-v2 aes-256-gcm acceptor->connector".getBytes(StandardCharsets.US_ASCII);

    private final SecretKeySpec sealKey;
    private final SecretKeySpec openKey;
    private final Cipher sealer;
    private final Cipher opener;
    private final byte[] sealNonce = new byte[NONCE_BYTES];
    private final byte[] openNonce = new byte[NONCE_BYTES];
    private long sealed;
    private long opened;

    private FrameCipher(byte[] sealKey, byte[] openKey) {
        this.sealKey = new SecretKeySpec(sealKey, "AES");
        this.openKey = new SecretKeySpec(openKey, "AES");
        try {
            this.sealer = Cipher.getInstance("AES/GCM/NoPadding");
            this.opener = Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/GCM/NoPadding is not available in this JVM", e);
        }
    }

    /**
     * The keys of one authenticated connection, for its {@code connector} side (else the acceptor's): both sides call
     * it with the same arguments and get mirrored seal / open keys.
     */
    static FrameCipher derive(
            byte[] secret, byte[] nonceA, byte[] nonceC, int connRank, int accRank, int world, boolean connector) {
        byte[] prk = hmac(concat(nonceA, nonceC), secret);
        byte[] ranks = ByteBuffer.allocate(12)
                .putInt(connRank)
                .putInt(accRank)
                .putInt(world)
                .array();
        byte[] toAcceptor = expand(prk, CONNECTOR_TO_ACCEPTOR, ranks);
        byte[] toConnector = expand(prk, ACCEPTOR_TO_CONNECTOR, ranks);
        return connector ? new FrameCipher(toAcceptor, toConnector) : new FrameCipher(toConnector, toAcceptor);
    }

    /**
     * Seals {@code payload} (position..limit, left unchanged) into {@code out}, cleared first and flipped after:
     * payload.remaining() + {@link #TAG_BYTES} bytes, authenticated together with {@code header} (position..limit).
     * Called by one thread (the link's sender).
     */
    void seal(ByteBuffer header, ByteBuffer payload, ByteBuffer out) throws IOException {
        out.clear();
        try {
            sealer.init(Cipher.ENCRYPT_MODE, sealKey, nextNonce(sealNonce, sealed++));
            sealer.updateAAD(header.duplicate());
            sealer.doFinal(payload.duplicate(), out);
        } catch (GeneralSecurityException e) {
            throw new IOException("sealing frame #" + (sealed - 1) + " failed: " + e, e);
        }
        out.flip();
    }

    /**
     * Opens the next frame expected from {@code peer}: checks the tag of {@code sealedFrame} (position..limit,
     * payload then tag) against {@code header} and this side's frame counter, then writes the payload into
     * {@code dst} (exactly its remaining bytes). Called by one thread at a time (the operation's).
     *
     * @throws IOException naming the peer when the frame was altered, replayed, reordered or sealed under another key
     */
    void open(ByteBuffer header, ByteBuffer sealedFrame, ByteBuffer dst, String peer) throws IOException {
        long frame = opened++;
        try {
            opener.init(Cipher.DECRYPT_MODE, openKey, nextNonce(openNonce, frame));
            opener.updateAAD(header.duplicate());
            opener.doFinal(sealedFrame, dst);
        } catch (AEADBadTagException e) {
            throw new IOException(
                    "frame #" + frame + " from " + peer + " failed authentication (AES-GCM tag mismatch): it was"
                            + " altered, replayed, reordered or dropped in transit, or sealed under another key;"
                            + " refused unread",
                    e);
        } catch (GeneralSecurityException e) {
            throw new IOException("opening frame #" + frame + " from " + peer + " failed: " + e, e);
        }
    }

    private static GCMParameterSpec nextNonce(byte[] nonce, long counter) {
        for (int i = 0; i < 8; i++) {
            nonce[NONCE_BYTES - 1 - i] = (byte) (counter >>> (8 * i));
        }
        return new GCMParameterSpec(8 * TAG_BYTES, nonce); // copies the nonce
    }

    private static byte[] expand(byte[] prk, byte[] label, byte[] ranks) {
        byte[] okm = hmac(prk, concat(concat(label, ranks), new byte[] {1}));
        return java.util.Arrays.copyOf(okm, KEY_BYTES);
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
