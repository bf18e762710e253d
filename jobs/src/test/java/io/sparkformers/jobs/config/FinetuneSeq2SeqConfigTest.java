package io.sparkformers.jobs.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.nn.Task;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The seq2seq task names of a finetune config and their objective keys. */
class FinetuneSeq2SeqConfigTest {

    @Test
    void summarizationTranslationAndText2TextAreSeq2SeqWithTheirObjectiveKeys() {
        for (String name : new String[] {"summarization", "translation", "text2text-generation"}) {
            FinetuneConfig c = FinetuneConfig.fromMap(
                    Map.of(
                            "model", "m",
                            "task", name,
                            "objective",
                                    Map.of(
                                            "predict_with_generate",
                                            true,
                                            "max_target_length",
                                            32,
                                            "source_prefix",
                                            "summarize: ",
                                            "generation_num_beams",
                                            4),
                            "data", Map.of("train", "x.csv", "text_col", "body", "text_pair_col", "subject"),
                            "training", Map.of("output_dir", "o")),
                    Map.of());
            assertEquals(Task.SEQ2SEQ_LM, c.task(), name);
            assertTrue(c.objective().predictWithGenerate());
            assertEquals(32, c.objective().maxTargetLength());
            assertEquals("summarize: ", c.objective().sourcePrefix());
            assertEquals(4, c.objective().generationNumBeams());
            assertEquals(128, c.objective().generationMaxLength());
        }
        assertFalse(FinetuneConfig.Objective.DEFAULTS.predictWithGenerate());
    }

    @Test
    void aSeq2SeqTaskWithoutATargetColumnOrWithBadLengthsIsRefused() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> FinetuneConfig.fromMap(
                        Map.of(
                                "model", "m",
                                "task", "summarization",
                                "objective", Map.of("generation_num_beams", 0),
                                "data", Map.of("train", "x.csv"),
                                "training", Map.of("output_dir", "o")),
                        Map.of()));
        assertTrue(e.getMessage().contains("needs data.text_pair_col"), e.getMessage());
        assertTrue(e.getMessage().contains("objective.generation_num_beams must be > 0"), e.getMessage());
    }
}
