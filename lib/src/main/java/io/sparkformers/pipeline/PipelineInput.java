package io.sparkformers.pipeline;

import java.util.ArrayList;
import java.util.List;

/**
 * One row of pipeline input, the fields HF {@code pipeline()} accepts: a text (with an optional second segment,
 * HF's {@code {"text": …, "text_pair": …}}) or a question with its context (question answering). Each task reads
 * the fields it needs and reports the ones that are missing.
 *
 * @param text     the text to process (every task except question answering)
 * @param textPair second segment for text classification (HF {@code text_pair}), or null
 * @param question question answering: the question
 * @param context  question answering: the text holding the answer
 */
public record PipelineInput(String text, String textPair, String question, String context) {

    public static PipelineInput of(String text) {
        return new PipelineInput(text, null, null, null);
    }

    public static PipelineInput pair(String text, String textPair) {
        return new PipelineInput(text, textPair, null, null);
    }

    public static PipelineInput qa(String question, String context) {
        return new PipelineInput(null, null, question, context);
    }

    /** One input per text. */
    public static List<PipelineInput> texts(List<String> texts) {
        List<PipelineInput> out = new ArrayList<>(texts.size());
        for (String t : texts) out.add(of(t));
        return out;
    }
}
