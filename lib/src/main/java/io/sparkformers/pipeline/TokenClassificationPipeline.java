package io.sparkformers.pipeline;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.hub.TokenBatch;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * HF {@code pipeline("token-classification")} / {@code "ner"} ({@code TokenClassificationPipeline}): a label per
 * token, optionally merged into words and entities by {@code aggregation_strategy}, with character offsets into
 * the text. The post-processing is HF's, step by step, as pure functions ({@link #gatherPreEntities},
 * {@link #aggregate}, {@link #aggregateWords}, {@link #groupEntities}): a token is a sub-word when the tokenizer marks
 * continuations (WordPiece's {@code ##}) and its vocabulary string is longer than its text slice, else by HF's
 * fallback (no space before it). Texts longer than max_length are truncated (HF's {@code stride} chunking is not
 * offered).
 */
public final class TokenClassificationPipeline implements Pipeline<List<TokenClassificationPipeline.Entity>> {

    /** HF {@code AggregationStrategy}. */
    public enum AggregationStrategy {
        NONE,
        SIMPLE,
        FIRST,
        AVERAGE,
        MAX;

        public static AggregationStrategy parse(String name) {
            try {
                return valueOf(name.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        "aggregation_strategy '" + name + "' is not one of none, simple, first, average, max");
            }
        }
    }

    /**
     * One token before labelling (HF's pre-entity).
     *
     * @param word      the vocabulary string (e.g. {@code ##ing}); for the unknown token, the text slice
     * @param scores    softmax over labels
     * @param start     first character in the text (Java string index)
     * @param end       one past the last character
     * @param index     token position in the encoded input (special tokens counted)
     * @param isSubword whether the token continues the previous word
     */
    public record PreEntity(String word, double[] scores, int start, int end, int index, boolean isSubword) {}

    /**
     * One output entity. With aggregation {@code none}: a token, HF's {@code {entity, score, index, word, start, end}};
     * otherwise a group, HF's {@code {entity_group, score, word, start, end}} ({@code index} is -1).
     */
    public record Entity(String entity, double score, int index, String word, int start, int end) {
        public boolean grouped() {
            return index < 0;
        }
    }

    private final HfModel model;
    private final TextTokenizer tokenizer;
    private final PipelineOptions options;
    private final List<String> labels;
    private final AggregationStrategy strategy;
    private final boolean wordAware;
    private final Function<List<String>, String> tokensToString;
    private final long unkId;

    public TokenClassificationPipeline(HfModel model, PipelineOptions options) throws IOException {
        if (model.task() != Task.TOKEN_CLASSIFICATION) {
            throw new IllegalArgumentException(
                    "token-classification needs a token-classification model, got " + model.task());
        }
        this.labels = PipelineSupport.id2label(
                model.checkpoint(),
                model.checkpoint().config().path("num_labels").asInt(2));
        this.strategy = options.aggregationStrategy() == null
                ? AggregationStrategy.NONE
                : AggregationStrategy.parse(options.aggregationStrategy());
        this.tokenizer = Pipelines.tokenizer(model, options); // first: a damaged tokenizer.json fails with its name
        // HF: word-aware tokenizers are those whose model has a continuing_subword_prefix (WordPiece's "##")
        JsonNode tokenizerJson =
                Json.MAPPER.readTree(model.checkpoint().tokenizerJson().toFile());
        JsonNode prefix = tokenizerJson.path("model").path("continuing_subword_prefix");
        this.wordAware = prefix.isTextual() && !prefix.asText().isEmpty();
        this.tokensToString =
                tokensToString(tokenizerJson.path("decoder").path("type").asText(""));
        this.model = model;
        this.options = options;
        this.unkId = tokenizer.singleTokenId(tokenizer.config().unkToken());
    }

    @Override
    public String task() {
        return "token-classification";
    }

    @Override
    public PipelineOptions options() {
        return options;
    }

    public List<String> labels() {
        return labels;
    }

    @Override
    public String invalidReason(PipelineInput input, int row) {
        return PipelineSupport.textProblem(input.text(), "text", row);
    }

    /** Entities of each text. */
    public List<List<Entity>> recognize(List<String> texts) {
        return predict(PipelineInput.texts(texts));
    }

    @Override
    public List<List<Entity>> predictBatch(List<PipelineInput> inputs, int firstRow) {
        PipelineSupport.requireValid(this, inputs, firstRow);
        List<String> texts = inputs.stream().map(PipelineInput::text).toList();
        TokenBatch batch = tokenizer.encodeBatch(texts, null);
        List<List<Entity>> out = new ArrayList<>(texts.size());
        try (NDManager scope = model.manager().newSubManager()) {
            float[] logits = PipelineSupport.forward(model, scope, batch).head().toFloatArray(); // (B, T, C)
            int t = batch.seqLength();
            int c = labels.size();
            for (int row = 0; row < batch.batchSize(); row++) {
                Encoding enc = batch.encodings()[row];
                int n = batch.lengths()[row];
                double[][] scores = new double[n][];
                for (int tok = 0; tok < n; tok++) scores[tok] = PipelineSupport.softmax(logits, (row * t + tok) * c, c);
                String text = texts.get(row);
                List<PreEntity> pre = gatherPreEntities(
                        text,
                        enc.getTokens(),
                        enc.getIds(),
                        PipelineSupport.offsets(text, enc),
                        enc.getSpecialTokenMask(),
                        scores,
                        unkId,
                        wordAware);
                out.add(postprocess(pre, labels, strategy, options.ignoreLabels(), tokensToString));
            }
        }
        return out;
    }

    /**
     * HF's {@code convert_tokens_to_string} (the tokenizer's decoder applied to token strings) for the decoders of
     * BERT-family tokenizers: WordPiece, ByteLevel (RoBERTa) and Metaspace (SentencePiece); others concatenate.
     */
    static Function<List<String>, String> tokensToString(String decoderType) {
        return switch (decoderType) {
            case "WordPiece" -> TokenClassificationPipeline::wordPieceDecode;
            case "ByteLevel" -> TokenClassificationPipeline::byteLevelDecode;
            case "Metaspace" ->
                tokens -> {
                    String s = String.join("", tokens).replace('\u2581', ' ');
                    return s.startsWith(" ") ? s.substring(1) : s;
                };
            default -> tokens -> String.join("", tokens);
        };
    }

    /**
     * GPT-2's byte-level alphabet read back: each character stands for one byte of UTF-8. As the tokenizers library's
     * ByteLevel decoder, a token holding any character outside that alphabet (a word HF already decoded, such as
     * {@code " Müller"}, passed through again by {@code group_entities}) is taken as its own UTF-8 bytes, whole; the
     * bytes are then read leniently (an invalid sequence becomes U+FFFD, as HF's {@code "Zo�"}).
     */
    static String byteLevelDecode(List<String> tokens) {
        int[] charToByte = new int[512];
        Arrays.fill(charToByte, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            if (printable) charToByte[b] = b;
            else charToByte[256 + n++] = b;
        }
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        byte[] mapped = new byte[0];
        for (String t : tokens) {
            if (mapped.length < t.length()) mapped = new byte[t.length()];
            boolean inAlphabet = true;
            for (int i = 0; i < t.length() && inAlphabet; i++) {
                char ch = t.charAt(i);
                int b = ch < charToByte.length ? charToByte[ch] : -1;
                inAlphabet = b >= 0;
                mapped[i] = (byte) b;
            }
            if (inAlphabet) bytes.write(mapped, 0, t.length());
            else bytes.writeBytes(t.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        return bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * HF {@code gather_pre_entities}: drops special tokens and decides for each token whether it continues a word.
     *
     * @param offsets   per token {start, end} as Java string indices, null for special tokens
     * @param wordAware whether the tokenizer marks continuations (HF: its model has a continuing_subword_prefix)
     */
    public static List<PreEntity> gatherPreEntities(
            String text,
            String[] tokens,
            long[] ids,
            int[][] offsets,
            long[] specialTokensMask,
            double[][] scores,
            long unkId,
            boolean wordAware) {
        List<PreEntity> out = new ArrayList<>();
        for (int idx = 0; idx < scores.length; idx++) {
            if (specialTokensMask[idx] != 0) continue;
            String word = tokens[idx];
            int start = offsets[idx][0];
            int end = offsets[idx][1];
            String wordRef = text.substring(start, end);
            boolean isSubword = wordAware
                    ? word.length() != wordRef.length()
                    : start > 0
                            && !text.substring(start - 1, Math.min(text.length(), start + 1))
                                    .contains(" ");
            if (ids[idx] == unkId) {
                word = wordRef;
                isSubword = false;
            }
            out.add(new PreEntity(word, scores[idx], start, end, idx, isSubword));
        }
        return out;
    }

    /**
     * HF's {@code aggregate} then the {@code ignore_labels} filter: tokens labelled by argmax (none, simple), or
     * merged into words (first, average, max); then, for every strategy but none, adjacent entities grouped.
     *
     * @param tokensToString HF's {@code tokenizer.convert_tokens_to_string}, joining token strings into a word
     */
    public static List<Entity> postprocess(
            List<PreEntity> pre,
            List<String> labels,
            AggregationStrategy strategy,
            List<String> ignoreLabels,
            Function<List<String>, String> tokensToString) {
        List<Entity> entities = aggregate(pre, labels, strategy, tokensToString);
        List<Entity> kept = new ArrayList<>();
        for (Entity e : entities) if (!ignoreLabels.contains(e.entity())) kept.add(e);
        return kept;
    }

    /** HF {@code aggregate}. */
    public static List<Entity> aggregate(
            List<PreEntity> pre,
            List<String> labels,
            AggregationStrategy strategy,
            Function<List<String>, String> tokensToString) {
        List<Entity> entities;
        if (strategy == AggregationStrategy.NONE || strategy == AggregationStrategy.SIMPLE) {
            entities = new ArrayList<>();
            for (PreEntity p : pre) {
                int best = argmax(p.scores());
                entities.add(new Entity(labels.get(best), p.scores()[best], p.index(), p.word(), p.start(), p.end()));
            }
        } else {
            entities = aggregateWords(pre, labels, strategy, tokensToString);
        }
        return strategy == AggregationStrategy.NONE ? entities : groupEntities(entities, tokensToString);
    }

    /** HF {@code aggregate_words}: a word is a token and the sub-word tokens after it. */
    public static List<Entity> aggregateWords(
            List<PreEntity> pre,
            List<String> labels,
            AggregationStrategy strategy,
            Function<List<String>, String> tokensToString) {
        if (strategy == AggregationStrategy.NONE || strategy == AggregationStrategy.SIMPLE) {
            throw new IllegalArgumentException("NONE and SIMPLE strategies are invalid for word aggregation");
        }
        List<Entity> words = new ArrayList<>();
        List<PreEntity> group = new ArrayList<>();
        for (PreEntity p : pre) {
            if (!group.isEmpty() && !p.isSubword()) {
                words.add(aggregateWord(group, labels, strategy, tokensToString));
                group = new ArrayList<>();
            }
            group.add(p);
        }
        if (!group.isEmpty()) words.add(aggregateWord(group, labels, strategy, tokensToString));
        return words;
    }

    /** HF {@code aggregate_word}: first token's label, the most confident token's label, or the mean scores' argmax. */
    static Entity aggregateWord(
            List<PreEntity> tokens,
            List<String> labels,
            AggregationStrategy strategy,
            Function<List<String>, String> tokensToString) {
        String word = tokensToString.apply(tokens.stream().map(PreEntity::word).toList());
        double[] scores;
        switch (strategy) {
            case FIRST -> scores = tokens.get(0).scores();
            case MAX -> {
                PreEntity best = tokens.get(0);
                for (PreEntity p : tokens)
                    if (max(p.scores()) > max(best.scores())) best = p; // first of ties, as max()
                scores = best.scores();
            }
            case AVERAGE -> {
                scores = new double[tokens.get(0).scores().length];
                for (PreEntity p : tokens) for (int i = 0; i < scores.length; i++) scores[i] += p.scores()[i];
                for (int i = 0; i < scores.length; i++) scores[i] /= tokens.size();
            }
            default -> throw new IllegalArgumentException("invalid aggregation_strategy for words: " + strategy);
        }
        int best = argmax(scores);
        return new Entity(
                labels.get(best),
                scores[best],
                -1,
                word,
                tokens.get(0).start(),
                tokens.get(tokens.size() - 1).end());
    }

    /**
     * HF {@code group_entities}: consecutive entities with the same tag join a group unless the newcomer is a B-
     * (labels without a B-/I- prefix count as I-); a group takes the tag without its prefix and the mean score.
     */
    public static List<Entity> groupEntities(List<Entity> entities, Function<List<String>, String> tokensToString) {
        List<Entity> groups = new ArrayList<>();
        List<Entity> current = new ArrayList<>();
        for (Entity e : entities) {
            if (!current.isEmpty()) {
                String[] tag = tag(e.entity());
                String[] last = tag(current.get(current.size() - 1).entity());
                if (!(tag[1].equals(last[1]) && !tag[0].equals("B"))) {
                    groups.add(groupSubEntities(current, tokensToString));
                    current = new ArrayList<>();
                }
            }
            current.add(e);
        }
        if (!current.isEmpty()) groups.add(groupSubEntities(current, tokensToString));
        return groups;
    }

    private static Entity groupSubEntities(List<Entity> entities, Function<List<String>, String> tokensToString) {
        String label = entities.get(0).entity();
        int dash = label.indexOf('-');
        String group = dash < 0 ? label : label.substring(dash + 1);
        double mean = 0;
        for (Entity e : entities) mean += e.score();
        mean /= entities.size();
        return new Entity(
                group,
                mean,
                -1,
                tokensToString.apply(entities.stream().map(Entity::word).toList()),
                entities.get(0).start(),
                entities.get(entities.size() - 1).end());
    }

    /** HF {@code get_tag}: {B or I, tag}. */
    private static String[] tag(String label) {
        if (label.startsWith("B-")) return new String[] {"B", label.substring(2)};
        if (label.startsWith("I-")) return new String[] {"I", label.substring(2)};
        return new String[] {"I", label};
    }

    /**
     * The HF tokenizers WordPiece decoder ({@code convert_tokens_to_string} of BERT tokenizers): "##" pieces glued
     * to the previous token, a space before others, then its clean-up of spaces before punctuation and contractions.
     */
    public static String wordPieceDecode(List<String> tokens) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < tokens.size(); i++) {
            String t = tokens.get(i);
            if (i != 0) t = t.startsWith("##") ? t.substring(2) : " " + t;
            sb.append(cleanup(t));
        }
        return sb.toString();
    }

    private static String cleanup(String s) {
        return s.replace(" .", ".")
                .replace(" ?", "?")
                .replace(" !", "!")
                .replace(" ,", ",")
                .replace(" ' ", "'")
                .replace(" n't", "n't")
                .replace(" 'm", "'m")
                .replace(" do not", " don't")
                .replace(" 's", "'s")
                .replace(" 've", "'ve")
                .replace(" 're", "'re");
    }

    private static int argmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    private static double max(double[] v) {
        return Arrays.stream(v).max().orElseThrow();
    }

    @Override
    public JsonNode hfJson(List<Entity> entities) {
        ArrayNode arr = Json.MAPPER.createArrayNode();
        for (Entity e : entities) {
            ObjectNode o = arr.addObject();
            if (e.grouped()) {
                o.put("entity_group", e.entity()).put("score", e.score());
            } else {
                o.put("entity", e.entity()).put("score", e.score()).put("index", e.index());
            }
            o.put("word", e.word()).put("start", e.start()).put("end", e.end());
        }
        return arr;
    }

    @Override
    public void close() {
        tokenizer.close();
        model.close();
    }
}
