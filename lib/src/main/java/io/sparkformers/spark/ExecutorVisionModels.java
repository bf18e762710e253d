package io.sparkformers.spark;

import ai.djl.Device;
import io.sparkformers.nn.StateDict;
import io.sparkformers.nn.vision.VisionModels;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The image models of one executor JVM, as {@link ExecutorModels} for text: one loaded
 * {@link VisionModels.Loaded} per (model reference, head, device), shared by every task thread (inference only reads
 * the weights; each batch runs in its own sub-manager). The first request loads, concurrent ones wait for it. Image
 * models are small next to the text encoders, so there is no eviction: {@link #clear} (tests) or JVM shutdown
 * closes them.
 */
public final class ExecutorVisionModels {
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorVisionModels.class);

    private record Key(String ref, boolean classification, String device) {}

    private static final Map<Key, VisionModels.Loaded> MODELS = new ConcurrentHashMap<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorVisionModels::clear, "sparkformers-vision-shutdown"));
    }

    private ExecutorVisionModels() {}

    /** The loaded model of a reference (classification: with its head), loading it once per JVM. */
    public static VisionModels.Loaded model(String ref, boolean classification, Device device) throws IOException {
        Key key = new Key(ref, classification, device.toString());
        VisionModels.Loaded m = MODELS.get(key);
        if (m != null) return m;
        synchronized (MODELS) {
            m = MODELS.get(key);
            if (m == null) {
                long t0 = System.nanoTime();
                Devices.configureThreads();
                Path dir = ModelRefs.localFolder(ref);
                m = VisionModels.fromPretrained(dir, classification, device, StateDict.Options.HF);
                MODELS.put(key, m);
                LOG.info("loaded image model '{}' on {} in {} ms", ref, device, (System.nanoTime() - t0) / 1_000_000);
            }
            return m;
        }
    }

    /** Closes every model (tests; shutdown). Only call when no task is scoring. */
    public static void clear() {
        List<VisionModels.Loaded> all;
        synchronized (MODELS) {
            all = new ArrayList<>(MODELS.values());
            MODELS.clear();
        }
        all.forEach(VisionModels.Loaded::close);
    }
}
