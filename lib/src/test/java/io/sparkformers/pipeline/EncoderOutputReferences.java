package io.sparkformers.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.hub.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The references of parity/encoder_outputs.json (made by src/test/python/make_encoder_output_references.py): HF models
 * called with output_hidden_states=True and output_attentions=True, and the comparison every consumer of them makes.
 * Hidden states are compared per token row by first, second and last value, sum and L2 norm within 1e-4 of the row's
 * norm; attention probabilities one by one within 1e-4 relative (plus 1e-6 absolute: the references keep 6
 * significant digits and masked-out keys are ~0).
 */
public final class EncoderOutputReferences {
    static final double HIDDEN_OF_NORM = 1e-4;
    static final double ATTENTION_RELATIVE = 1e-4;
    static final double ATTENTION_ABSOLUTE = 1e-6;

    private EncoderOutputReferences() {}

    public static JsonNode cases() throws IOException {
        return Json.MAPPER
                .readTree(PipelineParityTest.resource("encoder_outputs.json").toFile())
                .get("cases");
    }

    /** The case's checkpoint folder: a built-in alias, or a tiny checkpoint committed beside the references. */
    public static Path checkpoint(JsonNode c) throws IOException {
        String name = c.get("checkpoint").asText();
        return name.startsWith("tiny/")
                ? PipelineParityTest.resource(name)
                : BuiltinModels.resolve(BuiltinModels.get(name));
    }

    public static List<String> inputs(JsonNode c) {
        List<String> out = new ArrayList<>();
        c.get("inputs").forEach(n -> out.add(n.asText()));
        return out;
    }

    /**
     * Asserts one text's outputs: hiddenStates (L + 1, T, H), attentions (L, nh, T, T), either null when not asked
     * for; names the case, input, layer, head and position of the worst difference.
     */
    public static void assertMatches(String where, JsonNode want, float[][][] hiddenStates, float[][][][] attentions) {
        int tokens = want.get("tokens").asInt();
        Worst worst = new Worst();
        if (hiddenStates != null) {
            JsonNode layers = want.get("hidden_states");
            assertEquals(layers.size(), hiddenStates.length, where + ": hidden_states count (embeddings + layers)");
            for (int l = 0; l < hiddenStates.length; l++) {
                assertEquals(tokens, hiddenStates[l].length, where + ": tokens in hidden_states[" + l + "]");
                for (int t = 0; t < tokens; t++) {
                    float[] v = hiddenStates[l][t];
                    double sum = 0;
                    double sq = 0;
                    for (float x : v) {
                        sum += x;
                        sq += (double) x * x;
                    }
                    double[] got = {v[0], v[1], v[v.length - 1], sum, Math.sqrt(sq)};
                    JsonNode row = layers.get(l).get(t);
                    double tolerance = HIDDEN_OF_NORM * row.get(4).asDouble();
                    for (int s = 0; s < got.length; s++) {
                        worst.offer(
                                where + " hidden_states[" + l + "] token " + t + " stat " + s,
                                row.get(s).asDouble(),
                                got[s],
                                tolerance);
                    }
                }
            }
        }
        if (attentions != null) {
            JsonNode layers = want.get("attentions");
            assertEquals(layers.size(), attentions.length, where + ": attentions count (layers)");
            for (int l = 0; l < attentions.length; l++) {
                assertEquals(layers.get(l).size(), attentions[l].length, where + ": heads in layer " + l);
                for (int h = 0; h < attentions[l].length; h++) {
                    assertEquals(tokens, attentions[l][h].length, where + ": query rows in layer " + l);
                    for (int q = 0; q < tokens; q++) {
                        assertEquals(tokens, attentions[l][h][q].length, where + ": key columns in layer " + l);
                        for (int k = 0; k < tokens; k++) {
                            double w = layers.get(l).get(h).get(q).get(k).asDouble();
                            worst.offer(
                                    where + " attentions[" + l + "][head " + h + "][query " + q + "][key " + k + "]",
                                    w,
                                    attentions[l][h][q][k],
                                    ATTENTION_RELATIVE * Math.abs(w) + ATTENTION_ABSOLUTE);
                        }
                    }
                }
            }
        }
        assertTrue(worst.excess <= 0, worst.what + " (|diff| " + worst.diff + ", the largest beyond tolerance)");
    }

    private static final class Worst {
        double excess = Double.NEGATIVE_INFINITY;
        double diff;
        String what = "nothing compared";

        void offer(String path, double want, double got, double tolerance) {
            double d = Math.abs(want - got);
            if (Double.isNaN(d)) d = Double.POSITIVE_INFINITY;
            if (d - tolerance > excess) {
                excess = d - tolerance;
                diff = d;
                what = path + ": expected " + want + ", got " + got;
            }
        }
    }
}
