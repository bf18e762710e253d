package io.sparkformers.distributed;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Averages (or sums) DJL gradients over all ranks of a {@link Collective}, bucket by bucket, as PyTorch DDP's reducer does
 * ({@code bucket_cap_mb}, default 25 MB): the gradients, in list order, are laid end to end in one flat direct
 * buffer of T floats (kept between steps while the layout is the same), cut into buckets of at most
 * {@code bucketCapBytes}; an array may span buckets. Packing is pipelined with communication: as soon as the
 * arrays covering bucket k are copied in, a background thread all-reduces bucket k while this thread packs the
 * next arrays; then each array is copied back once every bucket it touches is averaged, overlapping the remaining
 * communication.
 *
 * <p>Packing reads each gradient through {@code toByteBuffer(true)} (zero-copy for a contiguous CPU tensor).
 * Unpacking copies into the gradient in place through an NDArray that aliases the bucket; it never uses
 * {@code NDArray.set(ByteBuffer)}, which in DJL's PyTorch engine re-points the tensor at the given direct buffer
 * instead of copying (the gradient would then alias, and later dangle on, our buffer). Gradients must be
 * float32 on the CPU; all ranks pass arrays of the same sizes in the same order. One instance per
 * {@link Collective}, used by one thread.
 */
public final class GradientBuckets implements AutoCloseable {
    /** PyTorch DDP's default {@code bucket_cap_mb = 25}. */
    public static final long DEFAULT_BUCKET_CAP_BYTES = 25L << 20;

    private final Collective collective;
    private final int bucketFloats;
    private final ExecutorService comm;
    private ByteBuffer flat;

    public GradientBuckets(Collective collective) {
        this(collective, DEFAULT_BUCKET_CAP_BYTES);
    }

    /** @param bucketCapBytes largest bucket in bytes (≥ 4, rounded down to whole floats) */
    public GradientBuckets(Collective collective, long bucketCapBytes) {
        if (bucketCapBytes < 4 || bucketCapBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(
                    "bucketCapBytes must be in 4.." + Integer.MAX_VALUE + ", got " + bucketCapBytes);
        }
        this.collective = collective;
        this.bucketFloats = (int) (bucketCapBytes / 4);
        this.comm = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "sparkformers-gradient-buckets-r" + collective.rank());
            t.setDaemon(true);
            return t;
        });
    }

    /** Number of buckets {@code totalFloats} gradients fill. */
    public int bucketCount(long totalFloats) {
        return (int) ((totalFloats + bucketFloats - 1) / bucketFloats);
    }

    /**
     * Replaces every gradient by its average over all ranks (sum / worldSize, bit-identical on every rank).
     *
     * @param gradients float32 CPU arrays, e.g. {@code parameter.getArray().getGradient()} for each trainable
     *     parameter, in the same order on every rank
     * @throws CollectiveException when the all-reduce fails (the gradients are then partly updated)
     */
    public void allReduceAverage(List<NDArray> gradients) throws CollectiveException {
        reduce(gradients, true);
    }

    /**
     * Replaces every gradient by its sum over all ranks (bit-identical on every rank): what the Trainer needs when each
     * rank's micro-batch losses are already scaled by {@code 1/(micro-batches in the global step)}
     * ({@code io.sparkformers.train.DataSharding}).
     */
    public void allReduceSum(List<NDArray> gradients) throws CollectiveException {
        reduce(gradients, false);
    }

    private void reduce(List<NDArray> gradients, boolean average) throws CollectiveException {
        int n = gradients.size();
        long[] start = new long[n + 1];
        for (int i = 0; i < n; i++) {
            NDArray g = gradients.get(i);
            if (g.getDataType() != DataType.FLOAT32 || !Device.cpu().equals(g.getDevice())) {
                throw new IllegalArgumentException("gradient " + i + " " + g.getShape() + " is " + g.getDataType()
                        + " on " + g.getDevice() + ": bucketed all-reduce takes float32 CPU arrays");
            }
            start[i + 1] = start[i] + g.size();
        }
        long total = start[n];
        if (total * 4 > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("gradients of " + total + " floats exceed one 2 GiB direct buffer");
        }
        if (flat == null || flat.capacity() != total * 4) {
            flat = ByteBuffer.allocateDirect((int) total * 4).order(ByteOrder.LITTLE_ENDIAN);
        }
        int buckets = bucketCount(total);
        List<Future<?>> reduced = new ArrayList<>(buckets);
        int submitted = 0;
        for (int i = 0; i < n; i++) {
            // (size_i,) floats of gradient i -> flat[start_i, start_i + size_i)
            ByteBuffer src = gradients.get(i).toByteBuffer(true);
            flat.put((int) start[i] * 4, src, src.position(), (int) (start[i + 1] - start[i]) * 4);
            while (submitted < buckets && bucketEnd(submitted, total) <= start[i + 1]) {
                ByteBuffer bucket = flat.slice(
                        submitted * bucketFloats * 4,
                        (int) (bucketEnd(submitted, total) - (long) submitted * bucketFloats) * 4);
                reduced.add(comm.submit(() -> {
                    if (average) collective.allReduceAverage(bucket);
                    else collective.allReduce(bucket);
                    return null;
                }));
                submitted++;
            }
        }
        int unpacked = 0;
        try (NDManager scratch = NDManager.newBaseManager(Device.cpu())) {
            for (int b = 0; b < buckets; b++) {
                await(reduced.get(b));
                long end = bucketEnd(b, total);
                while (unpacked < n && start[unpacked + 1] <= end) {
                    NDArray g = gradients.get(unpacked);
                    ByteBuffer averaged = flat.slice((int) start[unpacked] * 4, (int) g.size() * 4)
                            .order(ByteOrder.LITTLE_ENDIAN);
                    try (NDArray view = scratch.create(averaged, g.getShape(), DataType.FLOAT32)) {
                        g.set(new NDIndex("..."), view);
                    }
                    unpacked++;
                }
            }
        } finally {
            for (Future<?> f : reduced) {
                f.cancel(false);
            }
        }
    }

    private long bucketEnd(int bucket, long total) {
        return Math.min((long) (bucket + 1) * bucketFloats, total);
    }

    private static void await(Future<?> f) throws CollectiveException {
        try {
            f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof CollectiveException ce) {
                throw ce;
            }
            throw new IllegalStateException("bucket all-reduce failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CollectiveException("interrupted while averaging gradients", e);
        }
    }

    /** Stops the communication thread (the {@link Collective} stays open). */
    @Override
    public void close() {
        comm.shutdownNow();
    }
}
