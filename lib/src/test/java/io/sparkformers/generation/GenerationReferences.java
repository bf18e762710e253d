package io.sparkformers.generation;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * The text-generation references of Python transformers 4.57.6 (resources/generation, made by
 * lib/src/test/python/make_generation_references.py): a seeded tiny GPT-2 checkpoint and its outputs. A null in a
 * score list is -inf.
 */
public final class GenerationReferences {

    private static JsonNode refs;

    private GenerationReferences() {}

    /** The tiny GPT-2 checkpoint folder. */
    public static Path gpt2Tiny() {
        return resource("gpt2-tiny");
    }

    public static synchronized JsonNode references() {
        if (refs == null) {
            try {
                refs = JsonMapper.builder()
                        .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
                        .build()
                        .readTree(resource("references.json").toFile());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return refs;
    }

    /** The case named {@code name} of a reference list ("generate", "processors"). */
    public static JsonNode namedCase(String list, String name) {
        for (JsonNode c : references().get(list)) if (c.get("name").asText().equals(name)) return c;
        throw new IllegalArgumentException("no " + list + " case " + name);
    }

    public static float[] floats(JsonNode arr) {
        float[] out = new float[arr.size()];
        for (int i = 0; i < out.length; i++)
            out[i] = arr.get(i).isNull()
                    ? Float.NEGATIVE_INFINITY
                    : (float) arr.get(i).asDouble();
        return out;
    }

    public static long[] longs(JsonNode arr) {
        long[] out = new long[arr.size()];
        for (int i = 0; i < out.length; i++) out[i] = arr.get(i).asLong();
        return out;
    }

    public static long[][] longRows(JsonNode rows) {
        long[][] out = new long[rows.size()][];
        for (int i = 0; i < out.length; i++) out[i] = longs(rows.get(i));
        return out;
    }

    /** Largest |a - b| relative to max(1, |b|); equal infinities count as 0. */
    public static double maxRelDiff(float[] a, float[] b) {
        if (a.length != b.length) throw new AssertionError("lengths " + a.length + " vs " + b.length);
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            if (a[i] == b[i]) continue;
            max = Math.max(max, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
        }
        return max;
    }

    private static Path resource(String name) {
        try {
            return Path.of(GenerationReferences.class
                    .getResource("/generation/" + name)
                    .toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
