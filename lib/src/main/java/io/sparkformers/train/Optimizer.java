package io.sparkformers.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.sparkformers.nn.NativeArrays;
import io.sparkformers.safetensors.DType;
import io.sparkformers.safetensors.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Base of our torch-equivalent optimizers: parameter groups, a learning-rate multiplier set from an
 * {@link LrSchedule}, per-parameter state in an {@link NDManager} the optimizer owns and frees on {@link #close()}
 * (DJL's own optimizers never free theirs), and state export/import as named tensors for
 * {@code optimizer.safetensors}, exact to the bit.
 *
 * <p>Parameters are identified by name, not by Block, so the same optimizer serves a model replica of any shape.
 * Not thread-safe; one optimizer per training loop.
 */
public abstract class Optimizer implements AutoCloseable {

    private final List<ParamGroup> groups;
    private final Map<String, ParamGroup> groupOfParam = new HashMap<>();
    private final NDManager stateManager;
    /** Per parameter name, per slot name ("exp_avg", …): the state tensor, on the parameter's device. */
    private final Map<String, Map<String, NDArray>> state = new TreeMap<>();
    /** Per parameter name: updates applied so far (torch's {@code state['step']}), for optimizers that count. */
    private final Map<String, Long> steps = new TreeMap<>();

    private double lrMultiplier = 1.0;
    private boolean closed;

    protected Optimizer(List<ParamGroup> groups) {
        if (groups.isEmpty()) throw new IllegalArgumentException("an optimizer needs at least one parameter group");
        this.groups = List.copyOf(groups);
        this.stateManager = NDManager.newBaseManager(Device.cpu());
        stateManager.setName(getClass().getSimpleName() + "-state");
    }

    /** The state slots this optimizer keeps per parameter, in export order. */
    protected abstract List<String> slotNames();

    /** Whether this optimizer keeps a per-parameter step count (exported as {@code <param>.step}). */
    protected abstract boolean countsSteps();

    /**
     * Updates one parameter in place. Runs with grad mode off.
     *
     * @param lr          the group's base lr times the current multiplier
     * @param weightDecay the group's weight decay
     */
    protected abstract void update(String name, NDArray param, NDArray grad, double lr, double weightDecay);

    /**
     * Sets the factor applied to every group's base learning rate, as torch's LambdaLR does before each step.
     * Use {@code setLrMultiplier(schedule.multiplier(k))} before optimizer step k (0-based).
     */
    public void setLrMultiplier(double multiplier) {
        if (!(multiplier >= 0)) throw new IllegalArgumentException("lr multiplier must be >= 0 but was " + multiplier);
        this.lrMultiplier = multiplier;
    }

    public double lrMultiplier() {
        return lrMultiplier;
    }

    /** The learning rate the next step applies to {@code paramName}: its group's base lr times the multiplier. */
    public double lr(String paramName) {
        return groupOf(paramName).lr() * lrMultiplier;
    }

    public List<ParamGroup> groups() {
        return groups;
    }

    /** Applies one update to every parameter that has a gradient; parameters without one are left untouched. */
    public void step(List<ParamRef> params) {
        ensureOpen();
        try (Autograd.AutoCloseableNoThrow noGrad = Autograd.noGrad()) {
            for (ParamRef p : params) {
                try (NDArray grad = Autograd.gradientOf(p.value())) {
                    if (grad == null) continue;
                    ParamGroup g = groupOf(p.name());
                    if (p.value().getDataType() != DataType.FLOAT32) {
                        throw new IllegalArgumentException("parameter " + p.name() + " is "
                                + p.value().getDataType() + "; the optimizers update float32 parameters only");
                    }
                    update(p.name(), p.value(), grad, g.lr() * lrMultiplier, g.weightDecay());
                }
            }
        }
    }

    /** Whether {@link #stepShares} can update parts of these parameters (the fused CPU AdamW can). */
    public boolean updatesShares(List<ParamRef> params) {
        return false;
    }

    /**
     * One step of a sharded update ({@link DataParallel#reduceScatterUpdate}): of every parameter not at
     * {@code whole}, only this rank's {@code shares} (indices into {@code params}) are updated, from the shares'
     * gradient sums times {@code gradScale} (the clipping coefficient, 1 without); the parameters at {@code whole}
     * are left to {@link #step}. Every parameter's step count advances once and its state exists whole, so once the
     * ranks' shares of the state are gathered ({@link DataParallel#allGatherShares}) it is the state of an unsharded
     * run. Needs {@link #updatesShares}.
     */
    public void stepShares(List<ParamRef> params, List<DataParallel.Share> shares, BitSet whole, float gradScale) {
        ensureOpen();
        if (!updatesShares(params)) {
            throw new IllegalStateException(getClass().getSimpleName() + " cannot update parts of these parameters");
        }
        List<List<DataParallel.Share>> byParam = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) byParam.add(new ArrayList<>());
        for (DataParallel.Share s : shares) byParam.get(s.index()).add(s);
        try (Autograd.AutoCloseableNoThrow noGrad = Autograd.noGrad()) {
            for (int i = 0; i < params.size(); i++) {
                if (whole.get(i)) continue;
                ParamRef p = params.get(i);
                ParamGroup g = groupOf(p.name());
                updateShares(p.name(), p.value(), byParam.get(i), g.lr() * lrMultiplier, g.weightDecay(), gradScale);
            }
        }
    }

    /**
     * Updates the elements of {@code shares} of one parameter (see {@link #stepShares}); advances its step count once
     * even when {@code shares} is empty.
     */
    protected void updateShares(
            String name,
            NDArray param,
            List<DataParallel.Share> shares,
            double lr,
            double weightDecay,
            float gradScale) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " updates whole parameters only");
    }

    /**
     * Zeroes the accumulated gradients; DJL's GradientCollector adds to them on every backward pass. Unlike torch's
     * default {@code zero_grad(set_to_none=True)} the zeroed gradient still exists, so a parameter that takes no part
     * in the next backward pass still gets an update from a zero gradient (weight decay and momentum move it).
     */
    public static void zeroGrad(List<ParamRef> params) {
        for (ParamRef p : params) Autograd.zeroGrad(p.value());
    }

    /** Updates applied so far to {@code paramName} (0 before the first). */
    public long stepCount(String paramName) {
        return steps.getOrDefault(paramName, 0L);
    }

    /**
     * The optimizer state as named tensors: {@code <param>.<slot>} (float32, the parameter's shape) and, for
     * optimizers that count, {@code <param>.step} (int64 scalar). Host copies; the live state is untouched.
     */
    public Map<String, Tensor> stateDict() {
        ensureOpen();
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Map<String, NDArray>> e : state.entrySet()) {
            for (String slot : slotNames()) {
                NDArray a = e.getValue().get(slot);
                if (a != null)
                    out.put(
                            e.getKey() + "." + slot,
                            Tensor.ofFloats(a.toFloatArray(), a.getShape().getShape()));
            }
        }
        if (countsSteps()) {
            for (Map.Entry<String, Long> e : steps.entrySet()) {
                out.put(e.getKey() + ".step", Tensor.ofLongs(new long[] {e.getValue()}));
            }
        }
        return out;
    }

    /**
     * Replaces the state with {@code dict} (as written by {@link #stateDict()}), placing the tensors on
     * {@code device} in memory libtorch allocated, as the run that saved it had them ({@link NativeArrays}). Every
     * key must name a slot this optimizer keeps; nothing changes if one does not.
     */
    public void loadStateDict(Map<String, Tensor> dict, Device device) {
        ensureOpen();
        Map<String, Map<String, Tensor>> slots = new TreeMap<>();
        Map<String, Long> newSteps = new TreeMap<>();
        for (Map.Entry<String, Tensor> e : dict.entrySet()) {
            String key = e.getKey();
            int dot = key.lastIndexOf('.');
            String param = dot > 0 ? key.substring(0, dot) : "";
            String slot = key.substring(dot + 1);
            Tensor t = e.getValue();
            if (countsSteps() && slot.equals("step")) {
                if (t.dtype() != DType.I64 || t.numel() != 1) {
                    throw new IllegalArgumentException("state key " + key + " must be an int64 scalar but is " + t);
                }
                newSteps.put(param, t.data().getLong(0));
            } else if (slotNames().contains(slot) && !param.isEmpty()) {
                if (t.dtype() != DType.F32) {
                    throw new IllegalArgumentException("state key " + key + " must be F32 but is " + t.dtype());
                }
                slots.computeIfAbsent(param, k -> new HashMap<>()).put(slot, t);
            } else {
                throw new IllegalArgumentException("unexpected optimizer state key '" + key + "' for "
                        + getClass().getSimpleName() + " (expected <param>." + String.join("|", slotNames())
                        + (countsSteps() ? "|step" : "") + ")");
            }
        }
        clearState();
        steps.putAll(newSteps);
        for (Map.Entry<String, Map<String, Tensor>> e : slots.entrySet()) {
            for (Map.Entry<String, Tensor> s : e.getValue().entrySet()) {
                Tensor t = s.getValue();
                NDArray a = NativeArrays.copyOf(stateManager, t.toFloatArray(), new Shape(t.shape()));
                if (!device.equals(a.getDevice())) {
                    NDArray moved = a.toDevice(device, true);
                    a.close();
                    a = moved;
                }
                state.computeIfAbsent(e.getKey(), k -> new HashMap<>()).put(s.getKey(), a);
            }
        }
    }

    /** The live state tensor of a slot, or null: for tests and diagnostics. */
    NDArray stateArray(String paramName, String slot) {
        Map<String, NDArray> slots = state.get(paramName);
        return slots == null ? null : slots.get(slot);
    }

    /** Names of the parameters that have state. */
    public Set<String> paramsWithState() {
        Set<String> names = new java.util.TreeSet<>(state.keySet());
        names.addAll(steps.keySet());
        return names;
    }

    /** The slot's state for {@code param}, created as zeros like it on first use. */
    protected NDArray slot(String name, String slot, NDArray param) {
        Map<String, NDArray> slots = state.computeIfAbsent(name, k -> new HashMap<>());
        NDArray a = slots.get(slot);
        if (a == null) {
            a = stateManager.zeros(param.getShape(), param.getDataType(), param.getDevice());
            slots.put(slot, a);
        } else {
            checkShape(name, slot, a, param);
        }
        return a;
    }

    /** The slot's state or null when not created yet (such as SGD's momentum buffer before the first step). */
    protected NDArray existingSlot(String name, String slot, NDArray param) {
        NDArray a = stateArray(name, slot);
        if (a != null) checkShape(name, slot, a, param);
        return a;
    }

    /** Stores {@code value} as the slot's state, taking ownership (it moves to the optimizer's manager). */
    protected void putSlot(String name, String slot, NDArray value) {
        value.attach(stateManager);
        NDArray old = state.computeIfAbsent(name, k -> new HashMap<>()).put(slot, value);
        if (old != null) old.close();
    }

    /** Increments and returns the parameter's step count (1 on its first update, like torch). */
    protected long nextStep(String name) {
        return steps.merge(name, 1L, Long::sum);
    }

    private static void checkShape(String name, String slot, NDArray state, NDArray param) {
        if (!state.getShape().equals(param.getShape())) {
            throw new IllegalStateException("optimizer state " + name + "." + slot + " has shape " + state.getShape()
                    + " but the parameter has shape " + param.getShape());
        }
    }

    private ParamGroup groupOf(String paramName) {
        return groupOfParam.computeIfAbsent(paramName, n -> {
            for (ParamGroup g : groups) {
                if (g.selects().test(n)) return g;
            }
            List<String> names = new ArrayList<>();
            for (ParamGroup g : groups) names.add(g.name());
            throw new IllegalArgumentException(
                    "parameter " + n + " belongs to no parameter group (groups: " + names + ")");
        });
    }

    private void clearState() {
        for (Map<String, NDArray> slots : state.values()) slots.values().forEach(NDArray::close);
        state.clear();
        steps.clear();
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException(getClass().getSimpleName() + " is closed");
    }

    /** True once {@link #close()} ran. */
    public boolean isClosed() {
        return closed;
    }

    /** Frees all optimizer state. The parameters are not touched. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        state.clear();
        steps.clear();
        stateManager.close();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName()
                + Arrays.toString(groups.stream().map(ParamGroup::name).toArray()) + "[lrMultiplier=" + lrMultiplier
                + ", params with state=" + state.size() + "]";
    }
}
