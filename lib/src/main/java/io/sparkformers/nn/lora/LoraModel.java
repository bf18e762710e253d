package io.sparkformers.nn.lora;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.internal.NDArrayEx;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.AdapterStore;
import io.sparkformers.nn.DerivedWeights;
import io.sparkformers.nn.NativeArrays;
import io.sparkformers.nn.NoGrad;
import io.sparkformers.nn.ParameterNames;
import io.sparkformers.nn.PretrainedModel;
import io.sparkformers.nn.StateDict;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.SafetensorsWriter;
import io.sparkformers.safetensors.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * PEFT's {@code PeftModel} around a LoRA {@code LoraModel}: a pretrained model whose targeted Linear layers compute
 * {@code base(x) + (x A^T B^T) · lora_alpha / r} ({@code / sqrt(r)} with use_rslora), A (r, in) kaiming-uniform as PEFT initialises it, B (out, r) zeros,
 * the base weights frozen. The base blocks are not rewritten: they read each weight through the ParameterStore, and
 * this model's store hands a targeted layer {@code W + B·A·scaling} instead of W — the same product (matrix
 * multiplication distributes), the gradient of A and B flowing through it. Inference derives the merged weights
 * once (dropped when the adapter changes: a training forward or a load), so the blocks' own fused inference copies
 * are derived from them. PEFT's lora_dropout acts on the adapter's input only and cannot pass through a weight: a
 * training forward with lora_dropout &gt; 0 hands the blocks the frozen W instead and adds the adapter's path
 * {@code lora_B(lora_A(dropout(x))) · scaling} to each adapted layer's output, as PEFT's LoRA layer does, through the
 * {@link AdapterStore} hook every one-input child call passes ({@code HfBlock.call}, {@code InferenceLinear}); an
 * adapted layer whose weight was read but whose output did not pass that hook fails the forward, naming it.
 * Inference (dropout off) keeps the merged weights.
 *
 * <p>Names are PEFT's saved names: {@code base_model.model.<module>.lora_A.weight}; the modules_to_save and biases
 * the config trains are saved under {@code base_model.model.<parameter>} ({@code <module>.base_layer.bias} for the
 * bias of an adapted layer), as PEFT 0.21 writes them.
 */
public final class LoraModel extends PretrainedModel implements DerivedWeights {

    public static final String CONFIG_FILE = "adapter_config.json";
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    /** The folder a LoRA fit writes the adapter into, beside the merged plain checkpoint it also writes. */
    public static final String FIT_FOLDER = "adapter";
    /** PEFT's prefix of every saved key: {@code PeftModel.base_model} (the LoraModel) {@code .model} (the HF model). */
    public static final String KEY_PREFIX = "base_model.model.";

    /** Adapted weights stored (in, out) (GPT-2's Conv1D; PEFT's fan_in_fan_out): B·A is added transposed. */
    private final Set<Parameter> fanInFanOut = Collections.newSetFromMap(new IdentityHashMap<>());

    /** One adapted Linear: its module path, its frozen weight, A (r, in) and B (out, r). */
    public record Adapted(String module, Parameter weight, Parameter loraA, Parameter loraB) {}

    private final PretrainedModel base;
    private final LoraConfig config;
    private final List<Adapted> adapted;
    private final Map<Parameter, Adapted> byWeight = new IdentityHashMap<>();
    /** The adapted layers by block (the Linear or Conv1D owning the weight), for the dropout path. */
    private final Map<Block, Adapted> byLayer = new IdentityHashMap<>();
    /** Base parameters trained in full and saved with the adapter (modules_to_save, biases), by base name. */
    private final Map<String, Parameter> savedInFull;

    /** Base parameters whose values the last {@link #loadAdapterWeights} copied from the file, by base name. */
    private final Set<String> loadedInFull = new LinkedHashSet<>();

    private final float scaling;
    /** Inference cache: W + B·A·scaling per adapted weight, derived at the first inference forward. */
    private final Map<Parameter, NDArray> merged = new IdentityHashMap<>();

    private LoraModel(PretrainedModel base, LoraConfig config) {
        this.base = base;
        this.config = config;
        this.scaling = (float) config.scaling();
        Map<String, ParameterNames.Entry> params = ParameterNames.of(base);
        if (params.isEmpty() || !params.values().iterator().next().parameter().isInitialized()) {
            throw new IllegalStateException("wrap an initialised model (load its weights first)");
        }
        NDManager manager =
                params.values().iterator().next().parameter().getArray().getManager();
        Map<String, Parameter> linearWeights = new LinkedHashMap<>();
        Map<String, Block> owners = new LinkedHashMap<>();
        Set<String> modules = new LinkedHashSet<>();
        for (ParameterNames.Entry e : params.values()) {
            String name = e.name();
            int dot = name.lastIndexOf('.');
            String module = dot < 0 ? "" : name.substring(0, dot);
            for (int i = module.indexOf('.'); i >= 0; i = module.indexOf('.', i + 1))
                modules.add(module.substring(0, i));
            modules.add(module);
            if (e.owner() instanceof Linear && name.endsWith(".weight")) {
                linearWeights.put(module, e.parameter());
                owners.put(module, e.owner());
            }
            if (e.owner() instanceof io.sparkformers.nn.gpt2.Conv1D && name.endsWith(".weight")) {
                linearWeights.put(module, e.parameter()); // GPT-2's Conv1D: weight (in, out), PEFT fan_in_fan_out
                owners.put(module, e.owner());
                fanInFanOut.add(e.parameter());
            }
        }
        List<Adapted> layers = new ArrayList<>();
        for (String module : modules) {
            if (module.isEmpty() || !config.targets(module) || config.insideSaved(module)) continue;
            Parameter w = linearWeights.get(module);
            if (w == null) {
                throw new IllegalArgumentException(
                        "target module '" + module + "' (matched by target_modules " + config.targetsDescription()
                                + ") is not a Linear layer: LoRA adapts Linear (and GPT-2 Conv1D) layers only");
            }
            boolean conv = fanInFanOut.contains(w);
            long out = w.getShape().get(conv ? 1 : 0);
            long in = w.getShape().get(conv ? 0 : 1);
            // PEFT: nn.init.kaiming_uniform_(lora_A, a=sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)); lora_B zeros
            float bound = (float) (1.0 / Math.sqrt(in));
            Parameter a = newParameter(
                    KEY_PREFIX + module + ".lora_A.weight",
                    manager.randomUniform(-bound, bound, new Shape(config.r(), in), DataType.FLOAT32));
            Parameter b = newParameter(
                    KEY_PREFIX + module + ".lora_B.weight",
                    manager.zeros(new Shape(out, config.r()), DataType.FLOAT32));
            Adapted l = new Adapted(module, w, a, b);
            layers.add(l);
            byWeight.put(w, l);
            byLayer.put(owners.get(module), l);
        }
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("Target modules " + config.targetsDescription() + " not found in the "
                    + "base model (" + base.getClass().getSimpleName() + "). Please check the target modules and "
                    + "try again.");
        }
        this.adapted = Collections.unmodifiableList(layers);
        Map<String, Parameter> full = new LinkedHashMap<>();
        for (ParameterNames.Entry e : params.values()) {
            String name = e.name();
            String module = name.substring(0, Math.max(0, name.lastIndexOf('.')));
            boolean isBias = name.endsWith(".bias");
            boolean save = config.insideSaved(module)
                    || (isBias && config.bias() == LoraConfig.Bias.ALL)
                    || (isBias
                            && config.bias() == LoraConfig.Bias.LORA_ONLY
                            && linearWeights.containsKey(module)
                            && byWeight.containsKey(linearWeights.get(module)));
            if (save) full.put(name, e.parameter());
        }
        this.savedInFull = Collections.unmodifiableMap(full);
    }

    private Parameter newParameter(String name, NDArray value) {
        Parameter p =
                Parameter.builder().setName(name).setType(Parameter.Type.WEIGHT).build();
        p.setArray(value);
        return addParameter(p);
    }

    /**
     * PEFT's {@code get_peft_model(base, config)}: wraps an initialised model (its weights loaded), adding a fresh
     * adapter (A random, B zeros: the wrapped model computes what the base does). The base's parameters are not
     * frozen here; the Trainer freezes what {@link #trainableNames()} leaves out.
     *
     * @throws IllegalArgumentException when no module matches the targets, or a match is not a Linear layer
     */
    public static LoraModel wrap(PretrainedModel base, LoraConfig config) {
        return new LoraModel(base, config);
    }

    /**
     * PEFT's {@code PeftModel.from_pretrained(base, dir)}: wraps {@code base} with the adapter folder's config and
     * copies its weights in (lora_A/lora_B, and modules_to_save and biases into the base's own parameters). Every
     * key must find its parameter with the same shape, and every adapted layer must be in the file.
     */
    public static LoraModel load(PretrainedModel base, Path adapterDir) throws IOException {
        LoraModel m = wrap(base, LoraConfig.read(adapterDir));
        m.loadAdapterWeights(adapterDir);
        return m;
    }

    /** Copies an adapter file's tensors into this model (same config). */
    public void loadAdapterWeights(Path adapterDir) throws IOException {
        Path file = Files.isDirectory(adapterDir) ? adapterDir.resolve(WEIGHTS_FILE) : adapterDir;
        if (!Files.isRegularFile(file)) throw new IOException(adapterDir + " holds no " + WEIGHTS_FILE);
        Map<String, Parameter> own = new LinkedHashMap<>();
        for (Adapted l : adapted) {
            own.put(l.loraA().getName(), l.loraA());
            own.put(l.loraB().getName(), l.loraB());
        }
        for (Map.Entry<String, Parameter> e : savedInFull.entrySet()) own.put(savedKey(e.getKey()), e.getValue());
        Map<Parameter, Tensor> toCopy = new IdentityHashMap<>();
        List<String> problems = new ArrayList<>();
        try (SafetensorsCheckpoint w = SafetensorsCheckpoint.open(file)) { // tensors may map the file: copy inside
            for (Map.Entry<String, Tensor> e : w.readAll().entrySet()) {
                // PEFT with bias "all" also writes a saved module's wrapper copies: the trained one is the module's
                if (e.getKey().contains(".original_module.")) continue;
                Parameter p = own.get(e.getKey().replace(".modules_to_save.", "."));
                if (p == null) {
                    problems.add("unexpected key " + e.getKey());
                } else {
                    toCopy.put(p, e.getValue());
                }
            }
            check(file, own, toCopy, problems);
            copy(toCopy);
            loadedInFull.clear();
            savedInFull.forEach((name, p) -> {
                if (toCopy.containsKey(p)) loadedInFull.add(name);
            });
        }
        weightsChanged();
    }

    private static void check(
            Path file, Map<String, Parameter> own, Map<Parameter, Tensor> toCopy, List<String> problems) {
        for (Map.Entry<String, Parameter> e : own.entrySet()) {
            Parameter p = e.getValue();
            Tensor t = toCopy.get(p);
            boolean adapterKey =
                    e.getKey().endsWith(".lora_A.weight") || e.getKey().endsWith(".lora_B.weight");
            if (t == null) {
                if (adapterKey) problems.add("missing key " + e.getKey()); // a saved module may be absent: kept
            } else if (!Arrays.equals(t.shape(), p.getShape().getShape())) {
                problems.add(e.getKey() + ": file " + Arrays.toString(t.shape()) + " vs model "
                        + Arrays.toString(p.getShape().getShape()) + " (r or the base differs)");
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(
                    file + " does not fit this base and config: " + String.join("; ", problems));
        }
    }

    private static void copy(Map<Parameter, Tensor> toCopy) {
        try (NoGrad g = NoGrad.enter()) {
            toCopy.forEach((p, t) -> {
                ByteBuffer direct = ByteBuffer.allocateDirect(Math.toIntExact(t.numel() * 4))
                        .order(ByteOrder.nativeOrder());
                direct.asFloatBuffer().put(t.toFloatArray());
                NativeArrays.copyInto(p.getArray(), direct);
            });
        }
    }

    /**
     * PEFT's {@code save_pretrained(dir)}: {@code adapter_config.json} and {@code adapter_model.safetensors}
     * (metadata {@code format: pt}) holding lora_A/lora_B of every adapted layer and the parameters trained in full.
     */
    public void saveAdapter(Path dir) throws IOException {
        Files.createDirectories(dir);
        ObjectNode json = config.toJson();
        json.put("fan_in_fan_out", !fanInFanOut.isEmpty()); // as PEFT sets it on meeting a Conv1D
        Json.write(dir.resolve(CONFIG_FILE), json);
        SafetensorsWriter.write(dir.resolve(WEIGHTS_FILE), adapterState(), Map.of("format", "pt"));
    }

    /** The tensors {@link #saveAdapter} writes, by PEFT key. */
    public Map<String, Tensor> adapterState() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, ParameterNames.Entry> e : ParameterNames.of(this).entrySet()) {
            out.put(e.getKey(), tensor(e.getValue().parameter().getArray()));
        }
        Map<String, Tensor> baseState = StateDict.of(base);
        for (String name : savedInFull.keySet()) out.put(savedKey(name), baseState.get(name));
        return out;
    }

    /**
     * The base's state dict with every adapted weight replaced by W + B·A·scaling: what {@link #mergeAndUnload}
     * would leave, without changing this model (a checkpoint written mid-training).
     */
    public Map<String, Tensor> mergedState() {
        Map<Parameter, String> names = new IdentityHashMap<>();
        ParameterNames.of(base).forEach((name, e) -> names.put(e.parameter(), name));
        Map<String, Tensor> out = StateDict.of(base);
        try (NoGrad g = NoGrad.enter()) {
            for (Adapted l : adapted) {
                NDArray w = l.weight().getArray();
                try (NDManager scratch = w.getManager().newSubManager()) {
                    NDArray m = w.add(delta(l, scratch));
                    m.attach(scratch);
                    out.put(names.get(l.weight()), tensor(m));
                }
            }
        }
        return out;
    }

    /**
     * The adapter-file key of a base parameter trained in full: {@code base_model.model.<name>}, where PEFT names a
     * bias of an adapted layer after the wrapped layer it sits in ({@code query.base_layer.bias}).
     */
    private String savedKey(String baseName) {
        int dot = baseName.lastIndexOf('.');
        String module = dot < 0 ? "" : baseName.substring(0, dot);
        boolean adaptedModule = adapted.stream().anyMatch(l -> l.module().equals(module));
        return KEY_PREFIX + (adaptedModule ? module + ".base_layer" + baseName.substring(dot) : baseName);
    }

    private static Tensor tensor(NDArray a) {
        return Tensor.ofFloats(a.toFloatArray(), a.getShape().getShape());
    }

    /**
     * PEFT's {@code merge_and_unload()}: W += B·A·scaling in every adapted layer, in place, and returns the base
     * model, now a plain model that computes what this one did (save it with {@code StateDict.of} or
     * {@code HfModel.savePretrained}). This wrapper must not be used afterwards.
     */
    public PretrainedModel mergeAndUnload() {
        try (NoGrad g = NoGrad.enter()) {
            for (Adapted l : adapted) {
                NDArray w = l.weight().getArray();
                try (NDManager scratch = w.getManager().newSubManager()) {
                    NDArray delta = delta(l, scratch);
                    w.addi(delta);
                }
            }
        }
        weightsChanged();
        DerivedWeights.changed(base);
        return base;
    }

    /** B·A·scaling (out, in) of one layer, its temporaries attached to {@code scope}. */
    private NDArray delta(Adapted l, NDManager scope) {
        NDArray ba = l.loraB().getArray().matMul(l.loraA().getArray()); // (out, r) · (r, in) -> (out, in)
        ba.attach(scope);
        if (fanInFanOut.contains(l.weight())) {
            ba = ba.transpose(); // a Conv1D weight is (in, out)
            ba.attach(scope);
        }
        NDArray scaled = NativeArrays.mul(ba, scaling);
        scaled.attach(scope);
        return scaled;
    }

    public PretrainedModel base() {
        return base;
    }

    public LoraConfig config() {
        return config;
    }

    public List<Adapted> adapted() {
        return adapted;
    }

    /** The adapter's own parameters (lora_A, lora_B of each layer) by PEFT key. */
    public Map<String, Parameter> adapterParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        for (Adapted l : adapted) {
            out.put(l.loraA().getName(), l.loraA());
            out.put(l.loraB().getName(), l.loraB());
        }
        return out;
    }

    /**
     * The base parameters the last {@link #load}/{@link #loadAdapterWeights} set from the adapter file (a head the base
     * lacks, carried as modules_to_save, is no longer freshly initialised after it), by base name.
     */
    public Set<String> loadedInFull() {
        return Collections.unmodifiableSet(loadedInFull);
    }

    /** The base's parameters trained in full with the adapter (modules_to_save, biases per config), by base name. */
    public Map<String, Parameter> savedInFull() {
        return savedInFull;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        if (training) weightsChanged();
        AdaptedStore store = new AdaptedStore(ps, training);
        NDList out = base.forward(store, inputs, training, params);
        if (!store.unadapted.isEmpty()) {
            throw new IllegalStateException("lora_dropout " + config.loraDropout() + ": the layers "
                    + store.unadapted.stream().map(Adapted::module).toList() + " of "
                    + base.getClass().getSimpleName() + " were called without the adapter hook (AdapterStore), so "
                    + "their adapter would be left out; train with lora_dropout 0 (the adapter then acts through "
                    + "the weight)");
        }
        return out;
    }

    /**
     * Hands the base's blocks W + B·A·scaling for adapted weights and every other parameter unchanged; in a training
     * forward with lora_dropout &gt; 0, W itself, and adds the adapter's path on the dropped-out input to the adapted
     * layers' outputs instead.
     */
    private final class AdaptedStore extends ParameterStore implements AdapterStore {
        private final ParameterStore inner;
        private final boolean training;
        /** Whether the adapter runs beside the layer on dropout(x) rather than through the weight. */
        private final boolean inputPath;

        private final float dropout;
        private final Map<Parameter, NDArray> thisForward = new IdentityHashMap<>();
        private final Map<Parameter, NDArray> thisForwardNoGraph = new IdentityHashMap<>();
        /** Adapted layers whose weight was read and whose output has not yet passed {@link #addAdapter}. */
        private final Set<Adapted> unadapted = Collections.newSetFromMap(new IdentityHashMap<>());

        AdaptedStore(ParameterStore inner, boolean training) {
            super(inner.getManager(), false);
            this.inner = inner;
            this.training = training;
            this.dropout = (float) config.loraDropout();
            this.inputPath = training && dropout > 0;
        }

        @Override
        public NDArray getValue(Parameter parameter, Device device, boolean train) {
            Adapted l = byWeight.get(parameter);
            if (l == null) return inner.getValue(parameter, device, train);
            if (inputPath) {
                unadapted.add(l);
                return inner.getValue(parameter, device, train);
            }
            if (!training) return mergedWeight(l);
            // gradient checkpointing runs a layer once without a graph, then again with one: one weight for each
            return (NoGrad.isGradMode() ? thisForward : thisForwardNoGraph)
                    .computeIfAbsent(parameter, p -> withGraph(l));
        }

        /** PEFT's LoRA layer: {@code y + lora_B(lora_A(dropout(x))) · scaling}, autograd recording A and B. */
        @Override
        public NDArray addAdapter(Block layer, NDArray x, NDArray y, boolean train) {
            if (!inputPath) return y;
            Adapted l = byLayer.get(layer);
            if (l == null) return y;
            unadapted.remove(l);
            NDArrayEx ex = x.getNDArrayInternal();
            NDArray in = train ? ex.dropout(x, dropout, true).head() : x; // (..., in)
            NDArray h = ex.linear(in, l.loraA().getArray(), null).head(); // (..., in) -> (..., r)
            NDArray d = ex.linear(h, l.loraB().getArray(), null).head(); // (..., r) -> (..., out)
            return y.add(NativeArrays.mul(d, scaling));
        }

        /** W + B·A·scaling, recorded by autograd in grad mode, living as long as this forward's scope. */
        private NDArray withGraph(Adapted l) {
            NDManager scope = getManager();
            NDArray w = l.weight().getArray().add(delta(l, scope)); // (out, in)
            w.attach(scope);
            return w;
        }
    }

    private synchronized NDArray mergedWeight(Adapted l) {
        NDArray w = merged.get(l.weight());
        if (w != null) return w;
        NDArray base = l.weight().getArray();
        try (NoGrad g = NoGrad.enter();
                NDManager scratch = base.getManager().newSubManager()) {
            w = base.add(delta(l, scratch));
            w.attach(base.getManager());
        }
        merged.put(l.weight(), w);
        return w;
    }

    @Override
    public synchronized void weightsChanged() {
        merged.values().forEach(NDArray::close);
        merged.clear();
        DerivedWeights.changed(base);
    }

    @Override
    public String baseModelPrefix() {
        return base.baseModelPrefix();
    }

    @Override
    public boolean isBaseModel() {
        return base.isBaseModel();
    }

    @Override
    public ObjectNode configJson() {
        return base.configJson();
    }

    @Override
    public double initializerRange() {
        return base.initializerRange();
    }

    @Override
    protected int numInputs() {
        throw new UnsupportedOperationException("a LoraModel wraps an initialised model; initialise the base");
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return base.getOutputShapes(inputShapes);
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {}
}
