package io.sparkformers.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.initializer.NormalInitializer;

/**
 * HF {@code _init_weights} for BERT-like models: Linear and Embedding weights ~ N(0, initializer_range), biases
 * zero, LayerNorm weight one and bias zero, and the padding row of an embedding zero. Sets initializers only;
 * values appear at {@code Block.initialize}.
 */
public final class HfInit {

    private HfInit() {}

    /** Installs HF's initializers on every parameter under {@code root}. */
    public static void apply(Block root, double initializerRange) {
        Initializer normal = new NormalInitializer((float) initializerRange);
        for (ParameterNames.Entry e : ParameterNames.of(root).values()) {
            Parameter p = e.parameter();
            if (e.owner() instanceof Embedding emb && emb.fixedInitializer() != null) {
                p.setInitializer(emb.fixedInitializer());
            } else if (e.owner() instanceof Embedding emb && emb.paddingIdx() != null) {
                p.setInitializer(paddedNormal(normal, emb.paddingIdx()));
            } else {
                switch (p.getType()) {
                    case WEIGHT -> p.setInitializer(normal);
                    case GAMMA -> p.setInitializer(Initializer.ONES);
                    case BIAS, BETA -> p.setInitializer(Initializer.ZEROS);
                    default -> {} // raw tensors keep their own initializer
                }
            }
        }
    }

    private static Initializer paddedNormal(Initializer normal, int paddingIdx) {
        return (NDManager manager, Shape shape, DataType dataType) -> {
            NDArray w = normal.initialize(manager, shape, dataType);
            w.set(new NDIndex(paddingIdx), 0f);
            return w;
        };
    }
}
