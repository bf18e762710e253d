package io.sparkformers.train;

/**
 * The rows a {@link Trainer} fits on, whatever their kind ({@link TextDataset}, {@link ImageDataset}): the loop only
 * counts and names them; the {@link TrainingTask} reads them.
 */
public interface TrainingDataset {

    /** Where the rows come from, for logs, errors and provenance. */
    String description();

    int size();

    default boolean isEmpty() {
        return size() == 0;
    }
}
