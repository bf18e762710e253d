package io.sparkformers.jobs.recipes;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.jobs.corpora.FashionMnist;
import io.sparkformers.nn.ConfigJson;
import io.sparkformers.nn.vision.cnn.CnnConfig;
import io.sparkformers.train.ImageDataset;
import io.sparkformers.train.Trainer;
import io.sparkformers.train.TrainingArguments;
import io.sparkformers.train.TrainingTask;
import io.sparkformers.train.TransferMode;
import io.sparkformers.vision.ImageProcessorConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Fashion-MNIST experiments behind {@code sparkformers vision-train}: a reduced-width ResNet-18 trained from
 * scratch on the 60,000 training images and scored on the 10,000 test images, and the transfer comparison — pretrain
 * on classes 0–4 (T-shirt/top … Coat), then learn the held-out classes 5–9 (Sandal … Ankle boot) from a small
 * labelled subset once as a fixed feature extractor and once fine-tuned.
 *
 * <p>Inputs stay 28×28: gray is copied to three channels by the processor (as PIL's {@code convert("RGB")}), so the
 * model is a plain 3-channel torchvision ResNet and every image source (PNG files, Spark's image rows) feeds it the
 * same way. Normalisation uses Fashion-MNIST's own mean and std (0.2860, 0.3530).
 */
public final class FashionMnistRecipes {

    /** Fashion-MNIST pixel mean and std over the training set (0..1 scale). */
    public static final float MEAN = 0.2860f;

    public static final float STD = 0.3530f;

    private FashionMnistRecipes() {}

    /** 28×28 (other sizes are resized to it, bilinear), rescale 1/255, normalise with the dataset's statistics. */
    public static ImageProcessorConfig processor() {
        return new ImageProcessorConfig(
                true, 28, 28, 0, 2, false, 0, 0, true, 1 / 255.0, true, new float[] {MEAN, MEAN, MEAN}, new float[] {
                    STD, STD, STD
                });
    }

    /** torchvision ResNet-18 with stage widths 1, 2, 4, 8 × {@code baseWidth}, ten Fashion-MNIST classes. */
    public static ObjectNode resnet18(int baseWidth) {
        Map<Integer, String> labels = new java.util.LinkedHashMap<>();
        for (int i = 0; i < FashionMnist.LABELS.size(); i++) labels.put(i, FashionMnist.LABELS.get(i));
        return new CnnConfig("resnet18-torchvision", baseWidth, 32, 0.0, 3, 32, ConfigJson.labels(labels), null)
                .toJson();
    }

    /** The ten-class training split (or its first {@code limit} images; all when limit ≤ 0). */
    public static ImageDataset train(Path dataDir, int limit) throws IOException {
        ImageDataset d = FashionMnist.train(dataDir).dataset("Fashion-MNIST train");
        return limit > 0 ? d.limit(limit) : d;
    }

    public static ImageDataset test(Path dataDir, int limit) throws IOException {
        ImageDataset d = FashionMnist.test(dataDir).dataset("Fashion-MNIST test");
        return limit > 0 ? d.limit(limit) : d;
    }

    /** Classes {@code from}..{@code to} (inclusive) of {@code data}, renumbered from 0. */
    public static ImageDataset classes(ImageDataset data, int from, int to) {
        List<String> names = data.labels().subList(from, to + 1);
        return data.relabel(
                data.description() + ", classes " + from + "-" + to,
                id -> id >= from && id <= to ? id - from : -1,
                names);
    }

    /** Trains a ResNet-18 of {@code baseWidth} from scratch; evaluation on {@code eval} at the end (and per epoch). */
    public static Trainer.TrainOutput fromScratch(
            TrainingArguments args, int baseWidth, ImageDataset train, ImageDataset eval, boolean progress)
            throws IOException {
        return Trainer.builder(args, TrainingTask.imageClassificationFromScratch(resnet18(baseWidth), processor()))
                .progress(progress)
                .build()
                .train(train, eval);
    }

    /**
     * One row of the transfer table.
     *
     * @param mode                feature_extraction or fine_tune
     * @param accuracy            test accuracy on the held-out classes
     * @param seconds             training wall time
     * @param trainableParameters parameters the optimizer updated
     * @param outputDir           the trained model
     */
    public record TransferRow(String mode, double accuracy, double seconds, long trainableParameters, Path outputDir) {}

    /**
     * The transfer comparison: {@code pretrained} (trained on other classes) learns {@code train} once per mode in
     * {@code modes}, each scored on {@code test}; models land in {@code outputRoot/<mode>}.
     */
    public static List<TransferRow> transfer(
            Path pretrained,
            ImageDataset train,
            ImageDataset test,
            TrainingArguments base,
            List<TransferMode> modes,
            boolean progress)
            throws IOException {
        List<TransferRow> rows = new ArrayList<>();
        for (TransferMode mode : modes) {
            Path out = Path.of(base.outputDir()).resolve(mode.kind().configName());
            TrainingArguments args =
                    base.toBuilder().set("output_dir", out.toString()).build();
            Trainer.TrainOutput r = Trainer.builder(args, TrainingTask.imageClassification(pretrained, null))
                    .mode(mode)
                    .progress(progress)
                    .build()
                    .train(train, test);
            rows.add(new TransferRow(
                    mode.kind().configName(),
                    r.evalMetrics().get("eval_accuracy"),
                    ((Number) r.trainMetrics().get("train_runtime")).doubleValue(),
                    ((Number) r.trainMetrics().get("trainable_parameters")).longValue(),
                    out));
        }
        return rows;
    }

    /** The rows as a Markdown table for the README. */
    public static String markdown(List<TransferRow> rows) {
        StringBuilder sb = new StringBuilder(
                "| mode | test accuracy | wall time (s) | trainable params |\n" + "|---|---:|---:|---:|\n");
        for (TransferRow r : rows) {
            sb.append(String.format(
                    java.util.Locale.ROOT,
                    "| %s | %.4f | %.1f | %,d |%n",
                    r.mode(),
                    r.accuracy(),
                    r.seconds(),
                    r.trainableParameters()));
        }
        return sb.toString();
    }
}
