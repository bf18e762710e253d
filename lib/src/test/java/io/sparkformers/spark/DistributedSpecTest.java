package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.sparkformers.nn.Task;
import io.sparkformers.nn.lora.LoraConfig;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A fit's spec carries the LoRA adapter inside its task options, where every task-specific option lives. */
class DistributedSpecTest {

    @Test
    void theLoraAdapterTravelsInTheTaskOptionsAndSurvivesTheQuestionAnsweringOnes() {
        TextClassifier est =
                new TextClassifier().setOutputDir("out").setLoraR(4).setLoraAlpha(8);
        DistributedTraining.Spec spec =
                est.spec("m", Task.SEQUENCE_CLASSIFICATION, LabelKind.SINGLE_LABEL, List.of("neg", "pos"));
        LoraConfig lora = spec.options().lora();
        assertEquals(est.loraConfig(), lora);
        assertEquals(4, lora.r());
        DistributedTraining.Spec qa = spec.withOptions(spec.options().withQuestionAnswering(64, 20));
        assertEquals(lora, qa.options().lora());
        assertEquals(64, qa.options().docStride());
        assertEquals(lora, qa.withModel("other").options().lora());
        assertNull(new TextClassifier()
                .setOutputDir("out")
                .spec("m", Task.SEQUENCE_CLASSIFICATION, LabelKind.SINGLE_LABEL, List.of("a", "b"))
                .options()
                .lora());
    }
}
