package io.sparkformers.nn.bert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import io.sparkformers.train.TextDataset;
import io.sparkformers.train.Trainer;
import io.sparkformers.train.TrainingArguments;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RobertaForSequenceClassification's loss (the shared {@code Losses.sequenceClassification}) against transformers
 * 4.57.6 on the committed tiny RoBERTa (lib/src/test/python/make_head_references.py), and a few Trainer steps on it.
 */
class RobertaForSequenceClassificationLossTest {

    static Path resource(String name) throws Exception {
        return Path.of(RobertaForSequenceClassificationLossTest.class
                .getResource("/" + name)
                .toURI());
    }

    static NDArray rows(NDManager m, JsonNode rows, boolean asFloat) {
        int b = rows.size();
        int t = rows.get(0).size();
        float[] f = new float[b * t];
        long[] l = new long[b * t];
        for (int r = 0; r < b; r++) {
            for (int j = 0; j < t; j++) {
                f[r * t + j] = (float) rows.get(r).get(j).asDouble();
                l[r * t + j] = rows.get(r).get(j).asLong();
            }
        }
        return asFloat
                ? m.create(f, new ai.djl.ndarray.types.Shape(b, t))
                : m.create(l, new ai.djl.ndarray.types.Shape(b, t));
    }

    @Test
    void singleAndMultiLabelLossesMatchTransformers() throws Exception {
        JsonNode ref =
                Json.MAPPER.readTree(resource("heads/references.json").toFile()).get("roberta_sequence_classification");
        try (HfModel model = HfModel.fromPretrained(
                        resource("parity/tiny/roberta-sentiment"), Task.SEQUENCE_CLASSIFICATION);
                NDManager m = NDManager.newBaseManager()) {
            RobertaForSequenceClassification head =
                    assertInstanceOf(RobertaForSequenceClassification.class, model.block());
            NDArray ids = rows(m, ref.get("input_ids"), false);
            NDArray mask = rows(m, ref.get("attention_mask"), false);
            NDArray logits =
                    model.predict(new NDList(ids, mask, ids.zerosLike())).head();
            float[] expectedLogits = new float[(int) logits.size()];
            int i = 0;
            for (JsonNode r : ref.get("logits")) for (JsonNode v : r) expectedLogits[i++] = (float) v.asDouble();
            assertTrue(
                    logits.allClose(m.create(expectedLogits, logits.getShape()), 1e-4, 1e-5, false),
                    "logits differ from transformers");

            JsonNode single = ref.get("single_label");
            long[] classes = new long[single.get("labels").size()];
            for (int r = 0; r < classes.length; r++)
                classes[r] = single.get("labels").get(r).asLong();
            double ce = head.loss(logits, m.create(classes)).getFloat();
            assertEquals(single.get("loss").asDouble(), ce, 1e-5, "single_label_classification (inferred) loss");

            JsonNode multi = ref.get("multi_label");
            double bce = head.loss(logits, rows(m, multi.get("labels"), true)).getFloat();
            assertEquals(multi.get("loss").asDouble(), bce, 1e-5, "multi_label_classification (inferred) loss");
        }
    }

    @Test
    void theTrainerFineTunesRobertaSequenceClassification(@TempDir Path tmp) throws Exception {
        List<String> texts = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        String[] words = {"bad", "so so", "good"};
        String[] names = {"negative", "neutral", "positive"};
        for (int i = 0; i < 12; i++) {
            texts.add("this was " + words[i % 3]);
            labels.add(names[i % 3]);
        }
        TextDataset data = TextDataset.of("three tones", texts, null, labels);
        TrainingArguments args = TrainingArguments.builder(tmp.toString())
                .perDeviceTrainBatchSize(4)
                .learningRate(1e-2)
                .maxSteps(6)
                .seed(3)
                .reportTo(List.of())
                .build();
        Trainer.TrainOutput out = Trainer.builder(args, resource("parity/tiny/roberta-sentiment"))
                .evalBeforeTraining(true)
                .build()
                .train(data, data);
        assertEquals(6, out.globalStep());
        assertFalse(Double.isNaN(out.trainingLoss()), "training loss " + out.trainingLoss());
        double before = out.initialEval().get("eval_loss");
        double after = out.evalMetrics().get("eval_loss");
        assertTrue(after < before, "eval loss " + before + " -> " + after + " after 6 steps on the training rows");
    }
}
