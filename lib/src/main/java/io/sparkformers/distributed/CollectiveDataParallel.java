package io.sparkformers.distributed;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import io.sparkformers.nn.NoGrad;
import io.sparkformers.train.DataParallel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The Trainer's {@link DataParallel} over a {@link Collective}: gradients summed in buckets ({@link GradientBuckets}),
 * weights broadcast from rank 0 through one flat direct buffer, small sums and byte arrays through all-gathers,
 * replica checks by a CRC32C-based checksum of the weights ({@link Collective#requireSameOnAllRanks}). Arrays are
 * written in place through an aliasing view ({@code set(NDIndex, NDArray)} under no-grad), never with
 * {@code NDArray.set(ByteBuffer)}, which re-points a tensor at the buffer. Float32 CPU arrays. Owns neither the
 * collective nor the arrays; one thread at a time.
 */
public final class CollectiveDataParallel implements DataParallel, AutoCloseable {
    private final Collective collective;
    private final GradientBuckets buckets;

    public CollectiveDataParallel(Collective collective) {
        this.collective = collective;
        this.buckets = new GradientBuckets(collective);
    }

    @Override
    public int rank() {
        return collective.rank();
    }

    @Override
    public int worldSize() {
        return collective.worldSize();
    }

    @Override
    public void broadcastFromMain(List<NDArray> arrays) throws IOException {
        ByteBuffer flat = pack(arrays);
        collective.broadcast(flat, 0);
        if (rank() == 0) return;
        try (NoGrad g = NoGrad.enter();
                NDManager scratch = NDManager.newBaseManager(Device.cpu())) {
            int off = 0;
            for (NDArray a : arrays) {
                int bytes = Math.toIntExact(a.size() * 4);
                ByteBuffer slice = flat.slice(off, bytes).order(ByteOrder.LITTLE_ENDIAN);
                try (NDArray view = scratch.create(slice, a.getShape(), DataType.FLOAT32)) {
                    a.set(new NDIndex("..."), view); // copy into the weights, in place
                }
                off += bytes;
            }
        }
    }

    @Override
    public void allReduceSum(List<NDArray> gradients, BitSet lookupTables) throws IOException {
        buckets.allReduceSum(gradients, lookupTables);
    }

    @Override
    public boolean shardsUpdates() {
        return true;
    }

    @Override
    public void reduceScatterUpdate(
            List<NDArray> gradients, BitSet lookupTables, List<NDArray> params, ShardedUpdate update)
            throws IOException {
        Runnable rest;
        try (GradientBuckets.Shards shards = buckets.reduceScatterSum(gradients, lookupTables)) {
            List<Share> mine = new ArrayList<>();
            for (GradientBuckets.Shard s : shards.mine()) mine.add(new Share(s.index(), s.from(), s.to(), s.sum()));
            rest = update.apply(mine, shards.whole());
        }
        // the updated shares travel while the tables are updated in full here
        try (GradientBuckets.Gather gather = buckets.startGather(params, lookupTables)) {
            rest.run();
            try (NoGrad g = NoGrad.enter()) {
                gather.finish();
            }
        }
    }

    @Override
    public void allGatherShares(List<NDArray> arrays, BitSet lookupTables) throws IOException {
        try (NoGrad g = NoGrad.enter()) {
            buckets.allGatherShards(arrays, lookupTables);
        }
    }

    @Override
    public double[] sum(double[] values) throws IOException {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) out[i] = collective.allReduceChecksum(values[i]);
        return out;
    }

    @Override
    public void requireSame(List<NDArray> arrays, String what) throws IOException {
        collective.requireSameOnAllRanks(checksum(arrays), what);
    }

    @Override
    public List<byte[]> allGather(byte[] mine) throws IOException {
        long[] lengths = collective.allGather(mine.length);
        List<byte[]> out = new ArrayList<>(lengths.length);
        for (int r = 0; r < lengths.length; r++) {
            ByteBuffer buf = ByteBuffer.allocateDirect(Math.toIntExact(lengths[r]));
            if (r == rank()) {
                buf.put(mine).flip();
            }
            collective.broadcast(buf, r);
            byte[] b = new byte[buf.capacity()];
            buf.position(0);
            buf.get(b);
            out.add(b);
        }
        return out;
    }

    /** A 64-bit digest of the arrays' bytes in order (CRC32C per array, mixed with its index). */
    public static long checksum(List<NDArray> arrays) {
        long h = 0x9E3779B97F4A7C15L;
        CRC32C crc = new CRC32C();
        for (NDArray a : arrays) {
            crc.reset();
            crc.update(a.toByteBuffer(true).duplicate());
            h = (h ^ crc.getValue()) * 0xBF58476D1CE4E5B9L;
            h ^= h >>> 31;
        }
        return h;
    }

    private static ByteBuffer pack(List<NDArray> arrays) {
        long total = 0;
        for (NDArray a : arrays) {
            if (a.getDataType() != DataType.FLOAT32 || !Device.cpu().equals(a.getDevice())) {
                throw new IllegalArgumentException("array " + a.getShape() + " is " + a.getDataType() + " on "
                        + a.getDevice() + ": the weight broadcast takes float32 CPU arrays");
            }
            total += a.size() * 4;
        }
        ByteBuffer flat = ByteBuffer.allocateDirect(Math.toIntExact(total)).order(ByteOrder.LITTLE_ENDIAN);
        int off = 0;
        for (NDArray a : arrays) {
            ByteBuffer src = a.toByteBuffer(true);
            int bytes = Math.toIntExact(a.size() * 4);
            flat.put(off, src, src.position(), bytes);
            off += bytes;
        }
        return flat;
    }

    /** Stops the bucket thread; the collective stays open. */
    @Override
    public void close() {
        buckets.close();
    }

    @Override
    public String toString() {
        return "rank " + rank() + " of " + worldSize() + " (" + collective + ")";
    }
}
