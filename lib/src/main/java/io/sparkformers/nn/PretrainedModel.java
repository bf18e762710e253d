package io.sparkformers.nn;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A top-level model block: what HF's {@code PreTrainedModel} knows about loading (base model prefix, keys to
 * ignore, renamed keys) plus initialisation and inference entry points.
 * <pre>{@code
 * BertForSequenceClassification m = new BertForSequenceClassification(cfg);
 * m.initialize(manager);                                  // HF init, float32
 * LoadReport r = StateDict.load(m, checkpoint);           // by HF name
 * NDList out = m.predict(new NDList(inputIds, attentionMask));   // no grad, no dropout
 * }</pre>
 */
public abstract class PretrainedModel extends HfBlock {

    /** The type the projections multiply in for inference (see {@link ComputeDtype}). */
    private DataType inferenceType = DataType.FLOAT32;

    protected PretrainedModel() {
        super();
    }

    /** Whether this model runs BF16 inference ({@link ComputeDtype}); false unless its family was converted. */
    public boolean supportsBf16() {
        return false;
    }

    /**
     * The type the model's projections multiply in for inference without autograd: FLOAT32, or BFLOAT16 once
     * {@link #setComputeDtype} chose BF16. Training and autograd forwards always run float32.
     */
    public DataType inferenceType() {
        return inferenceType;
    }

    /**
     * Runs inference in {@code dtype} (FP32 or BF16, resolved) from now on, here and in every model nested in this
     * one (a head's base model); BF16 for a model without {@link #supportsBf16()} fails naming it.
     */
    public void setComputeDtype(ComputeDtype dtype) {
        if (dtype == ComputeDtype.BF16 && !supportsBf16()) dtype.resolve(this, ai.djl.Device.cpu()); // throws
        setInferenceType(this, dtype.dataType());
        DerivedWeights.computeIn(this, dtype);
    }

    private static void setInferenceType(ai.djl.nn.Block block, DataType type) {
        if (block instanceof PretrainedModel m) m.inferenceType = type;
        for (ai.djl.nn.Block child : block.getChildren().values()) setInferenceType(child, type);
    }

    /** HF {@code base_model_prefix}: the child holding the encoder in heads ("bert", "roberta", "distilbert"). */
    public abstract String baseModelPrefix();

    /** The HF {@code config.json} this model was built from (labels included), as save_pretrained writes it. */
    public abstract com.fasterxml.jackson.databind.node.ObjectNode configJson();

    /** HF's class name written to config.json {@code architectures} by save_pretrained (the block's class name). */
    public String architecture() {
        return getClass().getSimpleName();
    }

    /** True for the bare encoder (its keys carry no prefix); false for models with a head around it. */
    public boolean isBaseModel() {
        return false;
    }

    /** HF {@code initializer_range}: std of the normal initialisation of new weights. */
    public abstract double initializerRange();

    /** Number of NDList inputs the model takes at most (ids, mask, and token types for BERT). */
    protected abstract int numInputs();

    /**
     * Checkpoint keys (model-side names, after prefix handling) that are known not to be weights of this model:
     * tied copies, pre-training heads, buffers. They are listed in {@link LoadReport#ignored()}.
     */
    public List<Pattern> ignoredOnLoad() {
        return List.of(Pattern.compile("(.*\\.)?embeddings\\.position_ids"));
    }

    /** Checkpoint key → model key renames (HF aliases such as {@code cls.predictions.decoder.bias}). */
    public Map<String, String> checkpointAliases() {
        return Map.of();
    }

    /** Allocates every parameter with HF's initialisation in float32; loading then overwrites by name. */
    public PretrainedModel initialize(NDManager manager) {
        return initialize(manager, (name, shape) -> {});
    }

    /**
     * As {@link #initialize(NDManager)}, showing {@code beforeAllocating} each parameter's dotted name and shape just
     * before it is allocated: it may refuse (a config whose sizes disagree with the weights fails there, not when
     * libtorch is asked for terabytes).
     */
    public PretrainedModel initialize(
            NDManager manager, java.util.function.BiConsumer<String, Shape> beforeAllocating) {
        HfInit.apply(this, initializerRange());
        ParameterNames.of(this).forEach((name, e) -> {
            ai.djl.training.initializer.Initializer init = e.parameter().getInitializer();
            if (init == null) return;
            e.parameter().setInitializer((m, shape, type) -> {
                beforeAllocating.accept(name, shape);
                return init.initialize(m, shape, type);
            });
        });
        Shape[] shapes = new Shape[numInputs()];
        java.util.Arrays.fill(shapes, new Shape(1, 1));
        initialize(manager, DataType.FLOAT32, shapes);
        return this;
    }

    /**
     * Inference forward: dropout off and no autograd graph in this thread (grad mode is on by default in every
     * new thread). Outputs are attached to the inputs' manager.
     */
    public NDList predict(NDList inputs) {
        try (NoGrad g = NoGrad.enter()) {
            return forward(new ParameterStore(inputs.head().getManager(), false), inputs, false);
        }
    }
}
