package io.sparkformers.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Labelled text rows for the Trainer, the Java form of an HF {@code datasets.Dataset} with a text column, an optional
 * text-pair column and a label column. Labels are strings here and become ids through a {@link LabelSpace}:
 * <ul>
 *   <li>single-label classification: the class name ({@code "spam"});</li>
 *   <li>multi-label classification: class names separated by commas ({@code "sports,politics"}), empty for none;</li>
 *   <li>regression: a number ({@code "3.5"});</li>
 *   <li>token classification: {@code text} holds whitespace-separated words and {@code label} one tag per word
 *       ({@code "B-PER I-PER O"}).</li>
 * </ul>
 * Immutable; rows keep their order. Nothing is validated against a task here: {@link TrainingData} does that, before
 * any training starts, naming the row.
 *
 * @param description what the rows are and where they came from (written to provenance.json)
 * @param rows        the rows, in order
 */
public record TextDataset(String description, List<Row> rows) implements TrainingDataset {

    /**
     * One example.
     *
     * @param id       a stable identifier, used in error messages (the row number when the source has none)
     * @param text     the first text; null is an error at featurization
     * @param textPair the second segment (HF {@code text_pair}), or null
     * @param label    the label as text, or null for unlabelled rows (an error when training)
     */
    public record Row(String id, String text, String textPair, String label) {}

    public TextDataset {
        Objects.requireNonNull(description, "description");
        rows = List.copyOf(rows);
    }

    /** Rows from parallel lists (ids are the row numbers); {@code pairs} may be null. */
    public static TextDataset of(String description, List<String> texts, List<String> pairs, List<String> labels) {
        if (labels != null && labels.size() != texts.size()) {
            throw new IllegalArgumentException(texts.size() + " texts but " + labels.size() + " labels");
        }
        if (pairs != null && pairs.size() != texts.size()) {
            throw new IllegalArgumentException(texts.size() + " texts but " + pairs.size() + " text pairs");
        }
        List<Row> rows = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            rows.add(new Row(
                    Integer.toString(i),
                    texts.get(i),
                    pairs == null ? null : pairs.get(i),
                    labels == null ? null : labels.get(i)));
        }
        return new TextDataset(description, rows);
    }

    public int size() {
        return rows.size();
    }

    public boolean isEmpty() {
        return rows.isEmpty();
    }

    /**
     * This dataset, failing when it has no rows; {@code what} names its role in the message ("training",
     * "evaluation").
     */
    public TextDataset requireRows(String what) {
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("the " + what + " dataset (" + description + ") is empty: "
                    + "check the path, the filter and data.limit");
        }
        return this;
    }

    /** A row's text, failing naming the dataset and the row when it is null. */
    public String textOf(Row row, String what) {
        if (row.text() == null) {
            throw new IllegalArgumentException("the " + what + " dataset (" + description + ") row " + row.id()
                    + ": the text is null (is the text column right?)");
        }
        return row.text();
    }

    /** The first {@code n} rows (all when n is negative or at least the size). */
    public TextDataset limit(int n) {
        if (n < 0 || n >= rows.size()) return this;
        return new TextDataset(description + " (first " + n + " rows)", rows.subList(0, n));
    }
}
