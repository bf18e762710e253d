package io.sparkformers.distributed;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Mutual HMAC-SHA256 challenge–response run on every ring connection before any tensor byte is accepted; the
 * secret itself never travels. All messages have a fixed size, so nothing a peer claims is ever allocated:
 * <pre>
 * acceptor  → connector  HELLO  "SFCA" | version:int | nonceA[32] | flags:int                                 (44 bytes)
 * connector → acceptor   AUTH   "SFCC" | connRank:int | accRank:int | world:int | nonceC[32] | macC[32] | flags:int (84 bytes)
 *                        macC = HMAC(secret, "sparkformers-collective-v1" | nonceA | "connect" | connRank | accRank | world | flags | nonceC)
 * acceptor  → connector  PROOF  macA[32]                                                                     (32 bytes)
 *                        macA = HMAC(secret, "sparkformers-collective-v1" | nonceC | "accept" | accRank | connRank | world | flags | nonceA)
 * </pre>
 * The acceptor checks macC (constant time, {@link MessageDigest#isEqual}) and that the connector is its left
 * neighbour before answering; the connector checks macA, so an impostor listening on a neighbour's port is caught
 * too. Distinct labels stop a reflected MAC; fresh 32-byte nonces stop a replay. Integers are big-endian.
 *
 * <p>{@code flags} bit 0 is {@link CollectiveOptions#encrypt()}: both sides must agree (the connector checks the
 * HELLO, the acceptor the AUTH, each naming the other), and both MACs cover it, so a man in the middle cannot turn
 * encryption off. With it set, both sides derive the link's {@link FrameCipher} from the secret and both nonces.
 */
final class Handshake {
    static final int VERSION = 2;
    static final int ENCRYPT = 1;
    static final int NONCE_BYTES = 32;
    static final int MAC_BYTES = 32;
    static final int HELLO_BYTES = 4 + 4 + NONCE_BYTES + 4;
    static final int AUTH_BYTES = 4 + 12 + NONCE_BYTES + MAC_BYTES + 4;
    static final int PROOF_BYTES = MAC_BYTES;

    private static final byte[] HELLO_MAGIC = "SFCA".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] AUTH_MAGIC = "SFCC".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DOMAIN = "sparkformers-collective-v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONNECT = "connect".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ACCEPT = "accept".getBytes(StandardCharsets.US_ASCII);

    /** A refused connection: the acceptor logs it, closes it and keeps waiting for the real neighbour. */
    static final class Refused extends IOException {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message);
        }
    }

    private Handshake() {}

    /**
     * Acceptor side. Returns normally only when the connector proved the secret and is {@code expectedRank};
     * otherwise throws {@link Refused} (or an I/O error / timeout) before the connection carries any data.
     *
     * @return the link's frame cipher when {@code encrypt}, else null
     */
    static FrameCipher accept(
            Link link, byte[] secret, int myRank, int expectedRank, int world, boolean encrypt, long deadline)
            throws IOException {
        int flags = encrypt ? ENCRYPT : 0;
        byte[] nonceA = Secrets.nonce(NONCE_BYTES);
        ByteBuffer hello = ByteBuffer.allocate(HELLO_BYTES)
                .put(HELLO_MAGIC)
                .putInt(VERSION)
                .put(nonceA)
                .putInt(flags)
                .flip();
        link.writeFully(hello, deadline, "handshake HELLO");

        ByteBuffer auth = ByteBuffer.allocate(AUTH_BYTES);
        link.readFully(auth, deadline, "handshake AUTH");
        auth.flip();
        byte[] magic = new byte[4];
        auth.get(magic);
        int connRank = auth.getInt();
        int accRank = auth.getInt();
        int claimedWorld = auth.getInt();
        byte[] nonceC = new byte[NONCE_BYTES];
        byte[] macC = new byte[MAC_BYTES];
        auth.get(nonceC).get(macC);
        int connFlags = auth.getInt();
        if (!MessageDigest.isEqual(magic, AUTH_MAGIC)) {
            throw new Refused("not a collective handshake (bad magic)");
        }
        byte[] expected = mac(secret, nonceA, CONNECT, connRank, accRank, claimedWorld, connFlags, nonceC);
        if (!MessageDigest.isEqual(expected, macC)) {
            throw new Refused("wrong HMAC: the peer does not hold this job's secret");
        }
        if (connRank != expectedRank || accRank != myRank || claimedWorld != world) {
            throw new Refused("authenticated peer claims rank " + connRank + " → " + accRank + " of " + claimedWorld
                    + ", expected rank " + expectedRank + " → " + myRank + " of " + world);
        }
        if (connFlags != flags) {
            throw new Refused("rank " + connRank + " " + mode(connFlags) + " but this rank " + mode(flags)
                    + ": set CollectiveOptions.encrypt alike on every rank");
        }
        byte[] macA = mac(secret, nonceC, ACCEPT, myRank, connRank, world, flags, nonceA);
        link.writeFully(ByteBuffer.wrap(macA), deadline, "handshake PROOF");
        return encrypt ? FrameCipher.derive(secret, nonceA, nonceC, connRank, myRank, world, false) : null;
    }

    private static String mode(int flags) {
        return (flags & ENCRYPT) != 0 ? "encrypts ring traffic" : "sends ring traffic in clear";
    }

    /**
     * Connector side: proves the secret, then checks the acceptor's proof; a failure names the peer.
     *
     * @return the link's frame cipher when {@code encrypt}, else null
     */
    static FrameCipher connect(
            Link link, byte[] secret, int myRank, int peerRank, int world, boolean encrypt, long deadline)
            throws IOException {
        int flags = encrypt ? ENCRYPT : 0;
        ByteBuffer hello = ByteBuffer.allocate(HELLO_BYTES);
        link.readFully(hello, deadline, "handshake HELLO");
        hello.flip();
        byte[] magic = new byte[4];
        hello.get(magic);
        int version = hello.getInt();
        byte[] nonceA = new byte[NONCE_BYTES];
        hello.get(nonceA);
        int accFlags = hello.getInt();
        if (!MessageDigest.isEqual(magic, HELLO_MAGIC) || version != VERSION) {
            throw new IOException(link.peer() + " is not a sparkformers collective endpoint of protocol version "
                    + VERSION + " (bad HELLO)");
        }
        if (accFlags != flags) {
            throw new IOException(link.peer() + " " + mode(accFlags) + " but this rank " + mode(flags)
                    + ": set CollectiveOptions.encrypt alike on every rank");
        }
        byte[] nonceC = Secrets.nonce(NONCE_BYTES);
        byte[] macC = mac(secret, nonceA, CONNECT, myRank, peerRank, world, flags, nonceC);
        ByteBuffer auth = ByteBuffer.allocate(AUTH_BYTES)
                .put(AUTH_MAGIC)
                .putInt(myRank)
                .putInt(peerRank)
                .putInt(world)
                .put(nonceC)
                .put(macC)
                .putInt(flags)
                .flip();
        link.writeFully(auth, deadline, "handshake AUTH");

        ByteBuffer proof = ByteBuffer.allocate(PROOF_BYTES);
        try {
            link.readFully(proof, deadline, "handshake PROOF");
        } catch (java.io.EOFException e) {
            throw new IOException(
                    link.peer() + " refused this rank's credentials (closed during the handshake):"
                            + " do both hold the same job secret and agree on ranks and world size?",
                    e);
        }
        byte[] expected = mac(secret, nonceC, ACCEPT, peerRank, myRank, world, flags, nonceA);
        if (!MessageDigest.isEqual(expected, proof.array())) {
            throw new IOException(
                    link.peer() + " failed authentication: wrong HMAC (it does not hold this job's secret)");
        }
        return encrypt ? FrameCipher.derive(secret, nonceA, nonceC, myRank, peerRank, world, true) : null;
    }

    /** The MAC of a connection in clear (flags 0). */
    static byte[] mac(byte[] secret, byte[] nonce1, byte[] label, int rank1, int rank2, int world, byte[] nonce2) {
        return mac(secret, nonce1, label, rank1, rank2, world, 0, nonce2);
    }

    static byte[] mac(
            byte[] secret, byte[] nonce1, byte[] label, int rank1, int rank2, int world, int flags, byte[] nonce2) {
        try {
            Mac hmac = Mac.getInstance("HmacSHA256");
            hmac.init(new SecretKeySpec(secret, "HmacSHA256"));
            hmac.update(DOMAIN);
            hmac.update(nonce1);
            hmac.update(label);
            hmac.update(ByteBuffer.allocate(16)
                    .putInt(rank1)
                    .putInt(rank2)
                    .putInt(world)
                    .putInt(flags)
                    .array());
            hmac.update(nonce2);
            return hmac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }
}
