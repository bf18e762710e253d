package io.sparkformers.nn.distilbert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.Losses;

/**
 * Port of HF {@code DistilBertForQuestionAnswering}: a 2-unit {@code qa_outputs} over dropout(last_hidden_state),
 * dropout at HF's {@code qa_dropout}. Inputs as {@link DistilBertModel}; outputs: start_logits (B, T), end_logits
 * (B, T).
 */
public final class DistilBertForQuestionAnswering extends DistilBertPreTrainedModel {

    private final DistilBertModel distilbert;
    private final Linear qaOutputs;
    private final Dropout dropout;

    public DistilBertForQuestionAnswering(DistilBertConfig c) {
        super(c);
        if (c.numLabels() != 2) {
            throw new IllegalArgumentException(
                    "question answering needs num_labels 2 (start, end) but config has " + c.numLabels());
        }
        distilbert = addChildBlock("distilbert", new DistilBertModel(c));
        qaOutputs = addChildBlock("qa_outputs", Linear.builder().setUnits(2).build());
        dropout = addChildBlock(
                "dropout", Dropout.builder().optRate((float) c.qaDropout()).build());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray hidden = distilbert.forward(ps, inputs, training).head(); // (B, T, dim)
        NDArray logits = call(qaOutputs, ps, training, call(dropout, ps, training, hidden)); // (B, T, 2)
        NDList startEnd = logits.split(2, 2); // 2 x (B, T, 1)
        return new NDList(startEnd.get(0).squeeze(2), startEnd.get(1).squeeze(2));
    }

    /** HF's loss: {@link Losses#spanExtraction} over start/end positions (B) int64. */
    public NDArray loss(NDArray startLogits, NDArray endLogits, NDArray startPositions, NDArray endPositions) {
        return Losses.spanExtraction(startLogits, endLogits, startPositions, endPositions);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0], inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        distilbert.initialize(manager, dataType, inputShapes);
        Shape hidden = inputShapes[0].add(config.dim());
        qaOutputs.initialize(manager, dataType, hidden);
        dropout.initialize(manager, dataType, hidden);
    }
}
