package io.sparkformers.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.sparkformers.hub.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * What every task pipeline shares, HF {@code Pipeline.__call__} in batch form: a list of inputs in, one typed result
 * per input out, in the same order. {@link #predictBatch} is one batch (one forward pass per {@code batch_size}
 * inputs at most, native memory freed before it returns), which is what a Spark partition iterator calls;
 * {@link #predict} cuts any list into batches. A pipeline holds no per-call state, so threads may share it as far as
 * the model allows.
 *
 * @param <O> the result of one input (e.g. a label list, an entity list, an answer list)
 */
public interface Pipeline<O> extends AutoCloseable {

    /** HF task name, e.g. {@code text-classification}. */
    String task();

    PipelineOptions options();

    /**
     * Why an input cannot be processed (null when it can), without running the model: lets callers skip or keep
     * bad rows (Spark {@code handleInvalid}) instead of failing a whole batch.
     *
     * @param row the input's position, named in the message
     */
    String invalidReason(PipelineInput input, int row);

    /**
     * Runs one batch. Bad inputs fail the batch with an {@link IllegalArgumentException} naming the row.
     *
     * @param firstRow the position of {@code inputs.get(0)} in the caller's whole input, for error messages
     */
    List<O> predictBatch(List<PipelineInput> inputs, int firstRow);

    /** Runs any number of inputs, {@code batch_size} at a time. */
    default List<O> predict(List<PipelineInput> inputs) {
        List<O> out = new ArrayList<>(inputs.size());
        int size = options().batchSize();
        for (int from = 0; from < inputs.size(); from += size) {
            out.addAll(predictBatch(inputs.subList(from, Math.min(inputs.size(), from + size)), from));
        }
        return out;
    }

    /** One result as HF's pipeline returns it for one input, keys in snake_case. */
    JsonNode hfJson(O result);

    /** Results as HF returns them for a call: a single input's result unwrapped, several as a list. */
    default JsonNode hfOutput(List<O> results) {
        if (results.size() == 1) return hfJson(results.get(0));
        ArrayNode arr = Json.MAPPER.createArrayNode();
        for (O r : results) arr.add(hfJson(r));
        return arr;
    }

    /** Predicts and renders in one call: HF's output for these inputs, as Python prints it. */
    default JsonNode predictHf(List<PipelineInput> inputs) {
        return hfOutput(predict(inputs));
    }

    /** Frees the model and tokenizer. */
    @Override
    void close();
}
