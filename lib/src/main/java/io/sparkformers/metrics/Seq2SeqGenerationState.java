package io.sparkformers.metrics;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What HF's summarization and translation scripts compute from generated texts ({@code predict_with_generate}):
 * {@link RougeState} with the Porter stemmer as {@code run_summarization.py} asks ({@code use_stemmer=True}: rouge1,
 * rouge2, rougeL, rougeLsum) and {@link BleuState} (bleu) over the same predictions, plus
 * {@code gen_len}, the mean generated length in tokens. Empty (no generated text) it computes nothing, as a
 * Seq2SeqTrainer evaluating without generation reports only its loss.
 */
public final class Seq2SeqGenerationState implements MetricState<Seq2SeqGenerationState> {
    private static final long serialVersionUID = 1L;

    private final RougeState rouge;
    private final BleuState bleu;
    private long texts;
    private long generatedTokens;

    public Seq2SeqGenerationState() {
        this(new RougeState(true), new BleuState(), 0, 0);
    }

    private Seq2SeqGenerationState(RougeState rouge, BleuState bleu, long texts, long generatedTokens) {
        this.rouge = rouge;
        this.bleu = bleu;
        this.texts = texts;
        this.generatedTokens = generatedTokens;
    }

    /** One generated text ({@code tokens} long, specials excluded) against its reference. */
    public Seq2SeqGenerationState add(String prediction, String reference, int tokens) {
        rouge.add(prediction, reference);
        bleu.add(prediction, reference);
        texts++;
        generatedTokens += tokens;
        return this;
    }

    @Override
    public Map<String, Double> compute() {
        Map<String, Double> out = new LinkedHashMap<>();
        if (texts == 0) return out;
        out.putAll(rouge.compute());
        out.put("bleu", bleu.compute().get("bleu"));
        out.put("gen_len", (double) generatedTokens / texts);
        return out;
    }

    @Override
    public Seq2SeqGenerationState merge(Seq2SeqGenerationState o) {
        return new Seq2SeqGenerationState(
                rouge.merge(o.rouge), bleu.merge(o.bleu), texts + o.texts, generatedTokens + o.generatedTokens);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Seq2SeqGenerationState s
                && s.texts == texts
                && s.generatedTokens == generatedTokens
                && s.rouge.equals(rouge)
                && s.bleu.equals(bleu);
    }

    @Override
    public int hashCode() {
        return Objects.hash(rouge, bleu, texts, generatedTokens);
    }

    @Override
    public String toString() {
        return "Seq2SeqGenerationState[texts=" + texts + "]";
    }
}
