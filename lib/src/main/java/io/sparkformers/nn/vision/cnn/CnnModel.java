package io.sparkformers.nn.vision.cnn;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.training.initializer.Initializer;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.ParameterNames;
import io.sparkformers.nn.vision.BatchNorm2d;
import io.sparkformers.nn.vision.VisionModel;
import java.util.Map;

/**
 * What torchvision's VGG and ResNet share: a {@link CnnConfig}, no base-model prefix (torchvision names start at
 * the root: {@code features.0.weight}, {@code layer1.0.conv1.weight}), and torchvision's constructor init
 * (conv: Kaiming normal, fan_out, ReLU gain; BatchNorm: 1 and 0; Linear as each model says).
 */
public abstract class CnnModel extends VisionModel {

    protected final CnnConfig config;

    protected CnnModel(CnnConfig config) {
        this.config = config;
    }

    public CnnConfig config() {
        return config;
    }

    /** The model for {@code config.model_type}. */
    public static CnnModel of(CnnConfig c) {
        return c.isVgg() ? new Vgg(c) : new ResNet(c);
    }

    @Override
    public String baseModelPrefix() {
        return "";
    }

    /** torchvision CNNs do not use HF's initializer_range; the value is only reported. */
    @Override
    public double initializerRange() {
        return 0.01;
    }

    @Override
    public ObjectNode configJson() {
        return config.toJson();
    }

    @Override
    public int numChannels() {
        return config.numChannels();
    }

    @Override
    public int imageSize() {
        return config.imageSize();
    }

    @Override
    public Map<Integer, String> id2label() {
        return config.id2label();
    }

    /** Initializer of a Linear layer's weight and bias (VGG: N(0, 0.01) and 0; ResNet: PyTorch's default). */
    protected abstract void initLinear(Linear linear, Parameter p);

    @Override
    protected void applyInitializers() {
        for (ParameterNames.Entry e : ParameterNames.of(this).values()) {
            Block owner = e.owner();
            Parameter p = e.parameter();
            if (owner instanceof Conv2d && p.getType() == Parameter.Type.WEIGHT) {
                p.setInitializer(kaimingNormalFanOut());
            } else if (owner instanceof Conv2d) {
                p.setInitializer(Initializer.ZEROS);
            } else if (owner instanceof BatchNorm2d && !BatchNorm2d.BUFFERS.contains(p.getName())) {
                p.setInitializer(p.getType() == Parameter.Type.GAMMA ? Initializer.ONES : Initializer.ZEROS);
            } else if (owner instanceof Linear l) {
                initLinear(l, p);
            }
        }
    }

    /** {@code nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")}: N(0, 2 / (out · kh · kw)). */
    private static Initializer kaimingNormalFanOut() {
        return (NDManager m, Shape s, DataType t) -> {
            long fanOut = s.get(0) * s.size(2);
            return m.randomNormal(0f, (float) Math.sqrt(2.0 / fanOut), s, t);
        };
    }

    /** {@code nn.init.normal_(w, 0, std)}. */
    protected static Initializer normal(double std) {
        return (NDManager m, Shape s, DataType t) -> m.randomNormal(0f, (float) std, s, t);
    }

    /** PyTorch's default Linear init: weight and bias U(-1/sqrt(in), 1/sqrt(in)). */
    protected static Initializer uniformFanIn(long fanIn) {
        float bound = (float) (1 / Math.sqrt(fanIn));
        return (NDManager m, Shape s, DataType t) -> m.randomUniform(-bound, bound, s, t);
    }

    /** torchvision's {@code nn.Conv2d(in, out, k, stride, padding, bias)}; in is inferred at initialisation. */
    protected static Conv2d conv(int out, int kernel, int stride, int padding, boolean bias) {
        return Conv2d.builder()
                .setFilters(out)
                .setKernelShape(new Shape(kernel, kernel))
                .optStride(new Shape(stride, stride))
                .optPadding(new Shape(padding, padding))
                .optBias(bias)
                .build();
    }
}
