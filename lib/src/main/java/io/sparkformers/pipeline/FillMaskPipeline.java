package io.sparkformers.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.sparkformers.hub.Json;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.hub.TokenBatch;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * HF {@code pipeline("fill-mask")}: for every mask token in a text, the {@code top_k} most likely tokens with their
 * probability and the text with the mask filled in. Options and output follow {@code FillMaskPipeline}: {@code top_k}
 * (default 5) and {@code targets} (score only these words; a vocabulary entry such as {@code ##s} is that entry, any
 * other word is scored by its first sub-token, and words that come to the same token count once, as HF does). As HF, a candidate's
 * {@code sequence} is the text with that mask filled, special tokens dropped; in a text with several masks it keeps
 * them ([CLS], [SEP] and the other masks), HF's {@code skip_special_tokens=single_mask}.
 */
public final class FillMaskPipeline implements Pipeline<List<List<FillMaskPipeline.Candidate>>> {

    /** One candidate: HF's {@code {score, token, token_str, sequence}}. */
    public record Candidate(double score, long token, String tokenStr, String sequence) {}

    private final HfModel model;
    private final TextTokenizer tokenizer;
    private final long maskId;
    private final PipelineOptions options;
    /** token -> id, read on the first use of targets. */
    private volatile Map<String, Long> vocabulary;

    /** The options' {@code top_k} (default 5) and {@code targets} apply to {@link #predictBatch}. */
    public FillMaskPipeline(HfModel model, PipelineOptions options) throws IOException {
        this(model, Pipelines.tokenizer(model, options), options);
    }

    public FillMaskPipeline(HfModel model, TextTokenizer tokenizer) {
        this(model, tokenizer, PipelineOptions.defaults());
    }

    private FillMaskPipeline(HfModel model, TextTokenizer tokenizer, PipelineOptions options) {
        if (model.task() != Task.MASKED_LM) {
            throw new IllegalArgumentException("fill-mask needs a masked-LM model, got one loaded for " + model.task());
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.maskId = tokenizer.singleTokenId(tokenizer.config().maskToken());
        this.options = options;
    }

    @Override
    public String task() {
        return "fill-mask";
    }

    @Override
    public PipelineOptions options() {
        return options;
    }

    @Override
    public String invalidReason(PipelineInput input, int row) {
        String p = PipelineSupport.textProblem(input.text(), "text", row);
        if (p == null && !input.text().contains(tokenizer.config().maskToken())) {
            p = "row " + row + ": no mask token (" + tokenizer.config().maskToken() + ") in '"
                    + PipelineSupport.abbreviate(input.text()) + "'; put one where a word should be predicted";
        }
        return p;
    }

    @Override
    public List<List<List<Candidate>>> predictBatch(List<PipelineInput> inputs, int firstRow) {
        PipelineSupport.requireValid(this, inputs, firstRow);
        return fill(
                inputs.stream().map(PipelineInput::text).toList(),
                options.topK() == null ? 5 : options.topK(),
                options.targets(),
                firstRow);
    }

    /**
     * Fills the masks of each text. The result has one list per text, holding one candidate list per mask token
     * (HF flattens that to a single list when a text has one mask; {@link #flattenLikeHf} does the same for output).
     *
     * @param targets null for the whole vocabulary, else the words to score
     */
    public List<List<List<Candidate>>> fill(List<String> texts, int topK, List<String> targets) {
        return fill(texts, topK, targets, 0);
    }

    private List<List<List<Candidate>>> fill(List<String> texts, int topK, List<String> targets, int firstRow) {
        if (topK <= 0) throw new IllegalArgumentException("top_k must be > 0, got " + topK);
        long[] targetIds = targets == null ? null : targetIds(targets);
        TokenBatch batch = tokenizer.encodeBatch(texts, null);
        List<List<List<Candidate>>> results = new ArrayList<>();
        try (NDManager scope = model.manager().newSubManager()) {
            Shape shape = new Shape(batch.batchSize(), batch.seqLength());
            NDList out = model.predict(new NDList(
                    scope.create(batch.inputIds(), shape),
                    scope.create(batch.attentionMask(), shape),
                    scope.create(batch.tokenTypeIds(), shape)));
            NDArray logits = out.head(); // (B, T, V)
            for (int row = 0; row < batch.batchSize(); row++) {
                long[] ids = Arrays.copyOfRange(
                        batch.inputIds(), row * batch.seqLength(), row * batch.seqLength() + batch.lengths()[row]);
                int masks = 0;
                for (long id : ids) if (id == maskId) masks++;
                List<List<Candidate>> perMask = new ArrayList<>();
                for (int pos = 0; pos < ids.length; pos++) {
                    if (ids[pos] != maskId) continue;
                    float[] probs = logits.get(row, pos).softmax(0).toFloatArray(); // (V,)
                    perMask.add(candidates(ids, pos, probs, topK, targetIds, masks == 1));
                }
                if (perMask.isEmpty()) {
                    throw new IllegalArgumentException(
                            "no mask token (" + tokenizer.config().maskToken() + ") found in text " + (firstRow + row)
                                    + ": '" + abbreviate(texts.get(row)) + "'");
                }
                results.add(perMask);
            }
        }
        return results;
    }

    private List<Candidate> candidates(
            long[] ids, int pos, float[] probs, int topK, long[] targetIds, boolean singleMask) {
        long[] pool = targetIds;
        if (pool == null) {
            pool = new long[probs.length];
            for (int i = 0; i < pool.length; i++) pool[i] = i;
        }
        // partial selection of the top k by probability; ties keep the lower id first, as torch.topk on CPU does
        Integer[] order = new Integer[pool.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        final long[] p = pool;
        Arrays.sort(
                order,
                (a, b) -> probs[(int) p[a]] != probs[(int) p[b]]
                        ? Float.compare(probs[(int) p[b]], probs[(int) p[a]])
                        : Long.compare(p[a], p[b]));
        List<Candidate> out = new ArrayList<>();
        for (int k = 0; k < Math.min(topK, order.length); k++) {
            long token = pool[order[k]];
            long[] filled = ids.clone();
            filled[pos] = token;
            out.add(new Candidate(
                    probs[(int) token],
                    token,
                    tokenizer.decode(new long[] {token}, false),
                    tokenizer.decode(filled, singleMask)));
        }
        return out;
    }

    /**
     * The targets' token ids, each once, ascending (HF's {@code np.unique}). As HF's {@code get_target_ids}, a target
     * that is itself a vocabulary entry (added tokens included: {@code ##s}, {@code [UNK]}) is that entry; any other
     * word is its first sub-token.
     */
    private long[] targetIds(List<String> targets) {
        TreeSet<Long> ids = new TreeSet<>();
        Map<String, Long> vocabulary = vocabulary();
        for (String target : targets) {
            Long entry = vocabulary.get(target);
            if (entry != null) {
                ids.add(entry);
                continue;
            }
            long[] pieces = tokenizer.encode(target).getIds();
            // pieces[0] is [CLS]; the word's first sub-token follows
            if (pieces.length < 3) throw new IllegalArgumentException("target '" + target + "' has no tokens");
            ids.add(pieces[1]);
        }
        return ids.stream().mapToLong(Long::longValue).toArray();
    }

    /** HF's {@code tokenizer.get_vocab()}: tokenizer.json's model vocabulary and added tokens, read once. */
    private Map<String, Long> vocabulary() {
        Map<String, Long> v = vocabulary;
        if (v != null) return v;
        v = new HashMap<>();
        try {
            JsonNode root =
                    Json.MAPPER.readTree(model.checkpoint().tokenizerJson().toFile());
            JsonNode entries = root.path("model").path("vocab");
            if (entries.isObject()) { // WordPiece, BPE, WordLevel: token -> id
                for (var it = entries.fields(); it.hasNext(); ) {
                    var e = it.next();
                    v.put(e.getKey(), e.getValue().asLong());
                }
            } else if (entries.isArray()) { // Unigram: [token, score] at its id
                for (int i = 0; i < entries.size(); i++)
                    v.put(entries.get(i).get(0).asText(), (long) i);
            }
            for (JsonNode added : root.path("added_tokens")) {
                v.put(added.get("content").asText(), added.get("id").asLong());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("fill-mask targets: cannot read the vocabulary: " + e.getMessage(), e);
        }
        vocabulary = Map.copyOf(v);
        return vocabulary;
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }

    /** HF's output shape: a text with one mask gives a flat candidate list; several masks give a list per mask. */
    public static Object flattenLikeHf(List<List<Candidate>> perMask) {
        return perMask.size() == 1 ? perMask.get(0) : perMask;
    }

    /** HF: per text the candidates of its one mask, or a list per mask when it has several. */
    @Override
    public JsonNode hfJson(List<List<Candidate>> perMask) {
        ArrayNode arr = Json.MAPPER.createArrayNode();
        if (perMask.size() == 1) {
            for (Candidate c : perMask.get(0)) arr.add(candidateJson(c));
            return arr;
        }
        for (List<Candidate> one : perMask) {
            ArrayNode a = arr.addArray();
            for (Candidate c : one) a.add(candidateJson(c));
        }
        return arr;
    }

    private static JsonNode candidateJson(Candidate c) {
        return Json.MAPPER
                .createObjectNode()
                .put("score", c.score())
                .put("token", c.token())
                .put("token_str", c.tokenStr())
                .put("sequence", c.sequence());
    }

    @Override
    public void close() {
        tokenizer.close();
        model.close();
    }
}
