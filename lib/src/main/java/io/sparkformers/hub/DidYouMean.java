package io.sparkformers.hub;

import java.util.Collection;
import java.util.Locale;

/**
 * The one "did you mean" of every configuration reader (training arguments, the finetune and predict YAML files): the
 * closest known key by edit distance, offered only when it is plausibly a typo.
 */
public final class DidYouMean {
    private DidYouMean() {}

    /**
     * The candidate closest to {@code key} (compared in lower case), or null when none is within a third of the key's
     * length (at least 2 edits): "lerning_rate" (1 edit) is a typo of learning_rate, "foo" is not "fp16".
     */
    public static String closest(String key, Collection<String> candidates) {
        String k = key.toLowerCase(Locale.ROOT);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String c : candidates) {
            int d = levenshtein(k, c);
            if (d < bestDistance) {
                bestDistance = d;
                best = c;
            }
        }
        return best != null && bestDistance <= Math.max(2, key.length() / 3) ? best : null;
    }

    /** Edit distance with unit costs for insertion, deletion and substitution. */
    public static int levenshtein(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
