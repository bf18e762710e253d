package io.sparkformers.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import io.sparkformers.safetensors.DType;
import io.sparkformers.safetensors.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Weights in and out by HF name, like {@code model.load_state_dict} inside {@code from_pretrained} and
 * {@code model.state_dict()} inside {@code save_pretrained}. Names come from {@link ParameterNames}.
 *
 * <p>Key handling, in order (one table, nothing else is renamed):
 * <ol>
 *   <li>TF-era LayerNorm names: {@code LayerNorm.gamma} → {@code LayerNorm.weight}, {@code .beta} → {@code .bias};</li>
 *   <li>base model prefix: a base checkpoint ({@code embeddings.…}) loads into a head ({@code bert.embeddings.…})
 *       and a head checkpoint into a base model (its head keys become unexpected), as HF does;</li>
 *   <li>{@link PretrainedModel#checkpointAliases()} (e.g. {@code cls.predictions.decoder.bias});</li>
 *   <li>{@link PretrainedModel#ignoredOnLoad()}: skipped and listed as ignored.</li>
 * </ol>
 */
public final class StateDict {

    /**
     * @param strict                fail on any missing, unexpected or mismatched key (PyTorch {@code strict=True})
     * @param ignoreMismatchedSizes keep the fresh initialisation for size mismatches instead of failing (HF option)
     */
    public record Options(boolean strict, boolean ignoreMismatchedSizes) {
        /** HF {@code from_pretrained} defaults: missing keys initialised, unexpected keys reported, mismatch fails. */
        public static final Options HF = new Options(false, false);

        public static final Options STRICT = new Options(true, false);
    }

    private StateDict() {}

    /** Loads with HF {@code from_pretrained} defaults ({@link Options#HF}). */
    public static LoadReport load(PretrainedModel model, Map<String, Tensor> checkpoint) {
        return load(model, checkpoint, Options.HF);
    }

    /**
     * Copies checkpoint tensors into the (initialised) model's parameters. Disagreements are gathered first and
     * reported together; nothing is written when the load fails. F16/BF16/F64 are converted to float32.
     *
     * @throws WeightLoadException on a size mismatch (unless tolerated) or, when strict, on any disagreement
     */
    public static LoadReport load(PretrainedModel model, Map<String, Tensor> checkpoint, Options options) {
        Map<String, ParameterNames.Entry> params = ParameterNames.of(model);
        Map<String, Tensor> renamed = renameKeys(model, params, checkpoint);

        List<String> ignored = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        List<String> newlyInitialized = new ArrayList<>();
        Map<Parameter, Tensor> toCopy = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : renamed.entrySet()) {
            String key = e.getKey();
            ParameterNames.Entry target = params.get(key);
            if (target == null) {
                (matchesAny(model.ignoredOnLoad(), key) ? ignored : unexpected).add(key);
                continue;
            }
            Tensor t = e.getValue();
            Shape want = target.parameter().getShape();
            boolean intBuffer = isInt64(target.parameter());
            if (!Arrays.equals(want.getShape(), t.shape()) || t.dtype().isFloatingPoint() == intBuffer) {
                mismatched.add(key + ": checkpoint " + t.dtype() + Arrays.toString(t.shape()) + " vs model "
                        + (intBuffer ? "I64" : "F32") + Arrays.toString(want.getShape()));
                if (options.ignoreMismatchedSizes()) newlyInitialized.add(key);
                continue;
            }
            toCopy.put(target.parameter(), t);
        }
        for (String name : params.keySet()) {
            if (!renamed.containsKey(name)) {
                missing.add(name);
                newlyInitialized.add(name);
            }
        }
        LoadReport report = new LoadReport(missing, unexpected, mismatched, newlyInitialized, ignored);
        boolean fail = options.strict() ? !report.isExact() : !mismatched.isEmpty() && !options.ignoreMismatchedSizes();
        if (fail) throw new WeightLoadException(model.getClass().getSimpleName(), report);

        try (NoGrad g = NoGrad.enter()) { // in-place writes into leaves that require grad
            toCopy.forEach((p, t) -> copyInto(p.getArray(), t));
        }
        DerivedWeights.changed(model);
        return report;
    }

    /**
     * A check for {@link PretrainedModel#initialize(NDManager, java.util.function.BiConsumer)}: a parameter whose shape
     * (from config.json) differs from the same tensor's shape in the safetensors header fails before it is allocated,
     * naming the tensor, both shapes, the config keys that hold the differing size, and the fix.
     *
     * @param config the config.json the model was built from, for the message
     */
    public static java.util.function.BiConsumer<String, Shape> shapeCheck(
            PretrainedModel model,
            io.sparkformers.safetensors.SafetensorsCheckpoint weights,
            java.nio.file.Path config) {
        Map<String, String> original = new LinkedHashMap<>();
        for (String name : weights.names()) original.put(name, name);
        Map<String, String> byModelName = renameKeys(model, ParameterNames.of(model), original);
        com.fasterxml.jackson.databind.node.ObjectNode json = model.configJson();
        return (name, shape) -> {
            String key = byModelName.get(name);
            if (key == null) return;
            long[] file;
            try {
                file = weights.info(key).shape();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            long[] want = shape.getShape();
            if (Arrays.equals(want, file)) return;
            String says = "";
            for (int i = 0; i < Math.min(want.length, file.length) && says.isEmpty(); i++) {
                if (want[i] == file[i]) continue;
                List<String> keys = new ArrayList<>();
                for (var f : (Iterable<Map.Entry<String, com.fasterxml.jackson.databind.JsonNode>>) json::fields) {
                    if (f.getValue().isIntegralNumber() && f.getValue().asLong() == want[i]) keys.add(f.getKey());
                }
                if (!keys.isEmpty()) says = String.join(" / ", keys) + " " + want[i] + " but ";
            }
            String fileName;
            try {
                fileName = weights.fileOf(key).getFileName().toString();
            } catch (IOException e) {
                fileName = weights.path().getFileName().toString();
            }
            throw new IllegalArgumentException(config + " does not match the weights: "
                    + (says.isEmpty() ? "" : "config.json says " + says) + fileName + " holds " + key + " of shape "
                    + tuple(file) + " (the config makes it "
                    + tuple(want) + "). Use the config.json saved with these weights (save_pretrained writes both)");
        };
    }

    /**
     * A check for {@link PretrainedModel#initialize(NDManager, java.util.function.BiConsumer)} that adds up the
     * float32 bytes of the parameters allocated so far and refuses the one that would pass {@code limitBytes}: a
     * config.json asking for more than the machine holds fails with one line, not with the allocator.
     */
    public static java.util.function.BiConsumer<String, Shape> sizeLimit(java.nio.file.Path config, long limitBytes) {
        long[] total = {0};
        return (name, shape) -> {
            long bytes = shape.size() * Float.BYTES;
            total[0] = bytes < 0 || total[0] + bytes < 0 ? Long.MAX_VALUE : total[0] + bytes;
            if (total[0] > limitBytes) {
                throw new IllegalArgumentException(config + " makes a model of more than " + gib(total[0])
                        + " GiB of float32 parameters (reached at " + name + " of shape " + tuple(shape.getShape())
                        + "), more than this machine's " + gib(limitBytes) + " GiB of physical memory: check the "
                        + "sizes in config.json (vocab_size, hidden_size, intermediate_size, num_hidden_layers, "
                        + "num_labels)");
            }
        };
    }

    /** This machine's physical memory in bytes (the OS's figure: parameters live in native memory, not the heap). */
    public static long physicalMemory() {
        var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getTotalMemorySize() : Long.MAX_VALUE;
    }

    private static String gib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f", bytes / (double) (1L << 30));
    }

    /** A shape as PyTorch prints it: (30522, 384). */
    private static String tuple(long[] shape) {
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) b.append(i == 0 ? "" : ", ").append(shape[i]);
        return b.append(shape.length == 1 ? ",)" : ")").toString();
    }

    /** Checkpoint keys renamed into model names: gamma/beta, base model prefix, then the model's aliases. */
    private static <T> Map<String, T> renameKeys(
            PretrainedModel model, Map<String, ParameterNames.Entry> params, Map<String, T> checkpoint) {
        String prefix = model.baseModelPrefix() + ".";
        boolean ckptHasPrefix = checkpoint.keySet().stream().anyMatch(k -> k.startsWith(prefix));
        boolean modelHasPrefix = params.keySet().stream().anyMatch(k -> k.startsWith(prefix));
        Map<String, String> aliases = model.checkpointAliases();
        Map<String, T> out = new LinkedHashMap<>();
        for (Map.Entry<String, T> e : checkpoint.entrySet()) {
            String k = e.getKey();
            if (k.endsWith("LayerNorm.gamma")) k = k.substring(0, k.length() - 5) + "weight";
            if (k.endsWith("LayerNorm.beta")) k = k.substring(0, k.length() - 4) + "bias";
            if (modelHasPrefix && !ckptHasPrefix) {
                k = prefix + k; // base checkpoint into a head
            } else if (!modelHasPrefix && ckptHasPrefix && k.startsWith(prefix)) {
                k = k.substring(prefix.length()); // head checkpoint into the base model
            }
            String alias = aliases.get(k);
            if (alias != null) {
                if (checkpoint.containsKey(alias) || out.containsKey(alias)) continue; // same tensor twice
                k = alias;
            }
            out.put(k, e.getValue());
        }
        return out;
    }

    private static boolean matchesAny(List<Pattern> patterns, String key) {
        return patterns.stream().anyMatch(p -> p.matcher(key).matches());
    }

    /** Integer buffers (torchvision's {@code num_batches_tracked}) are int64 parameters that never take gradients. */
    private static boolean isInt64(Parameter p) {
        return p.isInitialized() && p.getArray().getDataType() == DataType.INT64;
    }

    /**
     * Writes {@code t} into {@code target} (float32, or int64 for integer buffers; same shape) in place: the
     * parameter keeps the storage libtorch allocated for it and never aliases the checkpoint or a JVM buffer
     * ({@link NativeArrays}), as in the run that saved it.
     */
    private static void copyInto(NDArray target, Tensor t) {
        if (target.getDataType() == DataType.INT64) {
            ByteBuffer longs =
                    ByteBuffer.allocateDirect(Math.toIntExact(t.numel() * 8)).order(ByteOrder.nativeOrder());
            longs.asLongBuffer().put(t.toLongArray());
            NativeArrays.copyInto(target, longs);
            return;
        }
        if (t.dtype() == DType.F32 && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            NativeArrays.copyInto(target, t.data()); // straight from the (memory-mapped) checkpoint bytes
            return;
        }
        ByteBuffer direct =
                ByteBuffer.allocateDirect(Math.toIntExact(t.numel() * 4)).order(ByteOrder.nativeOrder());
        direct.asFloatBuffer().put(t.toFloatArray());
        NativeArrays.copyInto(target, direct);
    }

    /**
     * The model's weights by HF name as float32 tensors, int64 buffers as int64 ({@code state_dict()}): tied
     * weights appear once, under their owner's name, as in HF's safetensors files. The tensors own copies of the values.
     */
    public static Map<String, Tensor> of(PretrainedModel model) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (ParameterNames.Entry e : ParameterNames.of(model).values()) {
            NDArray a = e.parameter().getArray();
            if (a.getDataType() == DataType.INT64) {
                out.put(e.name(), Tensor.ofLongs(a.toLongArray(), a.getShape().getShape()));
                continue;
            }
            if (a.getDataType() != DataType.FLOAT32) {
                throw new IllegalStateException(e.name() + " is " + a.getDataType() + "; state dicts are float32");
            }
            ByteBuffer bytes = a.toByteBuffer();
            ByteBuffer copy = ByteBuffer.allocate(bytes.remaining()).order(ByteOrder.LITTLE_ENDIAN);
            copy.asFloatBuffer().put(bytes.order(ByteOrder.nativeOrder()).asFloatBuffer());
            out.put(e.name(), new Tensor(DType.F32, a.getShape().getShape(), copy));
        }
        return out;
    }
}
