package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.hub.HfCheckpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Question-answering fine-tuning through the one Trainer on questions made from a real text (the Apache License's
 * definitions, {@link RealText#definitionQuestions}): windows with doc stride, start/end loss, SQuAD EM/F1 rising. The
 * tiny model starts random, so it learns these questions by heart: the evaluation is on the training questions.
 */
class QuestionAnsweringTrainingTest {

    static TextDataset definitions() throws IOException {
        List<String> q = new ArrayList<>();
        List<String> c = new ArrayList<>();
        List<String> a = new ArrayList<>();
        for (String[] row : RealText.definitionQuestions()) {
            q.add(row[0]);
            c.add(row[1]);
            a.add(row[2]);
        }
        return TextDataset.of("Apache License 2.0 definitions (" + q.size() + " questions)", q, c, a);
    }

    @Test
    void fineTuningRaisesExactMatchAndF1(@TempDir Path tmp) throws IOException {
        Path tiny = TinyBert.create(tmp.resolve("tiny"), false);
        TextDataset data = definitions();
        assertEquals(10, data.size(), "the license has 10 definitions");
        TrainingArguments args = TrainingArguments.builder(tmp.resolve("out").toString())
                .perDeviceTrainBatchSize(4)
                .learningRate(3e-3)
                .warmupSteps(5)
                .maxSteps(60)
                .loggingSteps(20)
                .evalStrategy("no")
                .saveStrategy("no")
                .seed(42)
                .build();
        Trainer.TrainOutput r = Trainer.builder(args, TrainingTask.questionAnswering(tiny, 64, 16, 30))
                .evalBeforeTraining(true)
                .build()
                .train(data, data);
        System.out.printf(
                "qa on the Apache License definitions: eval_loss %.4f -> %.4f, EM %.1f -> %.1f, F1 %.1f -> %.1f "
                        + "(%s windows)%n",
                r.initialEval().get("eval_loss"),
                r.evalMetrics().get("eval_loss"),
                r.initialEval().get("eval_exact_match"),
                r.evalMetrics().get("eval_exact_match"),
                r.initialEval().get("eval_f1"),
                r.evalMetrics().get("eval_f1"),
                r.evalMetrics().get("eval_samples"));
        assertTrue(r.evalMetrics().get("eval_samples") > data.size(), "long contexts make several windows");
        assertTrue(r.evalMetrics().get("eval_loss") < r.initialEval().get("eval_loss"));
        assertTrue(
                r.evalMetrics().get("eval_f1") > r.initialEval().get("eval_f1") + 20,
                "F1 should rise by 20 points: " + r.initialEval() + " -> " + r.evalMetrics());
        assertEquals(
                "BertForQuestionAnswering",
                HfCheckpoint.open(r.outputDir())
                        .config()
                        .path("architectures")
                        .path(0)
                        .asText());
    }

    @Test
    void anAnswerOutsideItsContextIsRefusedBeforeTraining(@TempDir Path tmp) throws IOException {
        Path tiny = TinyBert.create(tmp.resolve("tiny"), false);
        TextDataset bad = TextDataset.of("bad", List.of("Who?"), List.of("Ann met Bob in Paris."), List.of("Carol"));
        TrainingArguments args = TrainingArguments.builder(tmp.resolve("out").toString())
                .maxSteps(1)
                .evalStrategy("no")
                .saveStrategy("no")
                .build();
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Trainer.builder(args, TrainingTask.questionAnswering(tiny, 64, 16, 30))
                        .build()
                        .train(bad, null));
        assertTrue(e.getMessage().contains("row 0: the answer 'Carol' does not occur in the context"), e.getMessage());
    }
}
