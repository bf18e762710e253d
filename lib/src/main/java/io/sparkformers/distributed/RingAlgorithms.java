package io.sparkformers.distributed;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * The collective algorithms over a ring's {@link RingTransport} (c10d's role of a backend's allreduce / broadcast /
 * allgather), each the body of one operation: called inside {@link RingTransport#run}, by one thread at a time.
 * Data only flows rightwards; each algorithm ends when everything it queued has been written.
 *
 * <p>All-reduce is the bandwidth-optimal ring all-reduce of Patarasuk &amp; Yuan (2009), as in Baidu's
 * ring-allreduce, Horovod and NCCL: the buffer of S floats is cut into N chunks of ≈S/N; a reduce-scatter of N−1
 * steps leaves rank r owning the full sum of chunk r+1, then an all-gather of N−1 steps copies every owned chunk to
 * every rank. Each rank sends and receives 2(N−1)/N·S floats, independent of N. Chunks travel in segments
 * ({@link CollectiveOptions#segmentBytes()}), and the transport's sender thread forwards segment j while this thread
 * receives segment j+1, so send, receive and summation overlap. Every chunk is summed once, by its owner, in a fixed
 * order (starting at rank c for chunk c and adding ranks c+1, c+2, … in turn), and then copied: all ranks end with
 * bit-identical bytes.
 */
final class RingAlgorithms {
    private final RingTransport transport;
    private final int rank;
    private final int worldSize;
    private final int segmentBytes;
    private final ByteBuffer scratch;

    RingAlgorithms(RingTransport transport) {
        this.transport = transport;
        this.rank = transport.rank();
        this.worldSize = transport.worldSize();
        this.segmentBytes = transport.options().segmentBytes();
        this.scratch = worldSize > 1 ? ByteBuffer.allocateDirect(segmentBytes) : null;
    }

    /**
     * Reduce-scatter then all-gather over chunks c = [c·S/N, (c+1)·S/N) floats, S = remaining floats. At the last
     * reduce-scatter step the received partial sums complete chunk rank+1, which this rank then owns: with
     * {@code average} it divides them by N there, before they travel round the all-gather.
     */
    void allReduce(ByteBuffer data, boolean average) throws IOException {
        reduceScatter(data, average, true); // each half returns at once for one rank or no floats
        allGather(data, false);
    }

    /**
     * The reduce-scatter half of {@link #allReduce}: afterwards this rank's chunk {@link #ownedChunk} holds the sums
     * over all ranks (the other chunks hold partial sums). With {@code forwardOwned} each finished segment of the
     * owned chunk is sent on at once, starting the all-gather that {@link #allGather(ByteBuffer, boolean)} with
     * {@code sendOwned} false completes; without, the ring is flushed and the owned chunk may change before that
     * all-gather (with {@code sendOwned} true) copies it to every rank.
     */
    void reduceScatter(ByteBuffer data, boolean average, boolean forwardOwned) throws IOException {
        int base = data.position();
        int count = data.remaining() / 4;
        int n = worldSize;
        if (n == 1 || count == 0) {
            return;
        }
        int segFloats = segmentBytes / 4;
        for (int step = 0; step < n - 1; step++) {
            if (step == 0) {
                int end = chunkStart(rank + 1, count);
                for (int off = chunkStart(rank, count); off < end; off += segFloats) {
                    transport.send(data.slice(base + 4 * off, 4 * Math.min(segFloats, end - off)));
                }
            }
            int c = Math.floorMod(rank - step - 1, n);
            int end = chunkStart(c + 1, count);
            for (int off = chunkStart(c, count); off < end; off += segFloats) {
                int bytes = 4 * Math.min(segFloats, end - off);
                scratch.clear().limit(bytes);
                transport.receive(scratch, "reduce-scatter step " + step);
                scratch.flip();
                ByteBuffer segment = data.slice(base + 4 * off, bytes);
                if (average && step == n - 2) {
                    addAndDivide(segment, scratch, n);
                } else {
                    add(segment, scratch);
                }
                if (step < n - 2 || forwardOwned) {
                    transport.send(segment);
                }
            }
        }
        if (!forwardOwned) {
            transport.flush();
        }
    }

    /**
     * The all-gather half of {@link #allReduce}: every rank's chunk {@link #ownedChunk} is copied to every other rank.
     * With {@code sendOwned} this rank first sends its own chunk (a stand-alone all-gather); without, the reduce-scatter
     * already did.
     */
    void allGather(ByteBuffer data, boolean sendOwned) throws IOException {
        int base = data.position();
        int count = data.remaining() / 4;
        int n = worldSize;
        if (n == 1 || count == 0) {
            return;
        }
        int segFloats = segmentBytes / 4;
        if (sendOwned) {
            int owned = Math.floorMod(rank + 1, n);
            int end = chunkStart(owned + 1, count);
            for (int off = chunkStart(owned, count); off < end; off += segFloats) {
                transport.send(data.slice(base + 4 * off, 4 * Math.min(segFloats, end - off)));
            }
        }
        for (int step = 0; step < n - 1; step++) {
            int c = Math.floorMod(rank - step, n);
            int end = chunkStart(c + 1, count);
            for (int off = chunkStart(c, count); off < end; off += segFloats) {
                ByteBuffer segment = data.slice(base + 4 * off, 4 * Math.min(segFloats, end - off));
                transport.receive(segment.duplicate(), "all-gather step " + step);
                if (step < n - 2) {
                    transport.send(segment);
                }
            }
        }
        transport.flush();
    }

    /**
     * The floats [from, to) of a buffer of {@code count} floats whose sums {@code rank} of {@code worldSize} finishes
     * in a reduce-scatter: chunk rank+1 (mod N).
     */
    static long[] ownedChunk(int rank, int worldSize, long count) {
        int c = Math.floorMod(rank + 1, worldSize);
        return new long[] {c * count / worldSize, (c + 1) * count / worldSize};
    }

    /** First float of chunk {@code c} (c may be N: the end): ⌊c·S/N⌋, so chunks differ in size by at most one. */
    private int chunkStart(int c, int count) {
        return (int) ((long) c * count / worldSize);
    }

    /**
     * A pipelined chain root → root+1 → … → root−1, segment by segment, so it costs about S/B + (N−2)·segment/B
     * rather than (N−1)·S/B.
     */
    void broadcast(ByteBuffer data, int root) throws IOException {
        int n = worldSize;
        if (n == 1 || !data.hasRemaining()) {
            return;
        }
        int position = Math.floorMod(rank - root, n);
        int base = data.position();
        int total = data.remaining();
        int seg = segmentBytes;
        for (int off = 0; off < total; off += seg) {
            ByteBuffer segment = data.slice(base + off, Math.min(seg, total - off));
            if (position > 0) {
                transport.receive(segment.duplicate(), "broadcast from rank " + root);
            }
            if (position < n - 1) {
                transport.send(segment);
            }
        }
        transport.flush();
    }

    /** Every rank's {@code value}, indexed by rank: a ring all-gather of 8-byte slots. */
    long[] allGather(long value) throws IOException {
        int n = worldSize;
        ByteBuffer slots = ByteBuffer.allocateDirect(8 * n);
        slots.putLong(8 * rank, value);
        if (n > 1) {
            transport.send(slots.slice(8 * rank, 8));
            for (int step = 0; step < n - 1; step++) {
                int c = Math.floorMod(rank - step - 1, n);
                ByteBuffer slot = slots.slice(8 * c, 8);
                transport.receive(slot.duplicate(), "all-gather step " + step);
                if (step < n - 2) {
                    transport.send(slot);
                }
            }
            transport.flush();
        }
        long[] values = new long[n];
        for (int r = 0; r < n; r++) {
            values[r] = slots.getLong(8 * r);
        }
        return values;
    }

    /** segment[i] += addend[i] for little-endian float32 (both exactly the same length). */
    static void add(ByteBuffer segment, ByteBuffer addend) {
        FloatBuffer d = segment.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        FloatBuffer a = addend.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        int len = d.remaining();
        for (int i = 0; i < len; i++) {
            d.put(i, d.get(i) + a.get(i));
        }
    }

    /**
     * segment[i] = (segment[i] + addend[i]) / n. For a power of two n the division is a multiplication by the exact
     * reciprocal (the same correctly rounded result, without the divider's latency).
     */
    static void addAndDivide(ByteBuffer segment, ByteBuffer addend, int n) {
        FloatBuffer d = segment.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        FloatBuffer a = addend.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        int len = d.remaining();
        if (Integer.bitCount(n) == 1) {
            float reciprocal = 1f / n;
            for (int i = 0; i < len; i++) {
                d.put(i, (d.get(i) + a.get(i)) * reciprocal);
            }
        } else {
            float divisor = n;
            for (int i = 0; i < len; i++) {
                d.put(i, (d.get(i) + a.get(i)) / divisor);
            }
        }
    }
}
