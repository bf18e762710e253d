package io.sparkformers.spark;

import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;

/**
 * HF {@code pipeline("summarization")} as a Spark stage, on an encoder-decoder checkpoint (BART, T5, Marian-shaped):
 * each row's text ({@code inputCol}) → its summary ({@code summary_text}, HF's output name; an {@code array<string>}
 * with {@code numReturnSequences > 1}). T5 checkpoints get their "summarize: " prefix and settings from the config's
 * {@code task_specific_params.summarization}. Generation Params: {@link GenerationStage}.
 */
public final class Summarizer extends EncoderDecoderStage<Summarizer> {
    private static final long serialVersionUID = 1L;

    public Summarizer(String uid) {
        super(uid, "summary_text");
    }

    public Summarizer() {
        this(Identifiable$.MODULE$.randomUID("summarizer"));
    }

    public static MLReader<Summarizer> read() {
        return StagePersistence.textReader(Summarizer.class);
    }

    public static Summarizer load(String path) {
        return read().load(path);
    }

    @Override
    public String pipelineTask() {
        return "summarization";
    }
}
