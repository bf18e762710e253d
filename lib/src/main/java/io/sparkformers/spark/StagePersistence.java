package io.sparkformers.spark;

import io.sparkformers.hub.HfCheckpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;

/**
 * Saving and loading the Sparkformers stages, as MLlib's model writers do: Params metadata first
 * ({@code DefaultParamsWriter} layout, so {@code PipelineModel.save/load} finds the class), then the checkpoint in
 * Hugging Face layout under {@code path/data} — the whole folder for model stages, the tokenizer files for the
 * tokenizer ({@link CheckpointStage#savedFiles}). Loading points the {@code model} Param at {@code path/data}, so a
 * saved pipeline needs neither the original folder nor the original machine.
 */
public final class StagePersistence {
    private StagePersistence() {}

    /** The reader of a text stage: its saved folder holds at least tokenizer.json. */
    static <T extends CheckpointStage<T>> MLReader<T> textReader(Class<T> type) {
        return new Reader<>(type, HfCheckpoint.TOKENIZER);
    }

    /** The reader of an image stage: its saved folder holds at least config.json. */
    static <T extends CheckpointStage<T>> MLReader<T> imageReader(Class<T> type) {
        return new Reader<>(type, HfCheckpoint.CONFIG);
    }

    /**
     * Copies the model files of a local checkpoint folder ({@link HfCheckpoint#modelFiles}: no hidden files, no
     * training leftovers such as {@code checkpoint-N}) whose top-level name {@code keep} accepts to {@code path/data}
     * on any Hadoop file system: the part every stage writer shares.
     */
    static void copyCheckpoint(
            org.apache.spark.SparkContext sc,
            java.nio.file.Path local,
            String path,
            java.util.function.Predicate<String> keep)
            throws IOException {
        Path data = new Path(path, "data");
        FileSystem fs = data.getFileSystem(sc.hadoopConfiguration());
        fs.mkdirs(data);
        for (String f : HfCheckpoint.modelFiles(local)) {
            if (!keep.test(f.split("/")[0])) continue;
            fs.copyFromLocalFile(false, true, new Path(local.resolve(f).toUri()), new Path(data, f));
        }
    }

    /**
     * A stage of {@code type} with the uid and Params saved under {@code path}, its model pointing at {@code path/data}
     * — which must hold {@code requiredFile}, else the error says what the folder is not.
     */
    static <T extends org.apache.spark.ml.param.Params> T loadStage(
            org.apache.spark.sql.SparkSession spark,
            Class<T> type,
            String path,
            String requiredFile,
            java.util.function.BiConsumer<T, String> setModel) {
        DefaultParamsReader.Metadata md = SparkLine.loadMetadata(path, spark, type.getName());
        T stage;
        try {
            stage = type.getConstructor(String.class).newInstance(md.uid());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(type.getName() + " needs a public (String uid) constructor", e);
        }
        md.getAndSetParams(stage, scala.Option.apply(null));
        try {
            Path data = new Path(path, "data");
            FileSystem fs = data.getFileSystem(spark.sparkContext().hadoopConfiguration());
            if (!fs.exists(new Path(data, requiredFile))) {
                throw new IOException(data + " has no " + requiredFile + ": not a " + type.getSimpleName()
                        + " saved by Sparkformers");
            }
            setModel.accept(stage, fs.makeQualified(data).toString());
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "loading " + type.getSimpleName() + " from " + path + " failed: " + e.getMessage(), e);
        }
        return stage;
    }

    /** Writes metadata, then the referenced checkpoint's files that {@code keep} accepts under {@code path/data}. */
    static final class Writer extends MLWriter {
        private final CheckpointStage<?> stage;
        private final java.util.function.Predicate<String> keep;

        Writer(CheckpointStage<?> stage, java.util.function.Predicate<String> keep) {
            this.stage = stage;
            this.keep = keep;
        }

        @Override
        public void saveImpl(String path) {
            stage.requireModel();
            SparkLine.saveMetadata(stage, path, sparkSession());
            try {
                copyCheckpoint(sc(), ModelRefs.localFolder(stage.getModel()), path, keep);
            } catch (IOException e) {
                throw new UncheckedIOException(
                        "saving " + stage.getClass().getSimpleName() + " " + stage.uid() + " to " + path + " failed: "
                                + e.getMessage(),
                        e);
            }
        }
    }

    /**
     * Reads what {@link Writer} wrote into a new instance of {@code type} (via its (uid) constructor); {@code path/data}
     * must hold {@code requiredFile}.
     */
    static final class Reader<T extends CheckpointStage<T>> extends MLReader<T> {
        private final Class<T> type;
        private final String requiredFile;

        Reader(Class<T> type, String requiredFile) {
            this.type = type;
            this.requiredFile = requiredFile;
        }

        @Override
        public T load(String path) {
            return loadStage(sparkSession(), type, path, requiredFile, CheckpointStage::setModel);
        }
    }
}
