package io.sparkformers.nn.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.Losses;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Port of HF {@code BertForQuestionAnswering} (and {@code RobertaForQuestionAnswering}, same layout): a 2-unit
 * {@code qa_outputs} over every token. Inputs as {@link BertModel}; outputs: start_logits (B, T), end_logits (B, T).
 */
public final class BertForQuestionAnswering extends BertPreTrainedModel {

    private final BertModel bert;
    private final Linear qaOutputs;

    public BertForQuestionAnswering(BertConfig c) {
        super(c);
        if (c.numLabels() != 2) {
            throw new IllegalArgumentException(
                    "question answering needs num_labels 2 (start, end) but config has " + c.numLabels());
        }
        bert = addChildBlock(c.baseModelPrefix(), new BertModel(c, /* withPooler= */ false));
        qaOutputs = addChildBlock("qa_outputs", Linear.builder().setUnits(2).build());
    }

    public BertModel bert() {
        return bert;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray hidden = bert.forward(ps, inputs, training).head(); // (B, T, H)
        NDList startEnd = call(qaOutputs, ps, training, hidden).split(2, 2); // (B, T, 2) -> 2 x (B, T, 1)
        return new NDList(startEnd.get(0).squeeze(2), startEnd.get(1).squeeze(2));
    }

    /**
     * HF's loss: mean of start and end cross-entropies over positions (B) int64, clamped to [0, T] as HF does;
     * position T (an answer truncated away) is ignored.
     */
    public NDArray loss(NDArray startLogits, NDArray endLogits, NDArray startPositions, NDArray endPositions) {
        return Losses.spanExtraction(startLogits, endLogits, startPositions, endPositions);
    }

    @Override
    public List<Pattern> ignoredOnLoad() {
        return BertModel.ignoredKeys(false, false);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0], inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        bert.initialize(manager, dataType, inputShapes);
        qaOutputs.initialize(manager, dataType, inputShapes[0].add(config.hiddenSize()));
    }
}
