package io.sparkformers.spark;

import io.sparkformers.hub.HfCheckpoint;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsReader$;
import org.apache.spark.ml.util.DefaultParamsWriter$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Set;

/**
 * Saving and loading the Sparkformers stages, as MLlib's model writers do: Params metadata first
 * ({@code DefaultParamsWriter} layout, so {@code PipelineModel.save/load} finds the class), then the checkpoint in
 * Hugging Face layout under {@code path/data} — the whole folder for model stages, the tokenizer files for the
 * tokenizer. Loading points the {@code model} Param at {@code path/data}, so a saved pipeline needs neither the
 * original folder nor the original machine.
 */
public final class StagePersistence {
    private StagePersistence() {}

    /** Files the tokenizer stage needs. */
    private static final Set<String> TOKENIZER_FILES = Set.of(HfCheckpoint.TOKENIZER, HfCheckpoint.TOKENIZER_CONFIG,
            HfCheckpoint.CONFIG, "special_tokens_map.json");

    /** Writes metadata, then the referenced checkpoint's files under {@code path/data}. */
    static final class Writer extends MLWriter {
        private final TextStage<?> stage;
        private final boolean weights;

        Writer(TextStage<?> stage, boolean weights) {
            this.stage = stage;
            this.weights = weights;
        }

        @Override
        public void saveImpl(String path) {
            stage.requireModel();
            DefaultParamsWriter$.MODULE$.saveMetadata(stage, path, sparkSession());
            try {
                java.nio.file.Path local = ModelRefs.localFolder(stage.getModel());
                Path data = new Path(path, "data");
                FileSystem fs = data.getFileSystem(sc().hadoopConfiguration());
                fs.mkdirs(data);
                List<java.nio.file.Path> files;
                try (var list = Files.list(local)) {
                    files = list.filter(f -> weights || TOKENIZER_FILES.contains(f.getFileName().toString()))
                            .filter(f -> !f.getFileName().toString().startsWith(".")).sorted().toList();
                }
                for (java.nio.file.Path f : files) {
                    fs.copyFromLocalFile(false, true, new Path(f.toUri()), new Path(data, f.getFileName().toString()));
                }
            } catch (IOException e) {
                throw new UncheckedIOException("saving " + stage.getClass().getSimpleName() + " " + stage.uid() + " to "
                        + path + " failed: " + e.getMessage(), e);
            }
        }
    }

    /** Reads what {@link Writer} wrote into a new instance of {@code type} (via its (uid) constructor). */
    static final class Reader<T extends TextStage<T>> extends MLReader<T> {
        private final Class<T> type;

        Reader(Class<T> type) {
            this.type = type;
        }

        @Override
        public T load(String path) {
            DefaultParamsReader.Metadata md = DefaultParamsReader$.MODULE$.loadMetadata(path, sparkSession(), type.getName());
            T stage;
            try {
                stage = type.getConstructor(String.class).newInstance(md.uid());
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(type.getName() + " needs a public (String uid) constructor", e);
            }
            md.getAndSetParams(stage, scala.Option.apply(null));
            try {
                Path data = new Path(path, "data");
                FileSystem fs = data.getFileSystem(sc().hadoopConfiguration());
                if (!fs.exists(new Path(data, HfCheckpoint.TOKENIZER))) {
                    throw new IOException(data + " has no tokenizer.json: not a stage saved by Sparkformers");
                }
                stage.setModel(fs.makeQualified(data).toString());
            } catch (IOException e) {
                throw new UncheckedIOException("loading " + type.getSimpleName() + " from " + path + " failed: "
                        + e.getMessage(), e);
            }
            return stage;
        }
    }
}
