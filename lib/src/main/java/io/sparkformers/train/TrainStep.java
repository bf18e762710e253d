package io.sparkformers.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.sparkformers.nn.GradientCheckpointing;
import io.sparkformers.nn.HeadSplit;
import io.sparkformers.nn.NativeArrays;
import io.sparkformers.nn.NoGrad;
import io.sparkformers.nn.PretrainedModel;
import io.sparkformers.runtime.GemmPath;
import io.sparkformers.train.DataCollatorWithPadding.Batch;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.DoubleConsumer;

/**
 * One replica's share of an optimizer step, split where data parallelism needs the seams:
 * <ol>
 *   <li>{@link #forwardBackward}: forward + loss + backward of one micro-batch; gradients add up in the trainable
 *       parameters' {@code .grad} (torch semantics), the loss scaled first (HF: {@code loss / accumulation});</li>
 *   <li>{@link #withGradients}: the accumulated gradients, in place, for an all-reduce across replicas;</li>
 *   <li>{@link #applyUpdate}: global-norm clipping, the optimizer step at the schedule's learning rate, zero grads.</li>
 * </ol>
 * Forward, backward and update run under {@link TrainingLock}. Dropout is re-seeded per micro-batch from a seed the
 * caller derives from (seed, step, micro-batch), so a resumed run draws the same masks as an uninterrupted one.
 * Under feature extraction the encoder runs frozen in eval mode with no autograd graph ({@link HeadSplit}).
 * Not thread-safe; one per training loop. The model and optimizer stay the caller's.
 */
public final class TrainStep {

    /** What one micro-batch cost, for benchmarks and logs. */
    public record MicroResult(double loss, long examples, long forwardNanos, long backwardNanos) {}

    private final PretrainedModel model;
    private final NDManager manager;
    private final TrainingLoss loss;
    private final boolean frozenEncoder;
    private final List<ParamRef> trainable;
    private long updates;
    private boolean gradientCheckpointing;

    /**
     * @param model          the model; its trainable parameters require gradients, the frozen ones do not
     * @param labelKind      decides the loss (HF's problem_type): cross-entropy, BCE-with-logits, MSE
     * @param labelSmoothing HF label_smoothing_factor (single-label and token classification)
     * @param frozenEncoder  run the encoder in eval mode without a graph (feature extraction; needs {@link HeadSplit})
     * @param trainable      the parameters the optimizer updates
     */
    public TrainStep(
            PretrainedModel model,
            NDManager manager,
            LabelKind labelKind,
            double labelSmoothing,
            boolean frozenEncoder,
            List<ParamRef> trainable) {
        this(model, manager, TrainingLoss.forLabelKind(labelKind, labelSmoothing), frozenEncoder, trainable);
    }

    /** As above with any objective's loss (masked LM, causal LM: labels of kind TOKEN in the batch). */
    public TrainStep(
            PretrainedModel model,
            NDManager manager,
            TrainingLoss loss,
            boolean frozenEncoder,
            List<ParamRef> trainable) {
        if (frozenEncoder && !(model instanceof HeadSplit)) {
            throw new IllegalArgumentException("feature_extraction needs a model whose head can run apart from its "
                    + "encoder; " + model.getClass().getSimpleName() + " cannot: use fine_tune or partial");
        }
        this.loss = loss;
        if (trainable.isEmpty()) throw new IllegalArgumentException("no parameter is trainable");
        this.model = model;
        this.manager = manager;
        this.frozenEncoder = frozenEncoder;
        this.trainable = List.copyOf(trainable);
    }

    /**
     * HF {@code gradient_checkpointing}: each layer of the model's stacks is recomputed in backward instead of keeping
     * its activations ({@link GradientCheckpointing}). Off by default.
     */
    public TrainStep gradientCheckpointing(boolean on) {
        this.gradientCheckpointing = on;
        return this;
    }

    public List<ParamRef> trainableParams() {
        return trainable;
    }

    /**
     * Forward and backward of one micro-batch: gradients of {@code lossScale × loss} are added to the trainable
     * parameters. Returns the unscaled loss.
     *
     * @param dropoutSeed seeds libtorch's generator before the forward pass
     */
    public MicroResult forwardBackward(Batch batch, double lossScale, long dropoutSeed) {
        try (TrainingLock.Held lock = TrainingLock.acquire();
                NDManager scope = manager.newSubManager()) {
            seedTorch(dropoutSeed);
            long t0 = System.nanoTime();
            long t1;
            double lossValue;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector();
                    GradientCheckpointing tape =
                            gradientCheckpointing ? GradientCheckpointing.begin(scope, dropoutSeed) : null) {
                NDList inputs = inputs(scope, batch);
                NDArray logits = logits(new ParameterStore(scope, false), inputs, true);
                NDArray loss = this.loss.compute(logits, labels(scope, batch));
                lossValue = loss.getFloat();
                t1 = System.nanoTime();
                gc.backward(lossScale == 1.0 ? loss : NativeArrays.mul(loss, lossScale));
                if (tape != null) tape.backward();
            }
            return new MicroResult(lossValue, batch.batchSize(), t1 - t0, System.nanoTime() - t1);
        }
    }

    /**
     * Seeds libtorch's global generator (torch.manual_seed), which dropout and HF's initialisers draw from. Starts the
     * engine first: its native library is loaded only then.
     */
    public static void seedTorch(long seed) {
        GemmPath.apply(); // starts the engine; before the first GEMM: MKL's fast path on AMD
        JniUtils.setSeed(seed);
    }

    /** The model's outputs in inference mode (no dropout, no graph) and the loss, for evaluation. */
    public static NDArray[] predict(
            PretrainedModel model, NDManager scope, Batch batch, LabelKind kind, double labelSmoothing) {
        try (NoGrad g = NoGrad.enter()) {
            NDList inputs = inputs(scope, batch);
            NDArray logits = model.forward(new ParameterStore(scope, false), inputs, false)
                    .head();
            NDArray loss = batch.labelKind() == LabelKind.NONE
                    ? null
                    : loss(logits, labels(scope, batch), kind, labelSmoothing);
            return new NDArray[] {logits, loss};
        }
    }

    /**
     * Calls {@code body} with the trainable parameters' accumulated gradients (views of {@code .grad}: in-place
     * changes, e.g. an all-reduce, are what {@link #applyUpdate} steps with). Parameters without a gradient are
     * skipped.
     */
    public void withGradients(Consumer<List<NDArray>> body) {
        withGradients(trainable, (refs, grads) -> body.accept(grads));
    }

    /**
     * {@link #withGradients(Consumer)} for any parameter list; {@code body} also gets the parameters that have a
     * gradient, index for index.
     */
    static void withGradients(List<ParamRef> params, BiConsumer<List<ParamRef>, List<NDArray>> body) {
        List<ParamRef> refs = new ArrayList<>();
        List<NDArray> grads = new ArrayList<>();
        try {
            for (ParamRef p : params) {
                NDArray g = Autograd.gradientOf(p.value());
                if (g == null) continue;
                refs.add(p);
                grads.add(g);
            }
            body.accept(refs, grads);
        } finally {
            grads.forEach(NDArray::close);
        }
    }

    /**
     * The update: clip the gradients to {@code maxGradNorm} (global L2 norm; 0 skips clipping), one optimizer step
     * with {@code lrMultiplier} times each group's base lr, then zero the gradients.
     *
     * @return the gradient norm before clipping, or NaN when clipping is off (HF then logs none)
     */
    public double applyUpdate(Optimizer optimizer, double lrMultiplier, double maxGradNorm) {
        updates++;
        return applyUpdate(trainable, optimizer, lrMultiplier, maxGradNorm, norm -> {
            if (!Double.isFinite(norm)) {
                throw new NonFiniteLossException(updates, "gradient norm", norm, Double.NaN, null);
            }
        });
    }

    /**
     * {@link #applyUpdate(Optimizer, double, double)} for any parameter list; {@code checkNorm} sees the global
     * gradient norm before clipping and before the optimizer step (measured even with clipping off) and may throw to
     * leave the weights as they are ({@link NonFiniteLossException}).
     */
    static double applyUpdate(
            List<ParamRef> params,
            Optimizer optimizer,
            double lrMultiplier,
            double maxGradNorm,
            DoubleConsumer checkNorm) {
        try (TrainingLock.Held lock = TrainingLock.acquire()) {
            double norm = maxGradNorm > 0
                    ? GradientClipping.clipGradNormOfParams(params, maxGradNorm)
                    : GradientClipping.globalNormOfParams(params);
            checkNorm.accept(norm);
            optimizer.setLrMultiplier(lrMultiplier);
            optimizer.step(params);
            Optimizer.zeroGrad(params);
            return maxGradNorm > 0 ? norm : Double.NaN;
        }
    }

    /** The model's outputs; under feature extraction the encoder runs frozen, in eval mode, without a graph. */
    NDArray logits(ParameterStore ps, NDList inputs, boolean training) {
        if (!frozenEncoder) return model.forward(ps, inputs, training).head();
        HeadSplit split = (HeadSplit) model;
        NDArray hidden;
        try (NoGrad g = NoGrad.enter()) {
            hidden = split.encode(ps, inputs, false); // (B, T, H), eval mode, no graph
        }
        return split.head(ps, hidden, training).head();
    }

    /** HF's loss for the label kind (problem_type), with label smoothing where HF applies it. */
    static NDArray loss(NDArray logits, NDArray labels, LabelKind kind, double labelSmoothing) {
        return TrainingLoss.forLabelKind(kind, labelSmoothing).compute(logits, labels);
    }

    static NDList inputs(NDManager scope, Batch b) {
        Shape s = new Shape(b.batchSize(), b.seqLength());
        return new NDList(
                scope.create(b.inputIds(), s), scope.create(b.attentionMask(), s), scope.create(b.tokenTypeIds(), s));
    }

    static NDArray labels(NDManager scope, Batch b) {
        Shape s = new Shape(b.labelShape());
        return switch (b.labelKind()) {
            case SINGLE_LABEL, TOKEN -> scope.create(b.labelIds(), s);
            case MULTI_LABEL, REGRESSION -> scope.create(b.labelValues(), s);
            case NONE -> throw new IllegalArgumentException("the batch has no labels");
        };
    }
}
