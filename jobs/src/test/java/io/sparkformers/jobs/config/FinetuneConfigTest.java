package io.sparkformers.jobs.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.train.TrainingArguments;
import io.sparkformers.train.TransferMode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The finetune YAML format: unknown keys refused with the shared did-you-mean, HF training arguments by name. */
class FinetuneConfigTest {

    @Test
    void finetuneConfigRejectsUnknownKeysWithDidYouMean() {
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> FinetuneConfig.fromMap(
                        Map.of(
                                "model",
                                "m",
                                "mdoe",
                                "fine_tune",
                                "data",
                                Map.of("train", "x.csv", "text_coll", "t"),
                                "training",
                                Map.of("output_dir", "o", "learnig_rate", 1e-4)),
                        Map.of()));
        String msg = e.getMessage();
        assertTrue(msg.contains("unknown key 'mdoe': did you mean mode?"), msg);
        assertTrue(msg.contains("unknown key 'data.text_coll': did you mean data.text_col?"), msg);
        assertTrue(msg.contains("did you mean learning_rate?"), msg);
        var set = assertThrows(
                IllegalArgumentException.class,
                () -> FinetuneConfig.fromMap(
                        Map.of("model", "m", "data", Map.of("train", "x.csv"), "training", Map.of("output_dir", "o")),
                        Map.of("data.limt", "5")));
        assertTrue(set.getMessage().contains("did you mean data.limit?"), set.getMessage());
        FinetuneConfig ok = FinetuneConfig.fromMap(
                Map.of("model", "m", "data", Map.of("train", "spam-assassin"), "training", Map.of("output_dir", "o")),
                Map.of("training.learning_rate", "1e-4", "mode", "feature_extraction"));
        assertEquals(1e-4, ok.training().learningRate());
        assertEquals(TransferMode.Kind.FEATURE_EXTRACTION, ok.mode().kind());
        assertEquals("spam-assassin", ok.data().eval());
    }

    @Test
    void languageModelAndQuestionAnsweringTasksReadTheirObjectiveSection() {
        FinetuneConfig clm = FinetuneConfig.fromMap(
                Map.of(
                        "model",
                        "m",
                        "task",
                        "causal-lm",
                        "objective",
                        Map.of("group_texts", true, "from_scratch", true),
                        "data",
                        Map.of("train", "x.txt", "format", "csv"),
                        "training",
                        Map.of("output_dir", "o")),
                Map.of());
        assertEquals(io.sparkformers.nn.Task.CAUSAL_LM, clm.task());
        assertTrue(clm.objective().groupTexts() && clm.objective().fromScratch());
        FinetuneConfig qa = FinetuneConfig.fromMap(
                Map.of(
                        "model",
                        "m",
                        "task",
                        "question-answering",
                        "data",
                        Map.of("train", "x.csv"),
                        "training",
                        Map.of("output_dir", "o")),
                Map.of("objective.doc_stride", "64"));
        assertEquals(io.sparkformers.nn.Task.QUESTION_ANSWERING, qa.task());
        assertEquals(64, qa.objective().docStride());
        assertEquals(30, qa.objective().maxAnswerLength());
        assertEquals(
                io.sparkformers.nn.Task.MASKED_LM,
                FinetuneConfig.fromMap(
                                Map.of(
                                        "model",
                                        "m",
                                        "task",
                                        "masked-lm",
                                        "data",
                                        Map.of("train", "x.csv"),
                                        "training",
                                        Map.of("output_dir", "o")),
                                Map.of())
                        .task());
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> FinetuneConfig.fromMap(
                        Map.of(
                                "model",
                                "m",
                                "task",
                                "masked-lm",
                                "objective",
                                Map.of("mlm_probabilty", 0.2, "instruction", true),
                                "data",
                                Map.of("train", "x.csv"),
                                "training",
                                Map.of("output_dir", "o")),
                        Map.of()));
        assertTrue(
                e.getMessage()
                        .contains(
                                "unknown key 'objective.mlm_probabilty': did you mean " + "objective.mlm_probability?"),
                e.getMessage());
        assertTrue(e.getMessage()
                .contains("objective.instruction, objective.chat and objective.from_scratch apply to causal-lm only"));
    }

    @Test
    void trainingSectionLoadsFromYamlIncludingExponentsWithoutADot() throws Exception {
        String yaml = """
                output_dir: /tmp/run
                learning_rate: 3e-5
                num_train_epochs: 2
                eval_strategy: steps
                eval_steps: 100
                save_steps: 200
                load_best_model_at_end: true
                metric_for_best_model: accuracy
                save_total_limit: 1
                report_to: none
                resume_from_checkpoint: true
                """;
        TrainingArguments a = TrainingArguments.fromMap(YamlMappings.read(yaml));
        assertEquals(3e-5, a.learningRate()); // YAML 1.1 reads 3e-5 as a string; we parse it
        assertEquals(2.0, a.numTrainEpochs());
        assertEquals(100.0, a.evalSteps());
        assertEquals(1, a.saveTotalLimit());
        assertEquals("eval_accuracy", a.bestMetricKey());
        assertEquals(List.of(), a.reportTo());
        assertTrue(a.resumeFromLatest());
    }
}
