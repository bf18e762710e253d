package io.sparkformers.distributed;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Averages (or sums) DJL gradients over all ranks of a {@link Collective}, bucket by bucket, as PyTorch DDP's reducer does
 * ({@code bucket_cap_mb}, default 25 MB): the gradients are laid end to end in one flat direct buffer (kept between
 * steps while it is large enough), cut into buckets of at most {@code bucketCapBytes}; an array may span buckets.
 * Packing is pipelined with communication: as soon as the arrays covering bucket k are copied in, a background thread
 * all-reduces bucket k while this thread packs the next arrays; then each array is copied back once every bucket it
 * touches is summed, overlapping the remaining communication.
 *
 * <p>Embedding tables ({@link #allReduceSum(List, BitSet)}) travel as their touched rows only; their rows are found
 * while the other gradients' buckets travel.
 *
 * <p>A sharded step ({@link #reduceScatterSum}, then {@link #startGather}) cuts the same buckets but runs only the
 * ring's reduce-scatter on them, leaving each rank the finished sums of its chunk of every bucket, and later the ring's
 * all-gather on the updated values of those chunks: ZeRO stage 1's partitioned optimizer step.
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
        try (Reduction r = new Reduction(gradients, true, false)) {
            for (NDArray g : gradients) r.add(g, g, null);
            r.finish();
        }
    }

    /**
     * Replaces every gradient by its sum over all ranks (bit-identical on every rank): what the Trainer needs when each
     * rank's micro-batch losses are already scaled by {@code 1/(micro-batches in the global step)}
     * ({@code io.sparkformers.train.DataSharding}).
     */
    public void allReduceSum(List<NDArray> gradients) throws CollectiveException {
        allReduceSum(gradients, new BitSet());
    }

    /**
     * {@link #allReduceSum(List)} where the gradients at {@code lookupTables} are those of embedding tables
     * ({@code nn.Embedding} weights, (rows, dim)): a lookup gives gradient only to the rows a batch touched, so every
     * other row is zero on its rank. The other gradients' buckets go first; while they travel, this thread flags each
     * table's non-zero rows, and the ranks sum the flags (one float per row). When at most half of a table's rows were
     * touched anywhere, only those rows travel, gathered into a compact (k, dim) array and written back in place; the
     * untouched rows stay zero, as the dense sum leaves them (up to the sign of a zero). A table whose gradient is
     * dense (tied to an output projection, or a large batch) travels whole. Every rank ends with the same bits, and each
     * element is the sum of the same floats as in the dense reduce (the same bits with two ranks; with more, the
     * ring may add them in another order).
     *
     * <p>Why: a vocabulary table is a large share of a small encoder (all-MiniLM-L6-v2: 11.7 M of 22.7 M parameters)
     * while a step of 2 ranks × 8 × 128 tokens touched 700–789 of its 30,522 rows ({@code bench training-distributed}). PyTorch's way,
     * {@code nn.Embedding(sparse=True)}, does not combine with DDP's buckets or with AdamW.
     */
    public void allReduceSum(List<NDArray> gradients, BitSet lookupTables) throws CollectiveException {
        try (Reduction r = new Reduction(gradients, false, false)) {
            reduce(r, gradients, lookupTables);
        }
    }

    /** One gradient's share in a sharded reduce: elements [from, to) of the flattened array, their sums in {@code sum}. */
    public record Shard(int index, long from, long to, NDArray sum) {}

    /**
     * The outcome of {@link #reduceScatterSum}: this rank's shares, with their sums as views of this instance's
     * buffer (valid until closed, and until the next reduce or gather), and the gradients summed whole, in place.
     */
    public static final class Shards implements AutoCloseable {
        private final List<Shard> mine;
        private final BitSet whole;
        private final NDManager views;

        private Shards(List<Shard> mine, BitSet whole, NDManager views) {
            this.mine = List.copyOf(mine);
            this.whole = whole;
            this.views = views;
        }

        public List<Shard> mine() {
            return mine;
        }

        public BitSet whole() {
            return (BitSet) whole.clone();
        }

        @Override
        public void close() {
            views.close();
        }
    }

    /**
     * The first half of a sharded step (ZeRO stage 1's partitioned update): the gradients other than the lookup
     * tables travel as in {@link #allReduceSum(List, BitSet)} but are only reduce-scattered, so each rank ends with the
     * finished sums of its share of every bucket ({@link Shards#mine()}, the same bits an all-reduce gives) and sends
     * and receives half the floats; the tables are summed whole, in place, as there ({@link Shards#whole()}). The
     * caller updates its shares of the parameters, then {@link #allGatherShards} copies every rank's updated shares
     * to all ranks.
     */
    public Shards reduceScatterSum(List<NDArray> gradients, BitSet lookupTables) throws CollectiveException {
        NDManager views = NDManager.newBaseManager(Device.cpu());
        try (Reduction r = new Reduction(gradients, false, true)) {
            int[] scattered = reduce(r, gradients, lookupTables);
            BitSet whole = new BitSet();
            whole.set(0, gradients.size());
            for (int i : scattered) whole.clear(i);
            return new Shards(r.shards(scattered, views), whole, views);
        } catch (RuntimeException | CollectiveException e) {
            views.close();
            throw e;
        }
    }

    /**
     * The second half of a sharded step: {@code arrays} (index for index like the gradients given to
     * {@link #reduceScatterSum}, with the same lookup tables) hold this rank's up-to-date values in its shares; every
     * rank's shares are copied into all ranks' arrays, in place (the tables are left alone). Also brings a sharded
     * optimizer's state up to date on every rank. The arrays must allow in-place writes (parameters: under no-grad).
     */
    public void allGatherShards(List<NDArray> arrays, BitSet lookupTables) throws CollectiveException {
        try (Gather g = startGather(arrays, lookupTables)) {
            g.finish();
        }
    }

    /**
     * {@link #allGatherShards} in two halves, so that the caller can work while the shares travel: this packs this
     * rank's shares of {@code arrays} and queues the buckets; {@link Gather#finish()} waits and copies every share in.
     * Until then the arrays at shares must not change (the others, and the tables, may).
     */
    public Gather startGather(List<NDArray> arrays, BitSet lookupTables) {
        int[] scattered = scatteredIndices(arrays, lookupTables);
        long total = 0;
        for (int i : scattered) total += arrays.get(i).size();
        ensureFlat(total);
        long off = 0;
        for (int i : scattered) {
            NDArray a = arrays.get(i);
            checkFloat32Cpu(a, i);
            ByteBuffer src = a.toByteBuffer(true);
            for (long[] own : owned(off, a.size(), total)) {
                flat.put((int) own[0] * 4, src, src.position() + (int) (own[0] - off) * 4, (int) (own[1] - own[0]) * 4);
            }
            off += a.size();
        }
        Gather g = new Gather(arrays, scattered);
        for (long from = 0; from < total; from += bucketFloats) {
            ByteBuffer bucket = flat.slice((int) from * 4, (int) (Math.min(total, from + bucketFloats) - from) * 4);
            g.buckets.add(comm.submit(() -> {
                collective.allGather(bucket);
                return null;
            }));
        }
        return g;
    }

    /** An all-gather of shares in flight ({@link #startGather}). */
    public final class Gather implements AutoCloseable {
        private final List<NDArray> arrays;
        private final int[] scattered;
        private final List<Future<?>> buckets = new ArrayList<>();

        private Gather(List<NDArray> arrays, int[] scattered) {
            this.arrays = arrays;
            this.scattered = scattered;
        }

        /** Waits for the buckets and copies each array in, in place, as soon as the buckets it spans arrived. */
        public void finish() throws CollectiveException {
            long off = 0;
            int bucket = 0;
            try (NDManager views = NDManager.newBaseManager(Device.cpu())) {
                for (int i : scattered) {
                    NDArray a = arrays.get(i);
                    long end = off + a.size();
                    while ((long) bucket * bucketFloats < end) await(buckets.get(bucket++));
                    if (a.size() > 0) {
                        ByteBuffer values =
                                flat.slice((int) off * 4, (int) a.size() * 4).order(ByteOrder.LITTLE_ENDIAN);
                        try (NDArray view = views.create(values, a.getShape(), DataType.FLOAT32)) {
                            a.set(new NDIndex("..."), view);
                        }
                    }
                    off = end;
                }
            }
        }

        /** After a failure: buckets not yet sent are dropped. */
        @Override
        public void close() {
            for (Future<?> f : buckets) f.cancel(false);
        }
    }

    /** The indices that a sharded reduce scatters: every gradient but the 2-D lookup tables. */
    private static int[] scatteredIndices(List<NDArray> arrays, BitSet lookupTables) {
        return java.util.stream.IntStream.range(0, arrays.size())
                .filter(i -> !isTable(arrays.get(i), lookupTables, i))
                .toArray();
    }

    private static boolean isTable(NDArray a, BitSet lookupTables, int i) {
        return lookupTables.get(i) && a.getShape().dimension() == 2;
    }

    /**
     * Packs every gradient into {@code r}: the others first, then (in a sharded reduce, summed whole) each table's
     * touched rows, or the whole table when more than half of it was touched. Returns the indices packed first.
     */
    private int[] reduce(Reduction r, List<NDArray> gradients, BitSet lookupTables) throws CollectiveException {
        int[] others = scatteredIndices(gradients, lookupTables);
        for (int i : others) r.add(gradients.get(i), gradients.get(i), null);
        r.startWholeRegion();
        List<Integer> tables = new ArrayList<>();
        for (int i = 0; i < gradients.size(); i++) {
            if (isTable(gradients.get(i), lookupTables, i)) tables.add(i);
        }
        try (NDManager scratch = NDManager.newBaseManager(Device.cpu())) {
            if (!tables.isEmpty()) {
                ByteBuffer touched = touchedRows(gradients, tables);
                // queued behind the buckets already submitted, at the same point on every rank
                await(comm.submit(() -> {
                    collective.allReduce(touched); // per row: how many ranks touched it
                    return null;
                }));
                int off = 0;
                for (int i : tables) {
                    NDArray g = gradients.get(i);
                    long height = g.getShape().get(0);
                    int bytes = Math.toIntExact(height * 4);
                    NDArray count = scratch.create(
                            touched.slice(off, bytes).order(ByteOrder.LITTLE_ENDIAN),
                            new Shape(height),
                            DataType.FLOAT32);
                    off += bytes;
                    NDArray union = count.gt(0).nonzero().reshape(-1); // (k,) int64, ascending
                    if (union.size() * 2 > height) {
                        r.add(g, g, null);
                        continue;
                    }
                    try (NDArray compact = g.get(new NDIndex("{}", union))) { // (k, dim), a copy
                        r.add(compact, g, union);
                    }
                }
            }
            r.finish();
        }
        return others;
    }

    /** One float per row of each table in turn: 1 where the gradient row has an element that is not ±0, else 0. */
    private static ByteBuffer touchedRows(List<NDArray> gradients, List<Integer> tables) {
        long rows = 0;
        for (int i : tables) rows += gradients.get(i).getShape().get(0);
        ByteBuffer out = ByteBuffer.allocateDirect(Math.toIntExact(rows * 4)).order(ByteOrder.LITTLE_ENDIAN);
        int off = 0;
        for (int i : tables) {
            // a row's L1 norm is 0 exactly when every element is ±0 (it cannot underflow below its largest |x|),
            // and NaN != 0: a non-finite row travels, and the step's norm check sees it on every rank
            try (NDArray l1 = gradients.get(i).norm(1, new int[] {1}, false);
                    NDArray any = l1.neq(0);
                    NDArray flag = any.toType(DataType.FLOAT32, false)) {
                ByteBuffer src = flag.toByteBuffer(true);
                int bytes = Math.toIntExact(flag.size() * 4);
                out.put(off, src, src.position(), bytes);
                off += bytes;
            }
        }
        return out;
    }

    /**
     * One reduce: arrays are packed in the order {@link #add} receives them, full buckets travel as soon as they are
     * packed, {@link #finish} sends the last one and writes every sum back. In a sharded reduce the arrays packed
     * before {@link #startWholeRegion} are reduce-scattered (their sums stay in {@link #flat}, each rank's share
     * finished) and only those after it are summed whole and written back.
     */
    private final class Reduction implements AutoCloseable {
        /** Where a packed array's sum goes: all of {@code target}, or its {@code rows} (int64 indices). */
        private record Slot(NDArray target, NDArray rows, long start, long size) {}

        /** Floats [from, to) of {@link #flat} in flight. */
        private record Bucket(long from, long to, Future<?> done) {}

        private final boolean average;
        private final List<Slot> slots = new ArrayList<>();
        private final List<Bucket> buckets = new ArrayList<>();
        private long packed;
        private long submitted;
        /** Floats [0, scatteredEnd) are reduce-scattered, not summed whole. */
        private long scatteredEnd;

        private boolean scattering;

        /** @param upperBound the arrays whose total size bounds what will be packed */
        Reduction(List<NDArray> upperBound, boolean average, boolean scatter) {
            this.average = average;
            this.scattering = scatter;
            long total = 0;
            for (NDArray g : upperBound) total += g.size();
            ensureFlat(total);
        }

        /** Packs {@code source}; its sum will be written into {@code target}, or into {@code target}'s {@code rows}. */
        void add(NDArray source, NDArray target, NDArray rows) {
            checkFloat32Cpu(source, slots.size());
            long size = source.size();
            ByteBuffer src = source.toByteBuffer(true);
            flat.put((int) packed * 4, src, src.position(), (int) size * 4);
            slots.add(new Slot(target, rows, packed, size));
            packed += size;
            while (packed - submitted >= bucketFloats) submit(submitted + bucketFloats);
        }

        /** Ends the reduce-scattered arrays: the last partial bucket travels, and what follows is summed whole. */
        void startWholeRegion() {
            if (!scattering) return;
            if (packed > submitted) submit(packed);
            scatteredEnd = packed;
            scattering = false;
        }

        private void submit(long to) {
            long from = submitted;
            ByteBuffer bucket = flat.slice((int) from * 4, (int) (to - from) * 4);
            boolean scatter = scattering;
            buckets.add(new Bucket(from, to, comm.submit(() -> {
                if (scatter) collective.reduceScatter(bucket);
                else if (average) collective.allReduceAverage(bucket);
                else collective.allReduce(bucket);
                return null;
            })));
            submitted = to;
        }

        /** Sends the last bucket and writes each whole sum back as soon as the buckets it spans are reduced. */
        void finish() throws CollectiveException {
            startWholeRegion();
            if (packed > submitted) submit(packed);
            int unpacked = 0;
            try (NDManager views = NDManager.newBaseManager(Device.cpu())) {
                for (Bucket b : buckets) {
                    await(b.done());
                    while (unpacked < slots.size()
                            && slots.get(unpacked).start() + slots.get(unpacked).size() <= b.to()) {
                        Slot s = slots.get(unpacked++);
                        if (s.start() < scatteredEnd) continue; // a share of it is finished here; it stays in flat
                        ByteBuffer sum = flat.slice((int) s.start() * 4, (int) s.size() * 4)
                                .order(ByteOrder.LITTLE_ENDIAN);
                        Shape shape = s.rows() == null
                                ? s.target().getShape()
                                : new Shape(
                                        s.rows().size(), s.target().getShape().get(1));
                        try (NDArray view = views.create(sum, shape, DataType.FLOAT32)) {
                            s.target().set(s.rows() == null ? new NDIndex("...") : new NDIndex("{}", s.rows()), view);
                        }
                    }
                }
            }
        }

        /**
         * This rank's shares of the reduce-scattered arrays ({@code indices[k]} is the caller's index of the k-th
         * array packed), as views of {@link #flat} in {@code views}.
         */
        List<Shard> shards(int[] indices, NDManager views) {
            List<Shard> out = new ArrayList<>();
            for (int k = 0; k < indices.length; k++) {
                Slot s = slots.get(k);
                for (long[] own : owned(s.start(), s.size(), scatteredEnd)) {
                    ByteBuffer sum = flat.slice((int) own[0] * 4, (int) (own[1] - own[0]) * 4)
                            .order(ByteOrder.LITTLE_ENDIAN);
                    out.add(new Shard(
                            indices[k],
                            own[0] - s.start(),
                            own[1] - s.start(),
                            views.create(sum, new Shape(own[1] - own[0]), DataType.FLOAT32)));
                }
            }
            return out;
        }

        /** After a failure: buckets not yet sent are dropped. */
        @Override
        public void close() {
            for (Bucket b : buckets) b.done().cancel(false);
        }
    }

    /** Makes {@link #flat} hold at least {@code floats} floats (kept between steps while large enough). */
    private void ensureFlat(long floats) {
        if (floats * 4 > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("gradients of " + floats + " floats exceed one 2 GiB direct buffer");
        }
        if (flat == null || flat.capacity() < floats * 4) {
            flat = ByteBuffer.allocateDirect((int) floats * 4).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    private static void checkFloat32Cpu(NDArray a, int index) {
        if (a.getDataType() != DataType.FLOAT32 || !Device.cpu().equals(a.getDevice())) {
            throw new IllegalArgumentException("gradient " + index + " " + a.getShape() + " is " + a.getDataType()
                    + " on " + a.getDevice() + ": bucketed all-reduce takes float32 CPU arrays");
        }
    }

    /**
     * The floats of [start, start + size) of the flat layout that this rank finishes in a reduce-scatter: in each
     * bucket (cut every {@code bucketFloats} from 0) the collective's owned range, intersected. Empty ranges are left
     * out.
     */
    private List<long[]> owned(long start, long size, long regionEnd) {
        List<long[]> out = new ArrayList<>();
        long end = start + size;
        for (long b = start / bucketFloats * bucketFloats; b < end; b += bucketFloats) {
            long bucketEnd = b + bucketFloats;
            long len = Math.min(bucketFloats, regionEnd - b);
            long[] own = collective.ownedRange(len);
            long from = Math.max(start, b + own[0]);
            long to = Math.min(end, b + own[1]);
            if (from < to) out.add(new long[] {from, to});
            if (bucketEnd >= end) break;
        }
        return out;
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
