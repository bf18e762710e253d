package io.sparkformers.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The classes of a classification head: label names in id order, as HF's {@code id2label} / {@code label2id} in
 * config.json. Built from the training rows (sorted unique names, as {@code datasets}' {@code class_encode_column}
 * does) unless the caller gives the list; a label outside it is an error naming the row.
 */
public final class LabelSpace {
    private final List<String> names;
    private final Map<String, Integer> ids = new LinkedHashMap<>();

    public LabelSpace(List<String> names) {
        if (names.isEmpty()) throw new IllegalArgumentException("a label space needs at least one label");
        this.names = List.copyOf(names);
        for (int i = 0; i < names.size(); i++) {
            String n = names.get(i);
            if (n == null || n.isEmpty()) throw new IllegalArgumentException("label " + i + " is empty");
            if (ids.put(n, i) != null) throw new IllegalArgumentException("label '" + n + "' appears twice");
        }
    }

    /** Sorted unique names of {@code labels} (each already split, e.g. multi-label sets); nulls are skipped. */
    public static LabelSpace fromLabels(Iterable<String> labels) {
        TreeSet<String> sorted = new TreeSet<>();
        for (String l : labels) if (l != null && !l.isEmpty()) sorted.add(l);
        if (sorted.isEmpty()) throw new IllegalArgumentException("the training data has no labels");
        return new LabelSpace(new ArrayList<>(sorted));
    }

    /**
     * The classes of a single-label classifier from the training rows' label value counts (nulls and empty labels
     * skipped). Fewer than 2 classes is refused before any training: a one-class softmax predicts that class whatever
     * the input, so the fit would "succeed" and write a classifier that knows nothing.
     *
     * @param where what holds the labels, for the message ("the label column 'label'")
     */
    public static LabelSpace forSingleLabel(Map<String, Long> counts, String where) {
        Map<String, Long> seen = new java.util.TreeMap<>();
        counts.forEach((label, n) -> {
            if (label != null && !label.isEmpty()) seen.merge(label, n, Long::sum);
        });
        LabelSpace space = fromLabels(seen.keySet());
        if (space.size() < 2) throw oneClass(where + " holds a single value (value counts: " + seen + ")");
        return space;
    }

    /** A single-label classifier's classes given by the caller: at least 2, as {@link #forSingleLabel}. */
    public static LabelSpace forSingleLabel(List<String> names) {
        LabelSpace space = new LabelSpace(names);
        if (space.size() < 2) throw oneClass("the labels given are only " + names);
        return space;
    }

    private static IllegalArgumentException oneClass(String what) {
        return new IllegalArgumentException("single-label classification needs at least 2 classes, but " + what
                + ": add training rows of the other classes (check the data's path, filter and limit, and the label "
                + "column)");
    }

    public List<String> names() {
        return names;
    }

    public int size() {
        return names.size();
    }

    /** The id of {@code label}, or an error naming the row and the known labels. */
    public int id(String label, String rowId) {
        Integer id = ids.get(label);
        if (id == null) {
            throw new IllegalArgumentException("row " + rowId + ": label '" + label + "' is not one of the "
                    + names.size() + " labels " + preview() + ": fix the row or pass the full label list");
        }
        return id;
    }

    public boolean contains(String label) {
        return ids.containsKey(label);
    }

    /** HF {@code id2label}. */
    public Map<Integer, String> id2label() {
        Map<Integer, String> m = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) m.put(i, names.get(i));
        return m;
    }

    private String preview() {
        return names.size() <= 20 ? names.toString() : names.subList(0, 20) + "…";
    }

    @Override
    public String toString() {
        return "LabelSpace" + names;
    }
}
