package io.sparkformers.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * HF's {@code gradient_checkpointing}: each layer of a stack keeps only its input during the forward pass and is run
 * again, with autograd recording, during backward (PyTorch's {@code torch.utils.checkpoint}, non-reentrant).
 *
 * <p>libtorch's custom autograd functions are out of DJL's reach, so the recompute cannot hide inside the graph as
 * it does in PyTorch; instead the step drives it, in the order backward needs:
 * <ol>
 *   <li>{@link #begin}: a tape for this thread; every {@link LayerScope#apply} in training then runs its layer with
 *       grad mode off in a sub-manager that frees the layer's intermediates on return, records (input, layer, dropout
 *       seed), and returns the output as a fresh leaf that requires grad;</li>
 *   <li>the rest of the forward (head, loss) records as usual, and the loss's backward stops at the last layer's
 *       output leaf;</li>
 *   <li>{@link #backward()}: from the last layer down, re-runs the layer on a detached copy of its saved input with
 *       recording on, back-propagates the output gradient through it ({@code torch.autograd.backward(y, grad)}: the
 *       parameters' {@code .grad} add up), frees the layer's arrays, and hands the input's gradient to the layer
 *       below; finally the first layer's input gradient flows into whatever produced it (the embeddings).</li>
 * </ol>
 * Peak memory is then the saved layer inputs (L × B × T × H), the graph outside the stack and one layer's working
 * set, instead of every layer's working set.
 *
 * <p>Dropout: before each layer the generator is seeded from (step seed, layer index), and the recompute re-seeds
 * it the same way, so the recompute draws the masks of the forward pass (PyTorch restores the RNG state instead,
 * which DJL cannot read). The masks therefore differ from a run without checkpointing; both are draws of the same
 * distribution, and with dropout off the gradients are those of the plain run.
 *
 * <p>Not thread-safe; one per micro-batch, on the thread that runs it, closed after {@link #backward()}.
 */
public final class GradientCheckpointing implements AutoCloseable {

    private static final ThreadLocal<GradientCheckpointing> ACTIVE = new ThreadLocal<>();

    /** One layer of the forward pass: what it needs to run again. */
    private record Segment(NDArray input, NDArray output, UnaryOperator<NDArray> layer, long seed) {}

    private final NDManager manager;
    private final long seed;
    private final List<Segment> segments = new ArrayList<>();
    private double maxRecomputeDiff;
    private boolean checkRecompute;

    private GradientCheckpointing(NDManager manager, long seed) {
        this.manager = manager;
        this.seed = seed;
    }

    /**
     * Starts recording layer stacks on this thread.
     *
     * @param manager the micro-batch's manager: the saved inputs and the gradients passed down live there
     * @param seed    the micro-batch's dropout seed; each layer's is derived from it
     */
    public static GradientCheckpointing begin(NDManager manager, long seed) {
        if (ACTIVE.get() != null) throw new IllegalStateException("gradient checkpointing is already recording");
        GradientCheckpointing tape = new GradientCheckpointing(manager, seed);
        ACTIVE.set(tape);
        return tape;
    }

    /** Whether {@link LayerScope#apply} should checkpoint on this thread. */
    static boolean active() {
        return ACTIVE.get() != null;
    }

    /** The forward half of one checkpointed layer: run it without a graph, keep its input, return a leaf output. */
    static NDArray forward(NDArray x, UnaryOperator<NDArray> layer) {
        return ACTIVE.get().record(x, layer);
    }

    /** For tests: compare each recomputed output with the forward one ({@link #maxRecomputeDiff()}). */
    public GradientCheckpointing checkRecompute() {
        this.checkRecompute = true;
        return this;
    }

    /** The largest |recomputed − forward| over every layer output, when {@link #checkRecompute()} is on. */
    public double maxRecomputeDiff() {
        return maxRecomputeDiff;
    }

    /** Number of layers recorded so far. */
    public int layers() {
        return segments.size();
    }

    private NDArray record(NDArray x, UnaryOperator<NDArray> layer) {
        long layerSeed = layerSeed(segments.size());
        NDArray y;
        try (NoGrad g = NoGrad.enter()) {
            JniUtils.setSeed(layerSeed);
            y = LayerScope.scoped(x.getManager(), new NDList(), new NDList(x), () -> layer.apply(x));
        }
        y.setRequiresGradient(true); // computed without a graph: a leaf, where the loss's backward stops
        segments.add(new Segment(x, y, layer, layerSeed));
        return y;
    }

    /**
     * The backward half, after the loss's backward has reached the last layer's output: recompute and back-propagate
     * every layer from the top, then into the first layer's input. Grad mode must be on (inside the step's
     * GradientCollector). A stack whose output the loss does not use contributes nothing.
     */
    public void backward() {
        NDArray grad = null; // the gradient of segment i's output, when the layer above handed it down
        for (int i = segments.size() - 1; i >= 0; i--) {
            Segment s = segments.get(i);
            if (grad == null) grad = gradientOf(s.output); // the top of a stack: what the loss's backward left there
            if (grad == null) continue; // this output did not reach the loss
            NDArray inputGrad;
            try (NDManager layerScope = manager.newSubManager()) {
                NDArray x = s.input.stopGradient(); // same storage, no history
                x.attach(layerScope);
                x.setRequiresGradient(true);
                JniUtils.setSeed(s.seed);
                NDArray y = s.layer.apply(x); // every intermediate joins layerScope, freed below
                if (checkRecompute) {
                    try (NoGrad g = NoGrad.enter()) {
                        maxRecomputeDiff = Math.max(
                                maxRecomputeDiff, y.sub(s.output).abs().max().getFloat());
                    }
                }
                JniUtils.backward((PtNDArray) y, (PtNDArray) grad, false, false);
                NDArray g = gradientOf(x);
                inputGrad = g == null ? null : g.duplicate();
                if (inputGrad != null) inputGrad.attach(manager);
            }
            if (i > 0 && segments.get(i - 1).output == s.input) {
                grad = inputGrad; // chained: the layer below continues from here
            } else {
                // the first layer of a stack: its input's gradient flows into whatever produced it (the embeddings)
                if (inputGrad != null) intoProducer(s.input, inputGrad);
                grad = null;
            }
        }
    }

    /**
     * Back-propagates {@code grad} from a stack's input into whatever produced it. DJL's {@code requiresGrad} reads
     * false for a non-leaf tensor that has a graph, so the only reliable test is libtorch's own: an input without
     * history (frozen embeddings, as under LoRA) is refused with "does not require grad", and has nothing to receive.
     */
    private static void intoProducer(NDArray input, NDArray grad) {
        try {
            JniUtils.backward((PtNDArray) input, (PtNDArray) grad, false, false);
        } catch (ai.djl.engine.EngineException e) {
            if (e.getMessage() == null || !e.getMessage().contains("does not require grad")) throw e;
        }
    }

    private static NDArray gradientOf(NDArray a) {
        if (a instanceof PtNDArray pt) return JniUtils.getGradient(pt);
        return a.hasGradient() ? a.getGradient() : null;
    }

    private long layerSeed(int layer) {
        long z = seed + 0x9E3779B97F4A7C15L * (layer + 1); // splitmix64
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public void close() {
        ACTIVE.remove();
        segments.clear();
    }
}
