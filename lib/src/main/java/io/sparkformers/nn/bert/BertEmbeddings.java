package io.sparkformers.nn.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.Embedding;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.LayerNorm;

/**
 * Port of HF {@code BertEmbeddings} (and {@code RobertaEmbeddings}): word + token type + absolute position
 * embeddings, LayerNorm, dropout. Inputs: input_ids (B, T) int64, token_type_ids (B, T) int64. Output (B, T, H).
 */
public final class BertEmbeddings extends HfBlock {

    private final int padTokenId;
    private final boolean robertaPositions;
    private final int hiddenSize;
    private final Embedding wordEmbeddings;
    private final Embedding positionEmbeddings;
    private final Embedding tokenTypeEmbeddings;
    private final LayerNorm layerNorm;
    private final Dropout dropout;

    public BertEmbeddings(BertConfig c) {
        padTokenId = c.padTokenId();
        robertaPositions = c.robertaPositions();
        hiddenSize = c.hiddenSize();
        wordEmbeddings = addChildBlock("word_embeddings", new Embedding(c.vocabSize(), c.hiddenSize(), c.padTokenId()));
        positionEmbeddings = addChildBlock(
                "position_embeddings",
                new Embedding(c.maxPositionEmbeddings(), c.hiddenSize(), robertaPositions ? c.padTokenId() : null));
        tokenTypeEmbeddings =
                addChildBlock("token_type_embeddings", new Embedding(c.typeVocabSize(), c.hiddenSize(), null));
        layerNorm = addChildBlock("LayerNorm", new LayerNorm(c.hiddenSize(), c.layerNormEps()));
        dropout = addChildBlock(
                "dropout",
                Dropout.builder().optRate((float) c.hiddenDropoutProb()).build());
    }

    /** The word table, which BertForMaskedLM's decoder shares. */
    public Embedding wordEmbeddings() {
        return wordEmbeddings;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray inputIds = inputs.get(0); // (B, T)
        NDArray tokenTypeIds = inputs.get(1); // (B, T)
        NDArray positionIds = positionIds(inputIds); // (1, T) or (B, T)
        NDArray x = call(wordEmbeddings, ps, training, inputIds) // (B, T, H)
                .add(call(tokenTypeEmbeddings, ps, training, tokenTypeIds))
                .add(call(positionEmbeddings, ps, training, positionIds));
        x = call(layerNorm, ps, training, x);
        return new NDList(call(dropout, ps, training, x));
    }

    /**
     * BERT: 0..T-1. RoBERTa ({@code create_position_ids_from_input_ids}): real tokens count up from
     * padding_idx + 1, padding tokens get padding_idx.
     */
    public NDArray positionIds(NDArray inputIds) {
        int seqLen = (int) inputIds.getShape().get(1);
        if (!robertaPositions) {
            return inputIds.getManager().arange(0, seqLen, 1, DataType.INT64).expandDims(0); // (T) -> (1, T)
        }
        NDArray mask = inputIds.neq(padTokenId).toType(DataType.INT64, false); // (B, T)
        return mask.cumSum(1).mul(mask).add(padTokenId);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(hiddenSize)};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape ids = inputShapes[0];
        wordEmbeddings.initialize(manager, dataType, ids);
        positionEmbeddings.initialize(manager, dataType, ids);
        tokenTypeEmbeddings.initialize(manager, dataType, ids);
        Shape hidden = ids.add(hiddenSize);
        layerNorm.initialize(manager, dataType, hidden);
        dropout.initialize(manager, dataType, hidden);
    }
}
