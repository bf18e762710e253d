package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Defaults and rules from transformers' TrainingArguments and Trainer._inner_training_loop. */
class TrainingArgumentsTest {

    private static IllegalArgumentException invalid(TrainingArguments.Builder b) {
        return assertThrows(IllegalArgumentException.class, b::build);
    }

    @Test
    void defaultsMatchHf() {
        TrainingArguments a = TrainingArguments.builder("out").build();
        assertEquals("out", a.outputDir());
        assertFalse(a.overwriteOutputDir());
        assertEquals(3.0, a.numTrainEpochs());
        assertEquals(-1, a.maxSteps());
        assertEquals(8, a.perDeviceTrainBatchSize());
        assertEquals(8, a.perDeviceEvalBatchSize());
        assertEquals(1, a.gradientAccumulationSteps());
        assertEquals(5e-5, a.learningRate());
        assertEquals(0.0, a.weightDecay());
        assertEquals(0.9, a.adamBeta1());
        assertEquals(0.999, a.adamBeta2());
        assertEquals(1e-8, a.adamEpsilon());
        assertEquals(1.0, a.maxGradNorm());
        assertEquals("linear", a.lrSchedulerType());
        assertEquals(0, a.warmupSteps());
        assertEquals(0.0, a.warmupRatio());
        assertEquals("steps", a.loggingStrategy());
        assertEquals(500.0, a.loggingSteps());
        assertFalse(a.loggingFirstStep());
        assertEquals("no", a.evalStrategy());
        assertNull(a.evalSteps());
        assertEquals("steps", a.saveStrategy());
        assertEquals(500.0, a.saveSteps());
        assertNull(a.saveTotalLimit());
        assertFalse(a.loadBestModelAtEnd());
        assertNull(a.metricForBestModel());
        assertNull(a.greaterIsBetter());
        assertEquals("adamw_torch", a.optim());
        assertEquals(42, a.seed());
        assertNull(a.dataSeed());
        assertFalse(a.groupByLength());
        assertFalse(a.dataloaderDropLast());
        assertEquals(0.0, a.labelSmoothingFactor());
        assertNull(a.resumeFromCheckpoint());
        assertEquals(List.of("jsonl"), a.reportTo());
        assertFalse(a.fp16());
    }

    @Test
    void evalStepsDefaultToLoggingStepsAndLossIsTheBestMetricAsInHf() {
        TrainingArguments a = TrainingArguments.builder("out")
                .evalStrategy("steps")
                .loggingSteps(50)
                .saveSteps(100)
                .loadBestModelAtEnd(true)
                .build();
        assertEquals(50.0, a.evalSteps());
        assertEquals("loss", a.metricForBestModel());
        assertEquals(false, a.greaterIsBetter());
        assertEquals("eval_loss", a.bestMetricKey());

        TrainingArguments acc = TrainingArguments.builder("out")
                .metricForBestModel("eval_accuracy")
                .build();
        assertEquals(true, acc.greaterIsBetter());
        assertEquals("eval_accuracy", acc.bestMetricKey());
        assertEquals(
                false,
                TrainingArguments.builder("out")
                        .metricForBestModel("eval_nll_loss")
                        .build()
                        .greaterIsBetter());
    }

    @Test
    void rejectsNonPositiveLearningRateNamingKeyAndFix() {
        IllegalArgumentException e = invalid(TrainingArguments.builder("out").learningRate(0));
        assertTrue(
                e.getMessage().contains("learning_rate must be > 0 but was 0.0: set learning_rate to e.g. 5e-5"),
                e.getMessage());
        assertTrue(invalid(TrainingArguments.builder("out").learningRate(-1e-3))
                .getMessage()
                .contains("learning_rate must be > 0"));
    }

    @Test
    void rejectsZeroBatchSize() {
        IllegalArgumentException e = invalid(TrainingArguments.builder("out").perDeviceTrainBatchSize(0));
        assertTrue(e.getMessage().contains("per_device_train_batch_size must be > 0 but was 0"), e.getMessage());
        assertTrue(invalid(TrainingArguments.builder("out").perDeviceEvalBatchSize(0))
                .getMessage()
                .contains("per_device_eval_batch_size must be > 0"));
        assertTrue(invalid(TrainingArguments.builder("out").gradientAccumulationSteps(0))
                .getMessage()
                .contains("gradient_accumulation_steps must be > 0"));
    }

    @Test
    void reportsEveryViolationAtOnce() {
        IllegalArgumentException e = invalid(TrainingArguments.builder("out")
                .learningRate(0)
                .perDeviceTrainBatchSize(0)
                .warmupRatio(1.5));
        assertTrue(e.getMessage().contains("learning_rate"), e.getMessage());
        assertTrue(e.getMessage().contains("per_device_train_batch_size"), e.getMessage());
        assertTrue(e.getMessage().contains("warmup_ratio must lie in range [0,1]"), e.getMessage());
    }

    @Test
    void loadBestModelAtEndRequiresMatchingStrategies() {
        IllegalArgumentException e = invalid(TrainingArguments.builder("out")
                .loadBestModelAtEnd(true)
                .evalStrategy("epoch")
                .saveStrategy("steps"));
        assertTrue(
                e.getMessage()
                        .contains("load_best_model_at_end requires the save and eval strategy to match, "
                                + "but found eval_strategy 'epoch' and save_strategy 'steps'"),
                e.getMessage());
    }

    @Test
    void loadBestModelAtEndRequiresSaveStepsMultipleOfEvalSteps() {
        IllegalArgumentException e = invalid(TrainingArguments.builder("out")
                .loadBestModelAtEnd(true)
                .evalStrategy("steps")
                .evalSteps(30.0)
                .saveSteps(100));
        assertTrue(e.getMessage().contains("save_steps 100 is not a multiple of eval_steps 30"), e.getMessage());
        IllegalArgumentException mixed = invalid(TrainingArguments.builder("out")
                .loadBestModelAtEnd(true)
                .evalStrategy("steps")
                .evalSteps(0.1)
                .saveSteps(100));
        assertTrue(mixed.getMessage().contains("mixing a ratio and absolute steps"), mixed.getMessage());
        // ratios that divide are accepted, as HF's 1e6 scaling does
        TrainingArguments.builder("out")
                .loadBestModelAtEnd(true)
                .evalStrategy("steps")
                .evalSteps(0.1)
                .saveSteps(0.2)
                .build();
    }

    @Test
    void rejectsAdafactorAndUnknownSchedules() {
        assertTrue(invalid(TrainingArguments.builder("out").optim("adafactor"))
                .getMessage()
                .contains("optim 'adafactor' is not supported: use one of [adamw_torch, adamw_hf, sgd] (adafactor is "
                        + "not implemented)"));
        assertTrue(invalid(TrainingArguments.builder("out").lrSchedulerType("inverse_sqrt"))
                .getMessage()
                .contains("lr_scheduler_type 'inverse_sqrt' is not supported"));
        assertTrue(invalid(TrainingArguments.builder(null)).getMessage().contains("output_dir is required"));
    }

    @Test
    void fp16OnCpuFailsBeforeTraining() {
        TrainingArguments a = TrainingArguments.builder("out").fp16(true).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.validateFor(Device.cpu()));
        assertTrue(e.getMessage().startsWith("fp16 needs a GPU"), e.getMessage());
        a.validateFor(Device.gpu(0));
    }

    @Test
    void stepMathFollowsHfTrainer() {
        TrainingArguments a = TrainingArguments.builder("out")
                .perDeviceTrainBatchSize(8)
                .gradientAccumulationSteps(2)
                .numTrainEpochs(2.5)
                .warmupRatio(0.1)
                .build();
        // 1000 examples on 1 replica: ceil(1000 / 8) = 125 batches, // 2 = 62 updates per epoch
        assertEquals(62, a.numUpdateStepsPerEpoch(1000, 1));
        // 3 replicas: 125 micro-batches of 8, a global step takes 2 × 3 of them: 20, as DataSharding cuts the epoch
        assertEquals(20, a.numUpdateStepsPerEpoch(1000, 3));
        assertEquals(new DataSharding(1000, 8, 6, false, 42, null).stepsPerEpoch(), a.numUpdateStepsPerEpoch(1000, 3));
        // ceil(2.5 · 62) = 155 steps, ceil(2.5) = 3 epochs, warm-up ceil(0.1 · 155) = 16
        TrainingPlan p = a.plan(1000, 1);
        assertEquals(155, p.maxSteps());
        assertEquals(3, p.numTrainEpochs());
        assertEquals(16, p.warmupSteps());
        assertEquals(16, p.totalTrainBatchSize()); // 8 × 2 accumulation × 1 replica
        // one tiny batch still makes one update (HF's max(..., 1))
        assertEquals(1, a.numUpdateStepsPerEpoch(5, 1));
    }

    @Test
    void maxStepsOverridesEpochsAndWarmupStepsWinOverRatio() {
        TrainingArguments a = TrainingArguments.builder("out")
                .maxSteps(100)
                .warmupSteps(7)
                .warmupRatio(0.5)
                .loggingSteps(0.05)
                .build();
        TrainingPlan p = a.plan(800, 1); // 100 updates per epoch
        assertEquals(100, p.maxSteps());
        assertEquals(1, p.numTrainEpochs());
        assertEquals(7, p.warmupSteps());
        assertEquals(5, p.loggingSteps()); // ratio 0.05 of 100 steps
        assertEquals(3, a.resolveNumTrainEpochs(40)); // 100 // 40 + (100 % 40 > 0)
        assertEquals(0, TrainingArguments.builder("out").build().warmupSteps(1000));
    }

    @Test
    void dropLastFloorsTheBatchCount() {
        TrainingArguments a = TrainingArguments.builder("out")
                .set("dataloader_drop_last", true)
                .perDeviceTrainBatchSize(8)
                .build();
        assertEquals(12, a.numUpdateStepsPerEpoch(100, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.numUpdateStepsPerEpoch(0, 1));
        assertTrue(e.getMessage().contains("the training set is empty"));
    }

    @Test
    void loadsHfJsonIgnoringKnownHfKeysWithWarnings() {
        Map<String, Object> hf = new LinkedHashMap<>();
        hf.put("output_dir", "runs/x");
        hf.put("evaluation_strategy", "epoch");
        hf.put("save_strategy", "epoch");
        hf.put("learning_rate", 2e-5);
        hf.put("per_device_train_batch_size", 16);
        hf.put("logging_steps", 10);
        hf.put("load_best_model_at_end", true);
        hf.put("metric_for_best_model", "f1");
        hf.put("report_to", List.of("tensorboard"));
        hf.put("do_train", false); // HF default: silent
        hf.put("bf16", true); // not HF's default: warned
        hf.put("logging_dir", "runs/x/runs/Jan01"); // run-dependent: silent
        List<String> warnings = new ArrayList<>();
        TrainingArguments a = TrainingArguments.fromMap(hf, Map.of(), warnings);
        assertEquals("epoch", a.evalStrategy());
        assertEquals(2e-5, a.learningRate());
        assertEquals(16, a.perDeviceTrainBatchSize());
        assertEquals(true, a.greaterIsBetter());
        assertEquals(List.of("jsonl"), a.reportTo());
        assertEquals(2, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("report_to 'tensorboard'"));
        assertTrue(warnings.get(1).contains("bf16=true"));
    }

    @Test
    void jsonRoundTripKeepsHfNames() {
        TrainingArguments a = TrainingArguments.builder("out")
                .evalStrategy("steps")
                .evalSteps(20.0)
                .saveSteps(40)
                .loadBestModelAtEnd(true)
                .saveTotalLimit(2)
                .reportTo(List.of())
                .build();
        String json = a.toJson();
        assertTrue(json.contains("\"eval_strategy\" : \"steps\""), json);
        assertTrue(json.contains("\"save_steps\" : 40"), json);
        assertTrue(json.contains("\"metric_for_best_model\" : \"loss\""), json);
        assertEquals(a, TrainingArguments.fromJson(json));
    }

    @Test
    void unknownKeySuggestsTheClosestName() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> TrainingArguments.fromJson("{\"output_dir\": \"o\", \"lerning_rate\": 1e-4}"));
        assertTrue(
                e.getMessage().contains("unknown training argument 'lerning_rate': did you mean learning_rate?"),
                e.getMessage());
        IllegalArgumentException far = assertThrows(
                IllegalArgumentException.class,
                () -> TrainingArguments.fromJson("{\"output_dir\": \"o\", \"colour\": 1}"));
        assertTrue(
                far.getMessage().contains("unknown training argument 'colour' (supported: [output_dir"),
                far.getMessage());
    }

    @Test
    void overridesAreParsedByType() {
        TrainingArguments a = TrainingArguments.builder("out")
                .build()
                .withOverrides(Map.of(
                        "learning_rate",
                        "1e-4",
                        "per_device_train_batch_size",
                        "32",
                        "fp16",
                        "true",
                        "save_total_limit",
                        "3",
                        "report_to",
                        "none",
                        "data_seed",
                        "7"));
        assertEquals(1e-4, a.learningRate());
        assertEquals(32, a.perDeviceTrainBatchSize());
        assertTrue(a.fp16());
        assertEquals(3, a.saveTotalLimit());
        assertEquals(List.of(), a.reportTo());
        assertEquals(7L, a.dataSeed());
        assertEquals(7L, a.effectiveDataSeed());
        assertNull(a.withOverrides(Map.of("save_total_limit", "None")).saveTotalLimit());
    }

    @Test
    void badOverridesNameTheKeyAndTheExpectedType() {
        TrainingArguments a = TrainingArguments.builder("out").build();
        IllegalArgumentException typo = assertThrows(
                IllegalArgumentException.class, () -> a.withOverrides(Map.of("per_device_train_bach_size", "4")));
        assertTrue(typo.getMessage().contains("did you mean per_device_train_batch_size?"), typo.getMessage());
        IllegalArgumentException type = assertThrows(
                IllegalArgumentException.class, () -> a.withOverrides(Map.of("per_device_train_batch_size", "four")));
        assertTrue(
                type.getMessage().contains("per_device_train_batch_size expects an integer but got 'four'"),
                type.getMessage());
        IllegalArgumentException bool =
                assertThrows(IllegalArgumentException.class, () -> a.withOverrides(Map.of("fp16", "yes")));
        assertTrue(bool.getMessage().contains("fp16 expects true or false but got 'yes'"), bool.getMessage());
        IllegalArgumentException zero = assertThrows(
                IllegalArgumentException.class, () -> a.withOverrides(Map.of("per_device_train_batch_size", "0")));
        assertTrue(zero.getMessage().contains("per_device_train_batch_size must be > 0"), zero.getMessage());
    }

    @Test
    void builderReadsReportToNoneAsHfDoes() {
        assertEquals(
                java.util.List.of(),
                TrainingArguments.builder("out")
                        .set("report_to", "none")
                        .build()
                        .reportTo());
        assertEquals(
                java.util.List.of("jsonl"),
                TrainingArguments.builder("out")
                        .set("report_to", "jsonl")
                        .build()
                        .reportTo());
    }

    @Test
    void toBuilderRebuildsTheSameArgumentsWithIntegralStepCounts() {
        TrainingArguments a = TrainingArguments.builder("out")
                .saveSteps(500)
                .loggingSteps(10)
                .numTrainEpochs(2)
                .build();
        assertEquals(a, a.toBuilder().build());
        assertEquals("other", a.toBuilder().set("output_dir", "other").build().outputDir());
    }

    @Test
    void eachKeyIsARecordComponentInSnakeCaseAndToMapWritesExactlyThem() {
        List<String> components = java.util.Arrays.stream(TrainingArguments.class.getRecordComponents())
                .map(c -> c.getName().replaceAll("([A-Z])", "_$1").toLowerCase(java.util.Locale.ROOT))
                .toList();
        assertEquals(components, TrainingArguments.keyNames());
        assertEquals(
                TrainingArguments.keyNames(),
                List.copyOf(TrainingArguments.builder("out").build().toMap().keySet()));
        assertTrue(TrainingArguments.keyNames().contains("adam_beta1")
                && TrainingArguments.keyNames().contains("fp16"));
    }
}
