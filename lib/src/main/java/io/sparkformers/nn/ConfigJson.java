package io.sparkformers.nn;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reading and writing HF {@code config.json} objects: typed getters that consume the keys they read (what is left
 * over is kept verbatim so a save round-trips), and the label fields every {@code PretrainedConfig} shares.
 */
public final class ConfigJson {

    /** HF {@code PretrainedConfig.problem_type} values. */
    public static final List<String> PROBLEM_TYPES =
            List.of("single_label_classification", "multi_label_classification", "regression");

    /**
     * Most labels a classification head may have (ImageNet-21k has 21,843): {@code num_labels} beyond it is refused
     * before a label map of that size is built.
     */
    public static final int MAX_LABELS = 1_000_000;

    private final ObjectNode rest;

    private ConfigJson(JsonNode json) {
        if (json == null || !json.isObject()) throw new IllegalArgumentException("config must be a JSON object");
        rest = ((ObjectNode) json).deepCopy();
    }

    /** A reader over a copy of {@code json}; the caller's node is never changed. */
    public static ConfigJson reading(JsonNode json) {
        return new ConfigJson(json);
    }

    private JsonNode take(String key) {
        JsonNode n = rest.remove(key);
        return n == null || n.isNull() ? null : n;
    }

    public int intOr(String key, int dflt) {
        JsonNode n = take(key);
        if (n == null) return dflt;
        if (!n.canConvertToInt() || !n.isIntegralNumber()) throw bad(key, n, "an integer");
        return n.intValue();
    }

    public Integer intOrNull(String key) {
        JsonNode n = take(key);
        if (n == null) return null;
        if (!n.isIntegralNumber() || !n.canConvertToInt()) throw bad(key, n, "an integer");
        return n.intValue();
    }

    public double doubleOr(String key, double dflt) {
        Double d = doubleOrNull(key);
        return d == null ? dflt : d;
    }

    public Double doubleOrNull(String key) {
        JsonNode n = take(key);
        if (n == null) return null;
        if (!n.isNumber()) throw bad(key, n, "a number");
        return n.doubleValue();
    }

    public boolean boolOr(String key, boolean dflt) {
        JsonNode n = take(key);
        if (n == null) return dflt;
        if (!n.isBoolean()) throw bad(key, n, "a boolean");
        return n.booleanValue();
    }

    public String stringOr(String key, String dflt) {
        JsonNode n = take(key);
        if (n == null) return dflt;
        if (!n.isTextual()) throw bad(key, n, "a string");
        return n.textValue();
    }

    public List<String> stringsOrNull(String key) {
        JsonNode n = take(key);
        if (n == null) return null;
        if (!n.isArray()) throw bad(key, n, "an array of strings");
        List<String> out = new ArrayList<>();
        n.forEach(e -> out.add(e.asText()));
        return List.copyOf(out);
    }

    /**
     * HF label fields: {@code id2label} wins; else {@code num_labels} gives {@code LABEL_i}; else two labels, as
     * {@code PretrainedConfig.__init__}. {@code label2id} is derived, so it is consumed and dropped.
     */
    public Map<Integer, String> id2label() {
        JsonNode n = take("id2label");
        Integer numLabels = intOrNull("num_labels");
        take("label2id");
        if (n != null) {
            if (!n.isObject()) throw bad("id2label", n, "an object");
            Map<Integer, String> m = new TreeMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                try {
                    m.put(Integer.parseInt(e.getKey()), e.getValue().asText());
                } catch (NumberFormatException ex) {
                    throw new IllegalArgumentException("id2label key '" + e.getKey() + "' is not an integer");
                }
            }
            return labels(m);
        }
        return defaultLabels(numLabels == null ? 2 : numLabels);
    }

    /** {@code LABEL_0 … LABEL_{n-1}}, HF's names for labels nobody named. */
    public static Map<Integer, String> defaultLabels(int n) {
        if (n <= 0) throw new IllegalArgumentException("num_labels must be > 0 but was " + n);
        if (n > MAX_LABELS) {
            throw new IllegalArgumentException("num_labels " + n + " is more than the " + MAX_LABELS
                    + " labels a head may have (ConfigJson.MAX_LABELS)");
        }
        Map<Integer, String> m = new TreeMap<>();
        for (int i = 0; i < n; i++) m.put(i, "LABEL_" + i);
        return labels(m);
    }

    /** An unmodifiable id → label map ordered by id; validates ids are 0..n-1 and names unique. */
    public static Map<Integer, String> labels(Map<Integer, String> id2label) {
        Map<Integer, String> m = new LinkedHashMap<>();
        new TreeMap<>(id2label).forEach(m::put);
        int expect = 0;
        for (int id : m.keySet()) {
            if (id != expect++)
                throw new IllegalArgumentException(
                        "id2label ids must be 0.." + (m.size() - 1) + " but are " + m.keySet());
        }
        if (m.isEmpty()) throw new IllegalArgumentException("id2label is empty");
        if (m.values().stream().distinct().count() != m.size()) {
            throw new IllegalArgumentException("id2label names are not unique: " + m.values());
        }
        return Collections.unmodifiableMap(m);
    }

    /** The keys no getter consumed, kept so that {@code toJson} writes them back. */
    public ObjectNode remaining() {
        return rest.deepCopy();
    }

    /** Writes {@code known} and {@code extra} merged, keys sorted as HF's {@code to_json_string} does. */
    public static ObjectNode write(Map<String, Object> known, ObjectNode extra, Map<Integer, String> id2label) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        TreeMap<String, JsonNode> all = new TreeMap<>();
        extra.fields().forEachRemaining(e -> all.put(e.getKey(), e.getValue().deepCopy()));
        ObjectNode i2l = JsonNodeFactory.instance.objectNode();
        ObjectNode l2i = JsonNodeFactory.instance.objectNode();
        id2label.forEach((id, name) -> {
            i2l.put(Integer.toString(id), name);
            l2i.put(name, id);
        });
        all.put("id2label", i2l);
        all.put("label2id", l2i);
        known.forEach((k, v) -> {
            if (v != null) all.put(k, toNode(v));
        });
        all.forEach(out::set);
        return out;
    }

    private static JsonNode toNode(Object v) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (v instanceof Integer i) return f.numberNode(i);
        if (v instanceof Double d) return f.numberNode(d);
        if (v instanceof Boolean b) return f.booleanNode(b);
        if (v instanceof String s) return f.textNode(s);
        if (v instanceof List<?> l) {
            var a = f.arrayNode();
            l.forEach(e -> a.add(String.valueOf(e)));
            return a;
        }
        throw new IllegalArgumentException("cannot write " + v.getClass());
    }

    private static IllegalArgumentException bad(String key, JsonNode n, String want) {
        return new IllegalArgumentException("config key '" + key + "' must be " + want + " but is " + n);
    }
}
