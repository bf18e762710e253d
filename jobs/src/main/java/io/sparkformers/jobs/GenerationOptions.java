package io.sparkformers.jobs;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.pipeline.PipelineOptions;
import io.sparkformers.pipeline.Text2TextGenerationPipeline;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The HF {@code generate()} flags of {@code pipeline} and {@code predict}, declared once for the generation tasks
 * (text-generation, summarization, translation, translation_xx_to_yy, text2text-generation): kebab-case on the
 * command line, HF's names as YAML keys of {@code predict --config} ({@code --max-new-tokens} is
 * {@code max_new_tokens}). A flag given wins over the checkpoint's generation_config.json; one left out leaves it.
 */
public final class GenerationOptions {
    @Option(
            names = "--max-new-tokens",
            description = "Generation tasks: tokens to generate at most (default: the checkpoint's, else 256).")
    Integer maxNewTokens;

    @Option(names = "--do-sample", description = "Generation tasks: sample instead of greedy or beam decoding.")
    Boolean doSample;

    @Option(names = "--temperature", description = "Generation tasks: sampling temperature (> 0).")
    Double temperature;

    @Option(names = "--top-p", description = "Generation tasks: nucleus sampling mass in (0, 1].")
    Double topP;

    @Option(
            names = "--num-beams",
            description = "Generation tasks: beams of beam search (default: the checkpoint's; summarization and "
                    + "translation: 4, text-generation: 1).")
    Integer numBeams;

    @Option(
            names = "--num-return-sequences",
            description = "Generation tasks: texts per input (> 1: predict writes an array column).")
    Integer numReturnSequences;

    @Option(names = "--repetition-penalty", description = "Generation tasks: penalty on repeated tokens (> 0).")
    Double repetitionPenalty;

    @Option(
            names = {"--stop-strings", "--stop"},
            paramLabel = "TEXT",
            description = "Generation tasks: a stop string; repeat for several.")
    List<String> stopStrings;

    @Option(
            names = "--seed",
            description = "Generation tasks: sampling seed (default 0; predict mixes it with each row's text).")
    Long seed;

    @Option(
            names = "--return-full-text",
            negatable = true,
            description = "text-generation: the output starts with the prompt (default true, HF's).")
    Boolean returnFullText;

    /** Whether a task generates text, so that these flags apply to it (and --top-k is the sampling top_k). */
    static boolean appliesTo(String task) {
        return List.of("text-generation", "text2text-generation", "summarization", "translation")
                        .contains(task)
                || Text2TextGenerationPipeline.TRANSLATION_PAIR.matcher(task).matches();
    }

    /**
     * HF generate() keyword arguments of the flags given.
     *
     * @param topK {@code --top-k}, the sampling top_k here (null: not given; "all": 0, no cut)
     */
    ObjectNode kwargs(Integer topK) {
        ObjectNode k = Json.MAPPER.createObjectNode();
        if (maxNewTokens != null) k.put("max_new_tokens", maxNewTokens);
        if (doSample != null) k.put("do_sample", doSample);
        if (temperature != null) k.put("temperature", temperature);
        if (topK != null) k.put("top_k", topK == PipelineOptions.ALL ? 0 : topK);
        if (topP != null) k.put("top_p", topP);
        if (numBeams != null) k.put("num_beams", numBeams);
        if (numReturnSequences != null) k.put("num_return_sequences", numReturnSequences);
        if (repetitionPenalty != null) k.put("repetition_penalty", repetitionPenalty);
        if (stopStrings != null) stopStrings.forEach(k.withArray("stop_strings")::add);
        if (seed != null) k.put("seed", seed);
        if (returnFullText != null) k.put("return_full_text", returnFullText);
        return k;
    }
}
