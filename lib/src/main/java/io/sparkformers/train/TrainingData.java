package io.sparkformers.train;

import ai.djl.huggingface.tokenizers.Encoding;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.train.DataCollatorWithPadding.Example;
import io.sparkformers.train.DataCollatorWithPadding.Label;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A {@link TextDataset} tokenized for one task: what HF examples get from {@code dataset.map(tokenize, batched=True)}
 * — input ids truncated to the tokenizer's max length, no padding (the collator pads per batch) — with labels turned
 * into ids. Every row is checked before anything trains: a null text, a missing or unknown label, or a word/tag count
 * mismatch is reported with its row id, up to {@value #MAX_REPORTED} rows at once.
 *
 * @param description the dataset's description
 * @param examples    one tokenized example per row, in row order
 */
public record TrainingData(String description, List<Example> examples) {

    static final int MAX_REPORTED = 10;

    public TrainingData {
        examples = List.copyOf(examples);
    }

    public int size() {
        return examples.size();
    }

    /** Token counts per example (for group_by_length). */
    public int[] lengths() {
        int[] l = new int[examples.size()];
        for (int i = 0; i < l.length; i++) l[i] = examples.get(i).inputIds().length;
        return l;
    }

    /**
     * Tokenizes and labels {@code data}.
     *
     * @param kind      the label kind of the task (SINGLE_LABEL, MULTI_LABEL, REGRESSION or TOKEN)
     * @param labels    the classes (null for REGRESSION)
     * @param tokenizer truncates to its max length
     * @param what      "training" or "evaluation", for messages
     */
    public static TrainingData featurize(
            TextDataset data, LabelKind kind, LabelSpace labels, TextTokenizer tokenizer, String what) {
        data.requireRows(what);
        List<String> errors = new ArrayList<>();
        List<Example> out = new ArrayList<>(data.size());
        for (TextDataset.Row row : data.rows()) {
            try {
                out.add(example(row, kind, labels, tokenizer));
            } catch (IllegalArgumentException e) {
                if (errors.size() < MAX_REPORTED) errors.add(e.getMessage());
                else if (errors.size() == MAX_REPORTED) errors.add("…");
            }
        }
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException("the " + what + " dataset (" + data.description() + ") has bad rows:\n  "
                    + String.join("\n  ", errors));
        }
        return new TrainingData(data.description(), out);
    }

    static Example example(TextDataset.Row row, LabelKind kind, LabelSpace labels, TextTokenizer tokenizer) {
        String id = row.id();
        if (row.text() == null) {
            throw new IllegalArgumentException("row " + id + ": the text is null (is the text column right?)");
        }
        if (row.label() == null) {
            throw new IllegalArgumentException("row " + id + ": the label is null: drop unlabelled rows or fill them");
        }
        if (kind == LabelKind.TOKEN) {
            String[] words = row.text().trim().split("\\s+");
            String[] tags = row.label().trim().split("\\s+");
            if (words.length != tags.length || row.text().isBlank()) {
                throw new IllegalArgumentException("row " + id + ": " + words.length + " words but " + tags.length
                        + " tags: token classification needs one tag per whitespace-separated word");
            }
            int[] wordLabels = new int[tags.length];
            for (int i = 0; i < tags.length; i++) wordLabels[i] = labels.id(tags[i], id);
            Encoding e = tokenizer.encodeWords(words);
            int[] aligned = TokenLabelAligner.align(wordLabels, e.getWordIds());
            return new Example(
                    e.getIds(), e.getAttentionMask(), e.getTypeIds(), new DataCollatorWithPadding.TokenLabels(aligned));
        }
        Label label = switch (kind) {
            case SINGLE_LABEL -> new DataCollatorWithPadding.SingleLabel(labels.id(row.label(), id));
            case MULTI_LABEL -> {
                float[] t = new float[labels.size()];
                for (String name : splitMulti(row.label())) t[labels.id(name, id)] = 1f;
                yield new DataCollatorWithPadding.MultiLabel(t);
            }
            case REGRESSION -> {
                try {
                    yield new DataCollatorWithPadding.Regression(
                            Float.parseFloat(row.label().trim()));
                } catch (NumberFormatException ex) {
                    throw new IllegalArgumentException(
                            "row " + id + ": regression label '" + row.label() + "' is not a number");
                }
            }
            default -> throw new IllegalArgumentException("label kind " + kind + " is not trainable here");
        };
        Encoding e =
                row.textPair() == null ? tokenizer.encode(row.text()) : tokenizer.encode(row.text(), row.textPair());
        return new Example(e.getIds(), e.getAttentionMask(), e.getTypeIds(), label);
    }

    /** The class names of a multi-label cell: comma-separated, trimmed, empty entries dropped. */
    public static List<String> splitMulti(String cell) {
        return Arrays.stream(cell.split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .toList();
    }

    /** The class names a dataset's labels use under {@code kind} (nulls skipped; validation comes later). */
    public static List<String> labelNames(TextDataset data, LabelKind kind) {
        List<String> names = new ArrayList<>();
        for (TextDataset.Row r : data.rows()) {
            if (r.label() == null) continue;
            switch (kind) {
                case SINGLE_LABEL -> names.add(r.label());
                case MULTI_LABEL -> names.addAll(splitMulti(r.label()));
                case TOKEN -> names.addAll(Arrays.asList(r.label().trim().split("\\s+")));
                default -> {}
            }
        }
        return names;
    }
}
