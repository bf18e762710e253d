package io.sparkformers.distributed;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The sending half of a rank: one daemon thread that writes queued frames to the right neighbour in FIFO order,
 * so the caller's thread can receive from the left at the same time (with a blocking send and receive in one
 * thread, two ranks sending chunks larger than the socket buffers to each other would deadlock). Every frame is
 * a 16-byte header then its payload, written with one gathering write:
 * <pre>
 * type:int ("SFDT" data | "SFAB" abort) | payloadBytes:int | opSeq:long      (big-endian)
 * </pre>
 * A data payload is the raw bytes of one segment (little-endian float32 for reductions); an abort payload is a
 * UTF-8 message of at most {@link #MAX_ABORT_BYTES} bytes saying which rank failed and why. On an encrypted link
 * ({@link Link#cipher()}) the header stays as it is (payloadBytes counts the plaintext) and the payload travels
 * sealed, followed by its {@link FrameCipher#TAG_BYTES}-byte tag, from one reused buffer.
 */
final class Sender implements AutoCloseable {
    static final int DATA = 0x53464454;
    static final int ABORT = 0x53464142;
    static final int HEADER_BYTES = 16;
    static final int MAX_ABORT_BYTES = 1024;

    private record Frame(int type, long seq, ByteBuffer payload) {}

    private static final Frame STOP = new Frame(0, 0, null);

    private final Link out;
    private final long frameTimeoutNanos;
    private final Runnable onFailure;
    private final LinkedBlockingQueue<Frame> queue = new LinkedBlockingQueue<>();
    private final ByteBuffer header = ByteBuffer.allocateDirect(HEADER_BYTES);
    private final FrameCipher cipher;
    private final ByteBuffer sealed;
    private final Object lock = new Object();
    private final Thread thread;
    private long submitted;
    private long completed;
    private volatile IOException failure;
    private volatile boolean stopping;

    /** {@code maxDataBytes}: the largest data payload that will be sent (the sealing buffer's size). */
    Sender(Link out, long frameTimeoutNanos, int maxDataBytes, String threadName, Runnable onFailure) {
        this.out = out;
        this.cipher = out.cipher();
        this.sealed = cipher == null
                ? null
                : ByteBuffer.allocateDirect(Math.max(maxDataBytes, MAX_ABORT_BYTES) + FrameCipher.TAG_BYTES);
        this.frameTimeoutNanos = frameTimeoutNanos;
        this.onFailure = onFailure;
        this.thread = new Thread(this::loop, threadName);
        thread.setDaemon(true);
        thread.start();
    }

    /** Queues one data frame; {@code payload} (position..limit) must not change until {@link #awaitIdle}. */
    void send(long seq, ByteBuffer payload) throws IOException {
        enqueue(new Frame(DATA, seq, payload));
    }

    private void enqueue(Frame f) throws IOException {
        IOException f0 = failure;
        if (f0 != null) {
            throw new IOException(f0.getMessage(), f0);
        }
        synchronized (lock) {
            submitted++;
        }
        queue.add(f);
    }

    /** Waits until every queued frame is written; the sender's own per-frame deadlines bound the wait. */
    void awaitIdle(Link.Guard guard) throws IOException {
        synchronized (lock) {
            while (completed < submitted && failure == null) {
                try {
                    lock.wait(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while sending", e);
                }
                guard.check();
            }
        }
        guard.check();
    }

    /** The first write error, or null. */
    IOException failure() {
        return failure;
    }

    /**
     * Best effort: drops queued frames, lets the frame on the wire finish, then tells the right neighbour why this
     * rank failed, so the error travels round the ring naming the rank that failed first. Waits at most
     * {@code graceNanos}.
     */
    void abort(String message, long graceNanos) {
        if (failure != null || stopping) {
            return;
        }
        byte[] utf8 = message.getBytes(StandardCharsets.UTF_8);
        if (utf8.length > MAX_ABORT_BYTES) {
            utf8 = java.util.Arrays.copyOf(utf8, MAX_ABORT_BYTES);
        }
        synchronized (lock) {
            submitted -= queue.drainTo(new java.util.ArrayList<>());
        }
        try {
            enqueue(new Frame(ABORT, -1, ByteBuffer.wrap(utf8)));
        } catch (IOException e) {
            return;
        }
        long deadline = System.nanoTime() + graceNanos;
        synchronized (lock) {
            while (completed < submitted && failure == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                try {
                    lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private void loop() {
        Link.Guard guard = () -> {
            if (stopping) {
                throw new IOException("sender stopped");
            }
        };
        try {
            while (true) {
                Frame f = queue.take();
                if (f == STOP || stopping) {
                    return;
                }
                header.clear();
                header.putInt(f.type)
                        .putInt(f.payload.remaining())
                        .putLong(f.seq)
                        .flip();
                ByteBuffer payload = f.payload.duplicate();
                if (cipher != null) {
                    cipher.seal(header, payload, sealed);
                    payload = sealed;
                }
                String what = f.type == ABORT ? "an abort notice" : "a frame of op #" + f.seq;
                out.writeFully(new ByteBuffer[] {header, payload}, System.nanoTime() + frameTimeoutNanos, what, guard);
                synchronized (lock) {
                    completed++;
                    lock.notifyAll();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) {
            failure = e instanceof IOException io ? io : new IOException(e.toString(), e);
            synchronized (lock) {
                lock.notifyAll();
            }
            onFailure.run();
        }
    }

    @Override
    public void close() {
        stopping = true;
        queue.add(STOP);
        out.wakeup();
        try {
            thread.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        out.close();
    }
}
