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
