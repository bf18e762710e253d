package io.sparkformers.pipeline;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.sparkformers.hub.Json;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * HF {@code pipeline("question-answering")} ({@code QuestionAnsweringPipeline}, fast-tokenizer path, transformers
 * 4.57): a question and a context → the most likely answer spans of the context. A long context is cut into windows
 * of {@code max_seq_len} tokens ([CLS] question [SEP] context [SEP]; only the context is cut) that overlap by
 * {@code doc_stride} tokens. Each window offers its {@code top_k * 2 + 10} best spans, decoded by HF's
 * {@code select_starts_ends} + {@code decode_spans} ({@link #selectSpans}): question and special tokens masked out,
 * start and end softmaxed per window, a span's score is start probability × end probability with
 * start ≤ end < start + max_answer_len. Spans are widened to whole words (HF's default {@code align_to_words}) and
 * merged as HF does ({@link #merge}): spans of any window whose text is equal ignoring case are one answer with the
 * summed score and the first one's offsets. The {@code top_k} best answers over all windows are returned.
 * Like HF, a question is never truncated, and a context that needs cutting is refused when the question leaves no
 * more than {@code doc_stride} context tokens per window (HF's tokenizer panics there). Unlike HF, a question over
 * {@code max_question_len} tokens is refused up front (HF's fast path ignores that option).
 */
public final class QuestionAnsweringPipeline implements Pipeline<List<QuestionAnsweringPipeline.Answer>> {

    /** HF's {@code {score, start, end, answer}}; start/end are Java string indices into the context. */
    public record Answer(double score, int start, int end, String answer) {}

    /** A token span of one window and its score. */
    public record Span(int start, int end, double score) {}

    /**
     * What one window offers.
     *
     * @param spans     the best spans, best first
     * @param nullScore the "no answer" score, start probability × end probability of the first token ([CLS])
     */
    public record WindowSpans(List<Span> spans, double nullScore) {}

    private final HfModel model;
    private final HuggingFaceTokenizer windows;
    /** Counts tokens of a whole text (no special tokens, no truncation). */
    private final HuggingFaceTokenizer counter;

    private final TextTokenizer tokenizer;
    private final PipelineOptions options;
    private final int maxSeqLen;
    private final int docStride;
    private final int pairSpecialTokens;
    private final long clsId;

    public QuestionAnsweringPipeline(HfModel model, PipelineOptions options) throws IOException {
        if (model.task() != Task.QUESTION_ANSWERING) {
            throw new IllegalArgumentException(
                    "question-answering needs a question-answering model, got " + model.task());
        }
        int limit = Pipelines.maxLength(model.checkpoint(), options);
        this.maxSeqLen = options.maxSeqLen() == null ? Math.min(limit, 384) : options.maxSeqLen();
        if (maxSeqLen > limit) {
            throw new IllegalArgumentException(
                    "max_seq_len " + maxSeqLen + " exceeds the model's limit of " + limit + " tokens");
        }
        this.docStride = options.docStride() == null ? Math.min(maxSeqLen / 2, 128) : options.docStride();
        if (docStride > maxSeqLen) {
            throw new IllegalArgumentException(
                    "doc_stride (" + docStride + ") is larger than max_seq_len (" + maxSeqLen + "); lower doc_stride");
        }
        this.model = model;
        this.options = options;
        this.tokenizer = Pipelines.tokenizer(model, options);
        // HF: text=question, text_pair=context, truncation="only_second", stride=doc_stride, overflowing windows
        this.windows = HuggingFaceTokenizer.builder()
                .optTokenizerPath(model.checkpoint().tokenizerJson())
                .optAddSpecialTokens(true)
                .optTruncateSecondOnly()
                .optMaxLength(maxSeqLen)
                .optStride(docStride)
                .optWithOverflowingTokens(true)
                .optPadding(false)
                .build();
        this.counter = HuggingFaceTokenizer.builder()
                .optTokenizerPath(model.checkpoint().tokenizerJson())
                .optAddSpecialTokens(false)
                .optTruncation(false)
                .optPadding(false)
                .build();
        this.pairSpecialTokens = windows.encode("", "", true, false).getIds().length;
        this.clsId = tokenizer.singleTokenId(tokenizer.config().clsToken());
    }

    @Override
    public String task() {
        return "question-answering";
    }

    @Override
    public PipelineOptions options() {
        return options;
    }

    public int maxSeqLen() {
        return maxSeqLen;
    }

    public int docStride() {
        return docStride;
    }

    @Override
    public String invalidReason(PipelineInput input, int row) {
        String p = PipelineSupport.textProblem(input.question(), "question", row);
        if (p == null) p = PipelineSupport.textProblem(input.context(), "context", row);
        if (p != null) return p + "; question-answering needs a question and a context";
        int q = counter.encode(input.question()).getIds().length;
        if (q > options.maxQuestionLen()) {
            return "row " + row + ": the question has " + q + " tokens, more than max_question_len ("
                    + options.maxQuestionLen() + "); shorten it or raise max_question_len";
        }
        int room = maxSeqLen - q - pairSpecialTokens;
        if (room <= docStride
                && q + pairSpecialTokens + counter.encode(input.context()).getIds().length > maxSeqLen) {
            return "row " + row + ": a " + q + "-token question leaves " + Math.max(0, room)
                    + " context tokens per window, not more than doc_stride (" + docStride
                    + "), and the context needs several windows; shorten the question, raise max_seq_len or lower "
                    + "doc_stride";
        }
        return null;
    }

    /** The answers to each (question, context). */
    public List<List<Answer>> answer(List<String> questions, List<String> contexts) {
        if (questions.size() != contexts.size()) {
            throw new IllegalArgumentException(questions.size() + " questions but " + contexts.size() + " contexts");
        }
        List<PipelineInput> in = new ArrayList<>();
        for (int i = 0; i < questions.size(); i++) in.add(PipelineInput.qa(questions.get(i), contexts.get(i)));
        return predict(in);
    }

    private record Window(int row, Encoding enc, int[][] offsets) {}

    @Override
    public List<List<Answer>> predictBatch(List<PipelineInput> inputs, int firstRow) {
        PipelineSupport.requireValid(this, inputs, firstRow);
        List<Window> all = new ArrayList<>();
        for (int row = 0; row < inputs.size(); row++) {
            PipelineInput in = inputs.get(row);
            Encoding main = windows.encode(in.question(), in.context(), true, true);
            List<Encoding> encs = new ArrayList<>();
            encs.add(main);
            encs.addAll(Arrays.asList(main.getOverflowing()));
            for (Encoding e : encs) all.add(new Window(row, e, PipelineSupport.offsets(in.context(), e)));
        }
        int topK = options.topK() == null ? 1 : options.topK();
        // HF: with align_to_words each window offers top_k * 2 + 10 spans, since word alignment makes some equal
        int perWindow = (int) Math.min(Integer.MAX_VALUE, 2L * topK + 10);
        List<List<Answer>> answers = new ArrayList<>();
        List<Map<String, Integer>> byText = new ArrayList<>();
        double[] minNull = new double[inputs.size()];
        for (int row = 0; row < inputs.size(); row++) {
            answers.add(new ArrayList<>());
            byText.add(new HashMap<>());
            minNull[row] = 1_000_000; // HF's "large and positive" start value
        }
        int size = options.batchSize();
        for (int from = 0; from < all.size(); from += size) {
            List<Window> chunk = all.subList(from, Math.min(all.size(), from + size));
            float[][][] startEnd = forward(chunk);
            for (int w = 0; w < chunk.size(); w++) {
                Window win = chunk.get(w);
                int[] pMask = pMask(win.enc(), clsId);
                WindowSpans spans =
                        selectSpans(startEnd[0][w], startEnd[1][w], pMask, perWindow, options.maxAnswerLen());
                minNull[win.row()] = Math.min(minNull[win.row()], spans.nullScore());
                String context = inputs.get(win.row()).context();
                for (Span s : spans.spans()) {
                    int[] chars = wordChars(win.enc(), win.offsets(), s.start(), s.end());
                    merge(answers.get(win.row()), byText.get(win.row()), s.score(), chars[0], chars[1], context);
                }
            }
        }
        List<List<Answer>> out = new ArrayList<>(inputs.size());
        for (int row = 0; row < inputs.size(); row++) {
            List<Answer> a = answers.get(row);
            if (options.handleImpossibleAnswer()) a.add(new Answer(minNull[row], 0, 0, ""));
            a.sort(Comparator.comparingDouble((Answer x) -> -x.score())); // stable, as Python's sorted
            out.add(List.copyOf(a.subList(0, Math.min(topK, a.size()))));
        }
        return out;
    }

    /**
     * HF's merge of a span into the answers so far (of all windows of one input): a span whose text equals an
     * earlier answer's, ignoring case, adds its score to that answer, which keeps its place and offsets (even when
     * the text occurs elsewhere in the context); otherwise it is a new answer. The same words found in two
     * overlapping windows, or two token spans widened to the same words, are thus one answer with the summed score.
     * A span that ends before it starts (HF keeps such score-0 cells when a window has few candidates) answers "".
     *
     * @param byText the index in {@code answers} of each answer's lower-cased text
     */
    static void merge(
            List<Answer> answers, Map<String, Integer> byText, double score, int start, int end, String context) {
        String text = start < end ? context.substring(start, end) : "";
        Integer i = byText.putIfAbsent(text.toLowerCase(Locale.ROOT), answers.size());
        if (i == null) {
            answers.add(new Answer(score, start, end, text));
        } else {
            Answer a = answers.get(i);
            answers.set(i, new Answer(a.score() + score, a.start(), a.end(), a.answer()));
        }
    }

    /** Start and end logits of each window, (2, windows, its own length). */
    private float[][][] forward(List<Window> chunk) {
        int b = chunk.size();
        float[][][] out = new float[2][b][];
        try (NDManager scope = model.manager().newSubManager()) {
            NDList logits = PipelineSupport.forward(
                    model, scope, chunk.stream().map(Window::enc).toList(), tokenizer.padTokenId());
            int t = (int) logits.get(0).getShape().get(1);
            float[] start = logits.get(0).toFloatArray(); // (B, T)
            float[] end = logits.get(1).toFloatArray(); // (B, T)
            for (int i = 0; i < b; i++) {
                int n = chunk.get(i).enc().getIds().length;
                out[0][i] = Arrays.copyOfRange(start, i * t, i * t + n);
                out[1][i] = Arrays.copyOfRange(end, i * t, i * t + n);
            }
        }
        return out;
    }

    /** HF's {@code p_mask}: 1 for tokens that cannot be part of an answer (all but the context), 0 for [CLS]. */
    static int[] pMask(Encoding enc, long clsId) {
        long[] seq = enc.getSequenceIds();
        long[] ids = enc.getIds();
        int[] p = new int[seq.length];
        for (int i = 0; i < p.length; i++) p[i] = seq[i] == 1 || ids[i] == clsId ? 0 : 1;
        return p;
    }

    /**
     * HF {@code select_starts_ends} + {@code decode_spans} for one window (no padding): tokens with p_mask 1 get
     * logit -10000; start and end logits are softmaxed; the null score is taken from token 0, then token 0 is
     * zeroed; span scores are the outer product kept where start ≤ end ≤ start + max_answer_len - 1; the
     * {@code topK} best (ties: lower start, then lower end) are kept if both ends may be part of an answer.
     */
    public static WindowSpans selectSpans(
            float[] startLogits, float[] endLogits, int[] pMask, int topK, int maxAnswerLen) {
        int n = startLogits.length;
        double[] start = new double[n];
        double[] end = new double[n];
        for (int i = 0; i < n; i++) {
            start[i] = pMask[i] == 1 ? -10000.0 : startLogits[i];
            end[i] = pMask[i] == 1 ? -10000.0 : endLogits[i];
        }
        start = PipelineSupport.softmax(start);
        end = PipelineSupport.softmax(end);
        double nullScore = start[0] * end[0];
        start[0] = 0;
        end[0] = 0;
        // the band start <= end <= start + max_answer_len - 1 of the (n, n) outer product, in HF's flattened
        // (row-major) order; cells outside it score 0 in HF and can only be picked when fewer than top_k are left
        List<Span> band = new ArrayList<>();
        for (int s = 0; s < n; s++) {
            for (int e = s; e < Math.min(n, s + maxAnswerLen); e++) band.add(new Span(s, e, start[s] * end[e]));
        }
        band.sort(Comparator.comparingDouble((Span x) -> -x.score())); // stable: ties in flattened order
        List<Span> spans = new ArrayList<>();
        for (Span c : band.subList(0, Math.min(topK, band.size()))) {
            // HF keeps a span when both ends are answer tokens; index 0 always passes (a quirk of np.isin on the
            // (1, T) mask's row indices), and its score is 0 after the [CLS] zeroing
            if ((pMask[c.start()] == 0 || c.start() == 0) && (pMask[c.end()] == 0 || c.end() == 0)) spans.add(c);
        }
        return new WindowSpans(spans, nullScore);
    }

    /**
     * HF {@code get_indices} with {@code align_to_words}: the characters from the start of the word holding token
     * {@code s} to the end of the word holding token {@code e}, within the context; tokens outside any word (special
     * tokens) fall back to their own offsets, (0, 0) when they have none.
     */
    static int[] wordChars(Encoding enc, int[][] offsets, int s, int e) {
        long[] words = enc.getWordIds();
        long[] seq = enc.getSequenceIds();
        if (words[s] < 0 || words[e] < 0 || seq[s] != 1 || seq[e] != 1) {
            return new int[] {offsets[s] == null ? 0 : offsets[s][0], offsets[e] == null ? 0 : offsets[e][1]};
        }
        int start = Integer.MAX_VALUE;
        int end = 0;
        for (int i = 0; i < words.length; i++) {
            if (seq[i] != 1) continue;
            if (words[i] == words[s]) start = Math.min(start, offsets[i][0]);
            if (words[i] == words[e]) end = Math.max(end, offsets[i][1]);
        }
        return new int[] {start, end};
    }

    /** HF: a single answer as an object, several as a list. */
    @Override
    public JsonNode hfJson(List<Answer> answers) {
        if (answers.size() == 1) return answerJson(answers.get(0));
        ArrayNode arr = Json.MAPPER.createArrayNode();
        for (Answer a : answers) arr.add(answerJson(a));
        return arr;
    }

    private static JsonNode answerJson(Answer a) {
        return Json.MAPPER
                .createObjectNode()
                .put("score", a.score())
                .put("start", a.start())
                .put("end", a.end())
                .put("answer", a.answer());
    }

    @Override
    public void close() {
        windows.close();
        counter.close();
        tokenizer.close();
        model.close();
    }
}
