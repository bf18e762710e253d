package io.sparkformers.nn.vision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import io.sparkformers.nn.NoGrad;

/**
 * PyTorch {@code nn.BatchNorm2d(num_features, eps=1e-5, momentum=0.1)} with torchvision's state-dict names:
 * {@code weight}, {@code bias} and the buffers {@code running_mean}, {@code running_var} and
 * {@code num_batches_tracked} (int64 scalar). DJL's own BatchNorm says gamma/beta/runningMean/runningVar and uses
 * MXNet's momentum convention, so it is not used.
 *
 * <p>Eval mode normalises with the running statistics. Training normalises with the batch statistics and updates
 * the buffers in place as PyTorch does: {@code running = (1 - momentum) * running + momentum * batch} (unbiased
 * variance) and {@code num_batches_tracked += 1}. Buffers never require gradients. Input and output (B, C, H, W).
 */
public final class BatchNorm2d extends AbstractBlock {

    private static final byte VERSION = 1;

    /** Names of the buffers: state, not trained. */
    public static final java.util.Set<String> BUFFERS =
            java.util.Set.of("running_mean", "running_var", "num_batches_tracked");

    private final int numFeatures;
    private final double eps;
    private final double momentum;
    private final Parameter weight;
    private final Parameter bias;
    private final Parameter runningMean;
    private final Parameter runningVar;
    private final Parameter numBatchesTracked;

    /** torchvision's BatchNorm2d: eps 1e-5, momentum 0.1. */
    public BatchNorm2d(int numFeatures) {
        this(numFeatures, 1e-5, 0.1);
    }

    /**
     * @param numFeatures channels C
     * @param eps         added to the variance (PyTorch default 1e-5)
     * @param momentum    weight of the batch statistic in the running update (PyTorch default 0.1)
     */
    public BatchNorm2d(int numFeatures, double eps, double momentum) {
        super(VERSION);
        if (numFeatures <= 0)
            throw new IllegalArgumentException("BatchNorm2d num_features must be > 0 but was " + numFeatures);
        if (!(eps > 0)) throw new IllegalArgumentException("BatchNorm2d eps must be > 0 but was " + eps);
        if (!(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException("BatchNorm2d momentum must be in [0, 1] but was " + momentum);
        }
        this.numFeatures = numFeatures;
        this.eps = eps;
        this.momentum = momentum;
        Shape c = new Shape(numFeatures);
        weight = addParameter(Parameter.builder()
                .setName("weight")
                .setType(Parameter.Type.GAMMA)
                .optShape(c)
                .build());
        bias = addParameter(Parameter.builder()
                .setName("bias")
                .setType(Parameter.Type.BETA)
                .optShape(c)
                .build());
        runningMean = addParameter(Parameter.builder()
                .setName("running_mean")
                .setType(Parameter.Type.RUNNING_MEAN)
                .optShape(c)
                .optRequiresGrad(false)
                .build());
        runningVar = addParameter(Parameter.builder()
                .setName("running_var")
                .setType(Parameter.Type.RUNNING_VAR)
                .optShape(c)
                .optRequiresGrad(false)
                .build());
        numBatchesTracked = addParameter(Parameter.builder()
                .setName("num_batches_tracked")
                .setType(Parameter.Type.OTHER)
                .optShape(new Shape())
                .optRequiresGrad(false)
                .optInitializer(INT64_ZERO)
                .build());
    }

    /** torchvision stores num_batches_tracked as an int64 scalar, whatever the model's float type. */
    private static final Initializer INT64_ZERO =
            (NDManager m, Shape s, DataType ignored) -> m.zeros(s, DataType.INT64);

    public int numFeatures() {
        return numFeatures;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow(); // (B, C, H, W)
        NDArray w = ps.getValue(weight, x.getDevice(), training);
        NDArray b = ps.getValue(bias, x.getDevice(), training);
        NDArray mean = ps.getValue(runningMean, x.getDevice(), training);
        NDArray var = ps.getValue(runningVar, x.getDevice(), training);
        // torch::batch_norm updates mean/var in place when training, with PyTorch's momentum convention
        NDArray y = JniUtils.batchNorm(
                (PtNDArray) x,
                (PtNDArray) mean,
                (PtNDArray) var,
                (PtNDArray) w,
                (PtNDArray) b,
                training,
                momentum,
                eps);
        if (training) {
            try (NoGrad g = NoGrad.enter()) {
                ps.getValue(numBatchesTracked, x.getDevice(), false).addi(1);
            }
        }
        return new NDList(y);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void beforeInitialize(Shape... inputShapes) {
        super.beforeInitialize(inputShapes);
        if (inputShapes[0].dimension() != 4 || inputShapes[0].get(1) != numFeatures) {
            throw new IllegalArgumentException("BatchNorm2d(" + numFeatures + ") expects (B, " + numFeatures
                    + ", H, W) but got " + inputShapes[0]);
        }
    }

    @Override
    public void prepare(Shape[] inputShapes) {}

    @Override
    public String toString() {
        return "BatchNorm2d(" + numFeatures + ", eps=" + eps + ", momentum=" + momentum + ")";
    }
}
