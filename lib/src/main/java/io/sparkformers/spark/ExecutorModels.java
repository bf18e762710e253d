package io.sparkformers.spark;

import ai.djl.Device;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.Json;
import io.sparkformers.hub.SentencePooling;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.hub.TokenizerConfig;
import io.sparkformers.nn.ComputeDtype;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.StateDict;
import io.sparkformers.nn.Task;
import io.sparkformers.nn.vision.VisionModels;
import io.sparkformers.pipeline.Pipeline;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.spark.SparkEnv;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models of one executor JVM, text and image alike: one loaded model per (model reference, head, device) — an
 * {@link HfModel} per {@link Task}, a {@link VisionModels.Loaded} with or without its classification head — shared by
 * every task thread. Concurrent first requests wait for a single load. Entries are kept in least-recently-used order
 * and evicted (closed) when the parameter bytes of all loaded models pass a budget —
 * {@code spark.sparkformers.modelCacheBytes} (Spark conf) or {@code -Dsparkformers.modelCacheBytes}, default 8 GiB —
 * but never while a task holds a {@link Lease}; a model evicted while leased is closed by its last release. A shutdown
 * hook closes what is left.
 *
 * <p>Sharing is safe: inference only reads the parameters and each batch runs in the caller's own
 * sub-{@code NDManager}; grad mode is thread-local and switched off per call. Tokenizers (immutable native objects) are
 * cached per (reference, maxLength) and live as long as the JVM. Task pipelines built around a cached model
 * ({@link #pipeline}) are cached beside it, per options, and closed with it.
 */
public final class ExecutorModels {
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorModels.class);
    private static final ExecutorModels INSTANCE = new ExecutorModels();
    private static final long DEFAULT_BUDGET = 8L << 30;

    /**
     * @param head the text {@link Task} (with "@bf16"/"@auto" when not float32), or {@link #IMAGE_CLASSIFICATION} /
     *             {@link #IMAGE_FEATURES}
     */
    private record Key(String ref, String head, String device) {}

    private static final String IMAGE_CLASSIFICATION = "image-classification";
    private static final String IMAGE_FEATURES = "image-features";

    private record TokenizerKey(String ref, int maxLength, boolean capAtMaxSeqLength) {}

    /** How a model of one kind loads from a local folder. */
    private interface Loader<M extends AutoCloseable> {
        M load(Path dir, Device device) throws IOException;
    }

    private static final class Entry {
        final Key key;
        final CompletableFuture<AutoCloseable> model = new CompletableFuture<>();
        int leases;
        long bytes;
        boolean evicted;

        Entry(Key key) {
            this.key = key;
        }
    }

    /** A task's hold on a cached model: the model stays open until every lease on it is closed. */
    public static final class Lease<M> implements AutoCloseable {
        private final Entry entry;
        private final M model;
        private boolean closed;

        private Lease(Entry entry, M model) {
            this.entry = entry;
            this.model = model;
        }

        public M model() {
            return model;
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            INSTANCE.release(entry);
        }
    }

    private final LinkedHashMap<Key, Entry> entries = new LinkedHashMap<>(16, 0.75f, true); // access order = LRU
    private final Map<TokenizerKey, TextTokenizer> tokenizers = new ConcurrentHashMap<>();
    private final AtomicInteger loads = new AtomicInteger();
    private final Map<Object, Map<Object, Pipeline<?>>> pipelines = new ConcurrentHashMap<>();
    private long totalBytes;

    private ExecutorModels() {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> clear(), "sparkformers-models-shutdown"));
    }

    /**
     * Leases the model for a reference, task and device, loading it if this JVM has not yet (the caller closes the
     * lease when its partition is done).
     */
    public static Lease<HfModel> model(String ref, Task task, Device device) throws IOException {
        return model(ref, task, device, ComputeDtype.FP32);
    }

    /** {@link #model(String, Task, Device)} for inference in {@code dtype} (auto resolved for this executor's device). */
    public static Lease<HfModel> model(String ref, Task task, Device device, ComputeDtype dtype) throws IOException {
        return model(ref, null, task, device, dtype);
    }

    /**
     * {@link #model(String, Task, Device, ComputeDtype)} with a LoRA adapter (a reference as {@code ref} is, or null)
     * merged into the weights at load ({@link HfModel#fromAdapter}); cached apart from the plain model.
     */
    public static Lease<HfModel> model(String ref, String adapter, Task task, Device device, ComputeDtype dtype)
            throws IOException {
        String head = (dtype == ComputeDtype.FP32 ? task.name() : task.name() + "@" + dtype.id())
                + (adapter == null ? "" : " with adapter " + adapter);
        return INSTANCE.lease(
                new Key(ref, head, device.toString()),
                device,
                (dir, d) -> adapter == null
                        ? HfModel.fromPretrained(HfCheckpoint.open(dir), task, d, dtype)
                        : HfModel.fromAdapter(ModelRefs.localFolder(adapter), HfCheckpoint.open(dir), task, d, dtype),
                HfModel::block);
    }

    /** {@link #model}, for an image checkpoint: with its classification head, or the features its head would read. */
    public static Lease<VisionModels.Loaded> vision(String ref, boolean classification, Device device)
            throws IOException {
        return INSTANCE.lease(
                new Key(ref, classification ? IMAGE_CLASSIFICATION : IMAGE_FEATURES, device.toString()),
                device,
                (dir, d) -> VisionModels.fromPretrained(dir, classification, d, StateDict.Options.HF),
                VisionModels.Loaded::model);
    }

    /** The tokenizer of a reference truncating at {@code maxLength}; needs only tokenizer.json in the folder. */
    public static TextTokenizer tokenizer(String ref, int maxLength) throws IOException {
        return tokenizer(ref, maxLength, false);
    }

    /**
     * {@link #tokenizer(String, int)}, with {@code capAtMaxSeqLength} also truncating at the checkpoint's
     * sentence-transformers {@code max_seq_length} ({@code sentence_bert_config.json}) when it names one; read once,
     * when the tokenizer is first loaded on this executor.
     */
    static TextTokenizer tokenizer(String ref, int maxLength, boolean capAtMaxSeqLength) throws IOException {
        TokenizerKey key = new TokenizerKey(ref, maxLength, capAtMaxSeqLength);
        TextTokenizer t = INSTANCE.tokenizers.get(key);
        if (t != null) return t;
        synchronized (INSTANCE.tokenizers) {
            t = INSTANCE.tokenizers.get(key);
            if (t == null) {
                Path dir = ModelRefs.localFolder(ref);
                int limit = maxLength;
                if (capAtMaxSeqLength) {
                    Integer maxSeq = SentencePooling.read(dir)
                            .map(SentencePooling::maxSeqLength)
                            .orElse(null);
                    if (maxSeq != null) limit = Math.min(limit, maxSeq);
                }
                t = loadTokenizer(dir, limit);
                INSTANCE.tokenizers.put(key, t);
            }
            return t;
        }
    }

    /** Builds a pipeline around a loaded model. */
    @FunctionalInterface
    public interface PipelineFactory<P extends Pipeline<?>> {
        P create(HfModel model) throws IOException;
    }

    /**
     * The pipeline built by {@code factory} around {@code model} (a leased model of this cache) for {@code options},
     * built once per model and options and shared by task threads (pipelines hold no per-call state); closed when
     * the model is.
     */
    @SuppressWarnings("unchecked")
    public static <P extends Pipeline<?>> P pipeline(HfModel model, Object options, PipelineFactory<P> factory)
            throws IOException {
        Map<Object, Pipeline<?>> byOptions = INSTANCE.pipelines.computeIfAbsent(model, m -> new ConcurrentHashMap<>());
        try {
            return (P) byOptions.computeIfAbsent(options, o -> {
                try {
                    return factory.create(model);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** Models loaded by this JVM since it started (evicted and reloaded models count again). */
    public static int loads() {
        return INSTANCE.loads.get();
    }

    /** Parameter bytes of the models held now. */
    public static long cachedBytes() {
        synchronized (INSTANCE) {
            return INSTANCE.totalBytes;
        }
    }

    /** Closes every model no task holds and forgets the tokenizers (tests; executor shutdown). */
    public static void clear() {
        List<AutoCloseable> toClose = new ArrayList<>();
        synchronized (INSTANCE) {
            for (Iterator<Entry> it = INSTANCE.entries.values().iterator(); it.hasNext(); ) {
                Entry e = it.next();
                if (e.leases == 0 && e.model.isDone() && !e.model.isCompletedExceptionally()) {
                    toClose.add(e.model.join());
                    INSTANCE.totalBytes -= e.bytes;
                    it.remove();
                }
            }
        }
        toClose.forEach(INSTANCE::close);
        synchronized (INSTANCE.tokenizers) {
            INSTANCE.tokenizers.values().forEach(TextTokenizer::close);
            INSTANCE.tokenizers.clear();
        }
    }

    @SuppressWarnings("unchecked")
    private <M extends AutoCloseable> Lease<M> lease(Key key, Device device, Loader<M> loader, Function<M, Block> block)
            throws IOException {
        Entry entry;
        boolean mine = false;
        synchronized (this) {
            entry = entries.get(key);
            if (entry == null) {
                entry = new Entry(key);
                entries.put(key, entry);
                mine = true;
            }
            entry.leases++;
        }
        if (mine) load(entry, device, loader, block);
        try {
            return new Lease<>(entry, (M) entry.model.get());
        } catch (ExecutionException e) {
            release(entry);
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) throw io;
            if (cause instanceof RuntimeException re) throw re;
            throw new IOException(cause);
        } catch (InterruptedException e) {
            release(entry);
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for model '" + key.ref() + "' to load", e);
        }
    }

    private <M extends AutoCloseable> void load(
            Entry entry, Device device, Loader<M> loader, Function<M, Block> block) {
        long t0 = System.nanoTime();
        try {
            Devices.configureThreads();
            M model = loader.load(ModelRefs.localFolder(entry.key.ref()), device);
            loads.incrementAndGet();
            long bytes = parameterBytes(block.apply(model));
            List<AutoCloseable> evicted;
            synchronized (this) {
                entry.bytes = bytes;
                totalBytes += bytes;
                evicted = evictOverBudget(entry);
            }
            evicted.forEach(this::close);
            LOG.info(
                    "loaded model '{}' for {} on {} in {} ms ({} MiB of parameters; {} MiB cached)",
                    entry.key.ref(),
                    entry.key.head(),
                    device,
                    (System.nanoTime() - t0) / 1_000_000,
                    bytes >> 20,
                    cachedBytes() >> 20);
            entry.model.complete(model);
        } catch (Throwable e) {
            synchronized (this) {
                entries.remove(entry.key, entry); // the next request tries again
            }
            entry.model.completeExceptionally(e);
        }
    }

    /** Least recently used first, unleased only; the caller closes what is returned. */
    private List<AutoCloseable> evictOverBudget(Entry keep) {
        long budget = budget();
        List<AutoCloseable> out = new ArrayList<>();
        for (Iterator<Entry> it = entries.values().iterator(); it.hasNext() && totalBytes > budget; ) {
            Entry e = it.next();
            if (e == keep || !e.model.isDone()) continue;
            it.remove();
            totalBytes -= e.bytes;
            e.evicted = true;
            if (e.leases == 0) out.add(e.model.join());
            LOG.info(
                    "evicting model '{}' ({} MiB) to stay under the model cache budget of {} MiB",
                    e.key.ref(),
                    e.bytes >> 20,
                    budget >> 20);
        }
        return out;
    }

    private void release(Entry entry) {
        AutoCloseable toClose = null;
        synchronized (this) {
            entry.leases--;
            if (entry.evicted && entry.leases == 0 && entry.model.isDone() && !entry.model.isCompletedExceptionally()) {
                toClose = entry.model.join();
            }
        }
        if (toClose != null) close(toClose);
    }

    /** Closes a model and the pipelines built around it (closing both is safe: managers close once). */
    private void close(AutoCloseable model) {
        Map<Object, Pipeline<?>> built = pipelines.remove(model);
        if (built != null) built.values().forEach(Pipeline::close);
        try {
            model.close();
        } catch (Exception e) {
            LOG.warn("closing a cached model failed: {}", e.toString());
        }
    }

    private static long budget() {
        String prop = System.getProperty("sparkformers.modelCacheBytes");
        if (prop != null) return Long.parseLong(prop.trim());
        SparkEnv env = SparkEnv.get();
        return env == null
                ? DEFAULT_BUDGET
                : env.conf().getSizeAsBytes("spark.sparkformers.modelCacheBytes", Long.toString(DEFAULT_BUDGET));
    }

    /** Bytes of every parameter array: the model's resident size, give or take activations. */
    static long parameterBytes(Block block) {
        long n = 0;
        for (Pair<String, Parameter> p : block.getParameters()) {
            if (p.getValue().isInitialized()) {
                var a = p.getValue().getArray();
                n += a.size() * a.getDataType().getNumOfBytes();
            }
        }
        return n;
    }

    /** tokenizer.json (required) and tokenizer_config.json (BERT uncased defaults when absent). */
    static TextTokenizer loadTokenizer(Path dir, int maxLength) throws IOException {
        Path json = dir.resolve(HfCheckpoint.TOKENIZER);
        if (!Files.isRegularFile(json)) {
            throw new IOException(dir + " has no tokenizer.json; the tokenizer stage needs the fast-tokenizer file "
                    + "(save it with tokenizer.save_pretrained)");
        }
        Path cfgFile = dir.resolve(HfCheckpoint.TOKENIZER_CONFIG);
        TokenizerConfig cfg;
        if (Files.isRegularFile(cfgFile)) {
            cfg = TokenizerConfig.fromJson(Json.readObject(cfgFile));
        } else {
            Path config = dir.resolve(HfCheckpoint.CONFIG);
            int max = Files.isRegularFile(config)
                    ? Json.readObject(config).path("max_position_embeddings").asInt(512)
                    : 512;
            cfg = TokenizerConfig.bertUncased(max);
        }
        return TextTokenizer.load(json, cfg, Math.min(maxLength, cfg.modelMaxLength()));
    }
}
