package io.sparkformers.spark;

import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;

/**
 * HF {@code pipeline("text2text-generation")} as a Spark stage, on an encoder-decoder checkpoint (BART, T5, Marian):
 * each row's text ({@code inputCol}, with the config's {@code prefix} if any; write T5's task prefix such as
 * "question: " into the text) → {@code generated_text} (an {@code array<string>} with
 * {@code numReturnSequences > 1}). Generation Params: {@link GenerationStage}.
 */
public final class Text2TextGenerator extends EncoderDecoderStage<Text2TextGenerator> {
    private static final long serialVersionUID = 1L;

    public Text2TextGenerator(String uid) {
        super(uid, "generated_text");
    }

    public Text2TextGenerator() {
        this(Identifiable$.MODULE$.randomUID("text2text"));
    }

    public static MLReader<Text2TextGenerator> read() {
        return StagePersistence.textReader(Text2TextGenerator.class);
    }

    public static Text2TextGenerator load(String path) {
        return read().load(path);
    }

    @Override
    public String pipelineTask() {
        return "text2text-generation";
    }
}
