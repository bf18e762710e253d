package io.sparkformers.jobs;

import io.sparkformers.hub.Json;
import io.sparkformers.hub.SparkformersHome;
import io.sparkformers.jobs.corpora.FashionMnist;
import io.sparkformers.jobs.recipes.FashionMnistRecipes;
import io.sparkformers.jobs.recipes.FashionMnistRecipes.TransferRow;
import io.sparkformers.spark.ImageClassifier;
import io.sparkformers.train.ImageDataset;
import io.sparkformers.train.Trainer;
import io.sparkformers.train.TrainingArguments;
import io.sparkformers.train.TransferMode;
import io.sparkformers.vision.ImageProcessor;
import io.sparkformers.vision.RgbImage;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code sparkformers vision-train --dataset fashion-mnist --output DIR}: the Fashion-MNIST experiments of
 * {@link FashionMnistRecipes} — {@code scratch} (a reduced ResNet-18 from scratch, test accuracy on all 10,000 test
 * images), {@code transfer} (pretrain on classes 0–4, then a new head for classes 5–9 from a small labelled subset, as
 * feature extractor and fine-tuned), or {@code all}. Also writes one test image as PNG for
 * {@code pipeline image-classification --image}.
 *
 * <p>With {@code --workers N > 1} the scratch model trains through the {@link ImageClassifier} Estimator: N
 * data-parallel replicas on the executors of the launcher's master ({@code local-cluster[2,1,3072]} gives each its own
 * JVM and core), the images as a DataFrame of Spark image rows (built here from the IDX files, standing in for a lake
 * table), {@code --batch-size} the global batch (N × per-replica). The transfer runs stay in the driver.
 */
@Command(
        name = "vision-train",
        mixinStandardHelpOptions = true,
        description =
                "Train image classifiers on Fashion-MNIST: from scratch, and transfer (feature extraction vs fine-tuning).")
public final class VisionTrainCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--dataset", defaultValue = "fashion-mnist", description = "Dataset (only fashion-mnist).")
    String dataset;

    @Option(
            names = "--data-dir",
            paramLabel = "DIR",
            description =
                    "Where the Debian package dataset-fashion-mnist is unpacked (fetched when missing; default: data/fashion-mnist under the Sparkformers home).")
    Path dataDir;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "Output folder (models, reports).")
    Path output;

    @Option(
            names = "--experiment",
            defaultValue = "all",
            description = "scratch, transfer or all (default ${DEFAULT-VALUE}).")
    String experiment;

    @Option(
            names = "--base-width",
            defaultValue = "16",
            description = "ResNet-18 stage-1 channels (torchvision 64; default ${DEFAULT-VALUE}).")
    int baseWidth;

    @Option(
            names = "--epochs",
            defaultValue = "2",
            description = "Epochs from scratch and for pretraining (default ${DEFAULT-VALUE}).")
    double epochs;

    @Option(names = "--batch-size", defaultValue = "128", description = "Images per step (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(
            names = "--lr",
            defaultValue = "3e-3",
            description = "AdamW peak learning rate from scratch (default ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--train-limit", defaultValue = "0", description = "Use only the first N training images (0: all).")
    int trainLimit;

    @Option(names = "--test-limit", defaultValue = "0", description = "Score only the first N test images (0: all).")
    int testLimit;

    @Option(
            names = "--transfer-examples",
            defaultValue = "500",
            description = "Labelled images of classes 5-9 for transfer (default ${DEFAULT-VALUE}).")
    int transferExamples;

    @Option(
            names = "--transfer-epochs",
            defaultValue = "10",
            description = "Epochs over the transfer subset (default ${DEFAULT-VALUE}).")
    double transferEpochs;

    @Option(
            names = "--feature-extraction-lr-multiplier",
            defaultValue = "10",
            description =
                    "Transfer: the new head's lr is this × 1e-3 under feature_extraction (default ${DEFAULT-VALUE}; a lone linear head takes a larger step than a fine-tuned network).")
    double featureExtractionLrMultiplier;

    @Option(names = "--seed", defaultValue = "42", description = "Seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(
            names = "--workers",
            defaultValue = "1",
            paramLabel = "N",
            description =
                    "From scratch: data-parallel replicas on the Spark executors (ImageClassifier); 1 trains in the driver (default ${DEFAULT-VALUE}).")
    int workers;

    @Override
    public Integer call() throws Exception {
        if (!dataset.equals("fashion-mnist")) {
            throw new IllegalArgumentException("--dataset '" + dataset + "' is not supported; use fashion-mnist");
        }
        if (!List.of("scratch", "transfer", "all").contains(experiment)) {
            throw new IllegalArgumentException(
                    "--experiment must be scratch, transfer or all, got '" + experiment + "'");
        }
        if (workers < 1) throw new IllegalArgumentException("--workers must be >= 1 but was " + workers);
        if (workers > 1 && batchSize % workers != 0) {
            throw new IllegalArgumentException("--batch-size " + batchSize
                    + " is the global batch and must split evenly " + "over --workers " + workers);
        }
        Path data = FashionMnist.ensure(
                dataDir != null
                        ? dataDir
                        : SparkformersHome.get().resolve("data").resolve("fashion-mnist"));
        ImageDataset train = FashionMnistRecipes.train(data, trainLimit);
        ImageDataset test = FashionMnistRecipes.test(data, testLimit);
        Files.createDirectories(output);
        Path png = output.resolve("test-image-0.png");
        writePng(test.image(0), png);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("test_image", png.toString());
        report.put("test_image_label", test.labels().get(test.label(0)));
        if (!experiment.equals("transfer")) {
            Map<String, Object> s = workers > 1 ? scratchDistributed(train, test) : scratch(train, test);
            report.put("scratch", s);
            if (!common.json) {
                System.out.printf(
                        Locale.ROOT,
                        "from scratch: test accuracy %.4f on %d images, %.1f s, %s params, %d " + "worker(s)%n",
                        s.get("test_accuracy"),
                        test.size(),
                        ((Number) s.get("train_runtime_s")).doubleValue(),
                        s.get("trainable_parameters"),
                        workers);
            }
        }
        if (!experiment.equals("scratch")) report.put("transfer", transfer(train, test));
        if (common.json) {
            System.out.println(Json.line(report));
        }
        Json.write(output.resolve("vision_train_report.json"), Json.MAPPER.valueToTree(report));
        return 0;
    }

    private Map<String, Object> scratch(ImageDataset train, ImageDataset test) throws IOException {
        TrainingArguments args = scratchArgs(output.resolve("scratch"));
        Trainer.TrainOutput r = FashionMnistRecipes.fromScratch(args, baseWidth, train, test, true);
        Map<String, Object> s = scratchReport(r.outputDir(), train, test);
        s.put("test_accuracy", r.evalMetrics().get("eval_accuracy"));
        s.put("train_runtime_s", r.trainMetrics().get("train_runtime"));
        s.put("trainable_parameters", r.trainMetrics().get("trainable_parameters"));
        return s;
    }

    /** From scratch through the ImageClassifier Estimator: {@code workers} replicas, scored here on the test set. */
    private Map<String, Object> scratchDistributed(ImageDataset train, ImageDataset test) throws IOException {
        Path config = Files.createDirectories(output.resolve("scratch-config"));
        Json.write(config.resolve("config.json"), FashionMnistRecipes.resnet18(baseWidth));
        Json.write(
                config.resolve(ImageProcessor.CONFIG_FILE),
                FashionMnistRecipes.processor().toJson());
        Path out = output.resolve("scratch");
        ImageClassifier estimator = new ImageClassifier()
                .setModel(config.toString())
                .setFromScratch(true)
                .setMode("fine_tune")
                .setInputCol("image")
                .setLabelCol("label")
                .setOutputDir(out.toString())
                .setNumWorkers(workers)
                .setTrainBatchSize(batchSize / workers)
                .setNumTrainEpochs(epochs)
                .setLearningRate(lr)
                .setWeightDecay(0.01)
                .setWarmupRatio(0.05)
                .setSeed(seed);
        ImageClassifier.FitResult fit;
        try (SparkSessions.Owned session = SparkSessions.open("sparkformers-vision-train")) {
            fit = estimator.fitWithSummary(ImageFrames.of(session.spark(), train, 4 * workers));
        }
        // the Estimator names classes in sorted order; score the test images under those ids
        List<String> sorted = new ArrayList<>(test.labels());
        java.util.Collections.sort(sorted);
        ImageDataset sortedTest = test.relabel(
                test.description(), id -> sorted.indexOf(test.labels().get(id)), sorted);
        Map<String, Double> eval = Trainer.evaluate(out, sortedTest, 500);
        Map<String, Object> s = scratchReport(out, train, test);
        s.put("test_accuracy", eval.get("eval_accuracy"));
        s.put("train_runtime_s", fit.summary().trainMetrics().get("train_runtime"));
        s.put("trainable_parameters", fit.summary().trainMetrics().get("trainable_parameters"));
        s.put("workers", workers);
        s.put("per_worker_batch_size", batchSize / workers);
        s.put("train_communication_seconds", fit.summary().trainMetrics().get("train_communication_seconds"));
        s.put("ranks", fit.summary().workers());
        return s;
    }

    private Map<String, Object> scratchReport(Path model, ImageDataset train, ImageDataset test) throws IOException {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("model", model.toString());
        s.put("base_width", baseWidth);
        s.put("train_images", train.size());
        s.put("test_images", test.size());
        s.put("model_bytes", Files.size(model.resolve("model.safetensors")));
        return s;
    }

    private TrainingArguments scratchArgs(Path dir) {
        return TrainingArguments.builder(dir.toString())
                .set("overwrite_output_dir", true)
                .numTrainEpochs(epochs)
                .perDeviceTrainBatchSize(batchSize)
                .perDeviceEvalBatchSize(500)
                .learningRate(lr)
                .weightDecay(0.01)
                .lrSchedulerType("linear")
                .warmupRatio(0.05)
                .loggingSteps(50)
                .evalStrategy("no")
                .saveStrategy("epoch")
                .saveTotalLimit(1)
                .seed(seed)
                .build();
    }

    private Map<String, Object> transfer(ImageDataset train, ImageDataset test) throws IOException {
        ImageDataset pretrainData = FashionMnistRecipes.classes(train, 0, 4);
        Path pretrainDir = output.resolve("pretrain-classes-0-4");
        Trainer.TrainOutput pre =
                FashionMnistRecipes.fromScratch(scratchArgs(pretrainDir), baseWidth, pretrainData, null, true);
        ImageDataset newTask = FashionMnistRecipes.classes(train, 5, 9).limit(transferExamples);
        ImageDataset newTest = FashionMnistRecipes.classes(test, 5, 9);
        TrainingArguments base = TrainingArguments.builder(
                        output.resolve("transfer").toString())
                .set("overwrite_output_dir", true)
                .numTrainEpochs(transferEpochs)
                .perDeviceTrainBatchSize(32)
                .perDeviceEvalBatchSize(500)
                .learningRate(1e-3)
                .weightDecay(0.01)
                .lrSchedulerType("linear")
                .warmupRatio(0.1)
                .loggingSteps(10)
                .evalStrategy("no")
                .saveStrategy("no")
                .seed(seed)
                .build();
        List<TransferRow> rows = FashionMnistRecipes.transfer(
                pre.outputDir(),
                newTask,
                newTest,
                base,
                List.of(
                        TransferMode.featureExtraction().withHeadLrMultiplier(featureExtractionLrMultiplier),
                        TransferMode.fineTune()),
                true);
        String table = FashionMnistRecipes.markdown(rows);
        Files.writeString(output.resolve("transfer_table.md"), table);
        if (!common.json) {
            System.out.printf(
                    Locale.ROOT,
                    "pretrained on classes 0-4 (%d images, %.1f s); transfer to classes 5-9 with "
                            + "%d labelled images, scored on %d test images:%n",
                    pretrainData.size(),
                    ((Number) pre.trainMetrics().get("train_runtime")).doubleValue(),
                    newTask.size(),
                    newTest.size());
            System.out.print(table);
        }
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("pretrained", pre.outputDir().toString());
        t.put("pretrain_images", pretrainData.size());
        t.put("pretrain_runtime_s", pre.trainMetrics().get("train_runtime"));
        t.put("transfer_images", newTask.size());
        t.put("transfer_test_images", newTest.size());
        t.put(
                "rows",
                rows.stream()
                        .map(r -> Map.of(
                                "mode",
                                r.mode(),
                                "accuracy",
                                r.accuracy(),
                                "seconds",
                                r.seconds(),
                                "trainable_parameters",
                                r.trainableParameters(),
                                "model",
                                r.outputDir().toString()))
                        .toList());
        return t;
    }

    /** An RGB image as a PNG file (gray images stay visually gray). */
    static void writePng(RgbImage img, Path file) throws IOException {
        BufferedImage out = new BufferedImage(img.width(), img.height(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < img.height(); y++) {
            for (int x = 0; x < img.width(); x++) {
                out.setRGB(x, y, (img.get(x, y, 0) << 16) | (img.get(x, y, 1) << 8) | img.get(x, y, 2));
            }
        }
        if (!ImageIO.write(out, "png", file.toFile())) throw new IOException("no PNG writer for " + file);
    }
}
