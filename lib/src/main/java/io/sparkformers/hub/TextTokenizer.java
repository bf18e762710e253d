package io.sparkformers.hub;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint's fast tokenizer ({@code tokenizer.json} through DJL's binding of the HF tokenizers library), set up as
 * HF pipelines use it: special tokens added, truncation to the model's maximum length, no padding per text — padding
 * happens per batch in {@link #encodeBatch}, to the longest row (dynamic padding). Thread-safe: the native tokenizer
 * is immutable once built.
 */
public final class TextTokenizer implements AutoCloseable {
    private final HuggingFaceTokenizer tokenizer;
    private final TokenizerConfig config;
    private final int maxLength;
    private final long padId;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, TokenizerConfig config, int maxLength) {
        this.tokenizer = tokenizer;
        this.config = config;
        this.maxLength = maxLength;
        this.padId = singleTokenId(config.padToken());
    }

    /**
     * Loads {@code tokenizer.json} truncating to {@code maxLength} tokens (special tokens included).
     *
     * @param maxLength tokens kept per text, at most the model's {@code max_position_embeddings}
     */
    public static TextTokenizer load(Path tokenizerJson, TokenizerConfig config, int maxLength) throws IOException {
        if (maxLength <= 0) throw new IllegalArgumentException("maxLength must be > 0, got " + maxLength);
        byte[] bytes = readCapped(tokenizerJson);
        requireValidJson(tokenizerJson, bytes);
        Map<String, String> options = Map.of(
                "addSpecialTokens",
                "true",
                "truncation",
                "true",
                "maxLength",
                String.valueOf(maxLength),
                "padding",
                "false");
        TokenizerJsonCheck.requireSafe(tokenizerJson, bytes, options); // a native panic would abort this JVM
        HuggingFaceTokenizer tok;
        try { // the bytes already read and checked: the native library parses them, not the file again
            tok = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(bytes), options);
        } catch (RuntimeException e) { // the native library names no file: say which and why
            throw unreadable(tokenizerJson, e);
        }
        try {
            return new TextTokenizer(tok, config, maxLength);
        } catch (RuntimeException e) { // e.g. a pad token the vocabulary does not hold
            tok.close();
            throw new IllegalArgumentException(tokenizerJson + ": " + e.getMessage(), e);
        }
    }

    /**
     * Most bytes a {@code tokenizer.json} may hold: the largest published ones (256k-token vocabularies with their
     * merges) are under 40 MB; the file is held in memory twice while the native library builds the tokenizer.
     */
    static final long MAX_TOKENIZER_JSON_BYTES = 1L << 30;

    private static byte[] readCapped(Path tokenizerJson) throws IOException {
        long size = java.nio.file.Files.isRegularFile(tokenizerJson) ? java.nio.file.Files.size(tokenizerJson) : 0;
        if (size > MAX_TOKENIZER_JSON_BYTES) {
            throw new IllegalArgumentException(tokenizerJson + " holds " + size + " bytes, more than a tokenizer.json "
                    + "may (" + MAX_TOKENIZER_JSON_BYTES + "): the path names the wrong file");
        }
        return java.nio.file.Files.readAllBytes(tokenizerJson);
    }

    /**
     * Refuses a {@code tokenizer.json} that is not valid JSON before the native library reads it: the tokenizers
     * library (0.21) panics on some syntax errors inside nested sections (a decoder's {@code "cleanup": tzue}, found
     * by fuzzing), and a Rust panic across the JNI boundary aborts the JVM instead of throwing.
     */
    private static void requireValidJson(Path tokenizerJson, byte[] bytes) throws IOException {
        try {
            requireTemplatesResolve(tokenizerJson, Json.MAPPER.readTree(bytes).path("post_processor"));
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw notJson(tokenizerJson, e.getOriginalMessage(), e);
        } catch (java.io.CharConversionException e) { // bytes in no JSON encoding (also found by fuzzing)
            throw notJson(tokenizerJson, e.getMessage(), e);
        }
    }

    /**
     * Every special token a {@code TemplateProcessing} post-processor (alone or inside a {@code Sequence}) places in
     * its templates must be in its {@code special_tokens}: the tokenizers library looks them up with an unchecked
     * {@code expect} when it encodes, a panic that aborts the JVM (found by fuzzing).
     */
    private static void requireTemplatesResolve(Path tokenizerJson, com.fasterxml.jackson.databind.JsonNode processor) {
        if (processor.path("type").asText().equals("Sequence")) {
            for (var p : processor.path("processors")) requireTemplatesResolve(tokenizerJson, p);
            return;
        }
        if (!processor.path("type").asText().equals("TemplateProcessing")) return;
        var specials = processor.path("special_tokens");
        for (String template : new String[] {"single", "pair"}) {
            for (var piece : processor.path(template)) {
                var special = piece.path("SpecialToken");
                if (special.isMissingNode()) continue;
                String id = special.path("id").asText(null);
                if (id == null || !specials.has(id)) {
                    throw new IllegalArgumentException(tokenizerJson + ": post_processor." + template
                            + " places special token '" + id + "' that post_processor.special_tokens does not define "
                            + specials.properties().stream() // Jackson 2.15 (Spark 3.5) has no propertyStream
                                    .map(java.util.Map.Entry::getKey)
                                    .toList()
                            + ": the file is corrupt or hand-edited; save it again with tokenizer.save_pretrained");
                }
            }
        }
    }

    private static IllegalArgumentException notJson(Path tokenizerJson, String why, Exception e) {
        return new IllegalArgumentException(
                tokenizerJson + " is not valid JSON (" + why + "): the file is truncated or corrupt; download it "
                        + "again or save it again with tokenizer.save_pretrained",
                e);
    }

    /**
     * Why the tokenizers library refused a {@code tokenizer.json}, with the file and the fix. It is valid JSON by then
     * ({@link #requireValidJson} parsed the same bytes), so it is a file the library cannot read.
     */
    static IllegalArgumentException unreadable(Path tokenizerJson, RuntimeException e) {
        String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return new IllegalArgumentException(
                tokenizerJson + " is not a tokenizer the HF tokenizers library can read (" + why + "): it may come "
                        + "from a newer tokenizers version or another library; save it again with a fast tokenizer's "
                        + "save_pretrained",
                e);
    }

    /** Loads a checkpoint's tokenizer with the smaller of its {@code model_max_length} and {@code limit}. */
    public static TextTokenizer load(HfCheckpoint checkpoint, int limit) throws IOException {
        return load(
                checkpoint.tokenizerJson(),
                checkpoint.tokenizerConfig(),
                Math.min(limit, checkpoint.tokenizerConfig().modelMaxLength()));
    }

    public int maxLength() {
        return maxLength;
    }

    public TokenizerConfig config() {
        return config;
    }

    public long padTokenId() {
        return padId;
    }

    /** The id of a token that the vocabulary holds whole (a special token such as {@code [MASK]}). */
    public long singleTokenId(String token) {
        long[] ids = tokenizer.encode(token, false, false).getIds();
        if (ids.length != 1) {
            throw new IllegalArgumentException("'" + token + "' is not a single token of this tokenizer (it encodes to "
                    + ids.length + " tokens)");
        }
        return ids[0];
    }

    public Encoding encode(String text) {
        return tokenizer.encode(text);
    }

    /**
     * A text pair, truncated longest-first to {@link #maxLength} as HF does. The tokenizers library builds the
     * overflow of a truncated pair for every combination of both segments' windows, so its memory grows with the
     * product of their lengths (two 64 KB texts: 700 MB; two 1 MB texts got a JVM killed at 20 GB). When both
     * segments exceed 2 × maxLength tokens, each is therefore first cut after 2 × maxLength of its own tokens (one more
     * for the strictly longer one): longest-first keeps at most maxLength tokens of each and decides only by which
     * segment is longer, so the result is that of the whole texts (only a single word longer than maxLength tokens,
     * straddling a cut, could tokenize otherwise). Costs one linear single-segment encode per long segment.
     */
    public Encoding encode(String text, String pair) {
        if (text == null || pair == null || text.length() <= maxLength || pair.length() <= maxLength) {
            return tokenizer.encode(text, pair);
        }
        Encoding a = tokenizer.encode(text, false, true);
        Encoding b = tokenizer.encode(pair, false, true);
        long na = tokenCount(a);
        long nb = tokenCount(b);
        int keep = 2 * maxLength;
        if (na <= keep || nb <= keep) {
            return tokenizer.encode(text, pair); // one segment has at most 2 windows: linear already
        }
        return tokenizer.encode(cut(text, a, na > nb ? keep + 1 : keep), cut(pair, b, nb > na ? keep + 1 : keep));
    }

    /** Tokens of a truncated single-segment encoding, its overflowing windows included. */
    private static long tokenCount(Encoding e) {
        long n = e.getIds().length;
        Encoding[] windows = e.getOverflowing();
        if (windows != null) {
            for (Encoding w : windows) n += w.getIds().length;
        }
        return n;
    }

    /** {@code text} up to the end of its first {@code tokens} tokens ({@code e}: its windows of maxLength tokens). */
    private String cut(String text, Encoding e, int tokens) {
        int last = tokens - 1;
        Encoding window = e;
        if (last >= e.getIds().length) {
            last -= e.getIds().length;
            for (Encoding w : e.getOverflowing()) {
                window = w;
                if (last < w.getIds().length) break;
                last -= w.getIds().length;
            }
        }
        var span = window.getCharTokenSpans()[last];
        int endCodePoint = span.getEnd(); // the tokenizers library counts code points
        return text.substring(0, text.offsetByCodePoints(0, endCodePoint));
    }

    /**
     * Encodes text that is already split into words (HF {@code is_split_into_words=True}): the encoding's word ids
     * index {@code words}, as token-classification labels need.
     */
    public Encoding encodeWords(String[] words) {
        return tokenizer.encode(words);
    }

    /**
     * Ids back to text, as HF's {@code tokenizer.decode}: the tokenizers library decodes token by token, then
     * transformers applies {@code clean_up_tokenization} to the whole string when the tokenizer config asks for it
     * ({@code clean_up_tokenization_spaces}, default true) — so "i ' m" becomes "i'm" as in Python.
     */
    public String decode(long[] ids, boolean skipSpecialTokens) {
        String text = tokenizer.decode(ids, skipSpecialTokens);
        return config.cleanUpTokenizationSpaces() ? cleanUpTokenization(text) : text;
    }

    /** transformers' {@code PreTrainedTokenizerBase.clean_up_tokenization}, same replacements in the same order. */
    static String cleanUpTokenization(String s) {
        return s.replace(" .", ".")
                .replace(" ?", "?")
                .replace(" !", "!")
                .replace(" ,", ",")
                .replace(" ' ", "'")
                .replace(" n't", "n't")
                .replace(" 'm", "'m")
                .replace(" 's", "'s")
                .replace(" 've", "'ve")
                .replace(" 're", "'re");
    }

    /** The vocabulary entry of one id, as it appears in the vocabulary (e.g. {@code ##ing}). */
    public String idToToken(long id) {
        return tokenizer.decode(new long[] {id}, false);
    }

    /**
     * Encodes texts (and optional second segments) into one padded batch.
     *
     * @param pairs null, or one second segment per text
     */
    public TokenBatch encodeBatch(List<String> texts, List<String> pairs) {
        if (pairs != null && pairs.size() != texts.size()) {
            throw new IllegalArgumentException(texts.size() + " texts but " + pairs.size() + " text pairs");
        }
        Encoding[] enc = new Encoding[texts.size()];
        for (int i = 0; i < enc.length; i++) {
            enc[i] = pairs == null ? tokenizer.encode(texts.get(i)) : encode(texts.get(i), pairs.get(i));
        }
        return TokenBatch.pad(enc, padId);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
