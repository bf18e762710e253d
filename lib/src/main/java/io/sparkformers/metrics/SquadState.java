package io.sparkformers.metrics;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Extractive question answering metrics as the official SQuAD v1.1 evaluation script (and HF {@code evaluate}'s
 * "squad") computes them: answers are normalised (lower case, ASCII punctuation removed, articles a/an/the removed,
 * whitespace collapsed), exact match and bag-of-tokens F1 take the best over the gold answers, and both are reported
 * as percentages averaged over questions ({@code exact_match}, {@code f1}).
 */
public final class SquadState implements MetricState<SquadState> {
    private static final long serialVersionUID = 1L;

    /** Python's {@code string.punctuation}. */
    private static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    /** Python 3 {@code re} word boundaries are Unicode-aware; UNICODE_CHARACTER_CLASS makes Java's match. */
    private static final Pattern ARTICLES = Pattern.compile("\\b(a|an|the)\\b", Pattern.UNICODE_CHARACTER_CLASS);

    private long questions;
    private long exactMatches;
    private final ExactSum f1Sum;

    public SquadState() {
        this(0, 0, new ExactSum());
    }

    private SquadState(long questions, long exactMatches, ExactSum f1Sum) {
        this.questions = questions;
        this.exactMatches = exactMatches;
        this.f1Sum = f1Sum;
    }

    /** Scores one question: the predicted answer text against its gold answers (at least one). */
    public SquadState add(String prediction, List<String> goldAnswers) {
        if (goldAnswers.isEmpty()) throw new IllegalArgumentException("a question needs at least one gold answer");
        boolean em = false;
        double f1 = 0;
        for (String gold : goldAnswers) {
            em |= exactMatch(prediction, gold);
            f1 = Math.max(f1, f1(prediction, gold));
        }
        if (em) exactMatches++;
        f1Sum.add(f1);
        questions++;
        return this;
    }

    public long questions() {
        return questions;
    }

    /** exact_match and f1, both in percent (0–100) like the SQuAD script; NaN with no questions. */
    @Override
    public Map<String, Double> compute() {
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("exact_match", questions == 0 ? Double.NaN : 100.0 * exactMatches / questions);
        out.put("f1", questions == 0 ? Double.NaN : 100.0 * f1Sum.doubleValue() / questions);
        return out;
    }

    /** SQuAD v1.1 {@code normalize_answer}. */
    public static String normalize(String s) {
        String lower = s.toLowerCase(Locale.ROOT);
        StringBuilder noPunct = new StringBuilder(lower.length());
        for (int i = 0; i < lower.length(); i++) {
            char c = lower.charAt(i);
            if (PUNCTUATION.indexOf(c) < 0) noPunct.append(c);
        }
        String noArticles = ARTICLES.matcher(noPunct).replaceAll(" ");
        return String.join(" ", PythonStr.split(noArticles));
    }

    /** True when the normalised texts are equal. */
    public static boolean exactMatch(String prediction, String gold) {
        return normalize(prediction).equals(normalize(gold));
    }

    /** Token-overlap F1 of the normalised texts (SQuAD v1.1 {@code f1_score}); 0 when nothing is shared. */
    public static double f1(String prediction, String gold) {
        List<String> p = PythonStr.split(normalize(prediction));
        List<String> g = PythonStr.split(normalize(gold));
        Map<String, Integer> goldCounts = new HashMap<>();
        for (String t : g) goldCounts.merge(t, 1, Integer::sum);
        int same = 0;
        for (String t : p) { // multiset intersection, as Counter(p) & Counter(g)
            Integer left = goldCounts.get(t);
            if (left != null && left > 0) {
                same++;
                goldCounts.put(t, left - 1);
            }
        }
        if (same == 0) return 0.0;
        double precision = 1.0 * same / p.size();
        double recall = 1.0 * same / g.size();
        return (2 * precision * recall) / (precision + recall);
    }

    @Override
    public SquadState merge(SquadState o) {
        return new SquadState(questions + o.questions, exactMatches + o.exactMatches, f1Sum.plus(o.f1Sum));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SquadState s
                && s.questions == questions
                && s.exactMatches == exactMatches
                && s.f1Sum.equals(f1Sum);
    }

    @Override
    public int hashCode() {
        return Objects.hash(questions, exactMatches, f1Sum);
    }

    @Override
    public String toString() {
        return "SquadState[questions=" + questions + "]";
    }
}
