package io.sparkformers.metrics;

import java.util.Map;
import java.util.function.Predicate;

/**
 * Port of NLTK's {@code nltk.stem.porter.PorterStemmer} in its default mode, {@code NLTK_EXTENSIONS} (what Google's
 * {@code rouge_score} stems with under {@code use_stemmer=True}): Porter's 1980 algorithm (steps 1a–5b) with Martin
 * Porter's and NLTK's amendments — irregular forms ("skies" → "sky", "dying" → "die"), "ies"/"ied" of four letters
 * → "ie", y → i only after a consonant, "alli" → "al" recursively, "fulli", "logi", "bli", and words of at most two
 * letters left as they are. Input is lower-cased first; stateless and thread-safe.
 */
public final class PorterStemmer {

    private static final Map<String, String> IRREGULAR = Map.ofEntries(
            Map.entry("sky", "sky"),
            Map.entry("skies", "sky"),
            Map.entry("dying", "die"),
            Map.entry("lying", "lie"),
            Map.entry("tying", "tie"),
            Map.entry("news", "news"),
            Map.entry("innings", "inning"),
            Map.entry("inning", "inning"),
            Map.entry("outings", "outing"),
            Map.entry("outing", "outing"),
            Map.entry("cannings", "canning"),
            Map.entry("canning", "canning"),
            Map.entry("howe", "howe"),
            Map.entry("proceed", "proceed"),
            Map.entry("exceed", "exceed"),
            Map.entry("succeed", "succeed"));

    private PorterStemmer() {}

    /** The stem of {@code word} (NLTK's {@code PorterStemmer().stem(word)}). */
    public static String stem(String word) {
        String s = word.toLowerCase(java.util.Locale.ROOT);
        String irregular = IRREGULAR.get(s);
        if (irregular != null) return irregular;
        if (word.length() <= 2) return s;
        s = step1a(s);
        s = step1b(s);
        s = step1c(s);
        s = step2(s);
        s = step3(s);
        s = step4(s);
        s = step5a(s);
        return step5b(s);
    }

    // ------------------------------------------------------------------------------------------ conditions

    private static boolean isVowel(char c) {
        return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
    }

    /** Porter's consonant: not a vowel, and a 'y' only when it starts the word or follows a vowel. */
    static boolean isConsonant(String w, int i) {
        char c = w.charAt(i);
        if (isVowel(c)) return false;
        if (c != 'y') return true;
        boolean negate = false;
        while (i > 0 && w.charAt(i) == 'y') {
            negate = !negate;
            i--;
        }
        return !isVowel(w.charAt(i)) != negate;
    }

    /** m in [C](VC){m}[V]: the vowel-consonant transitions. */
    static int measure(String stem) {
        int m = 0;
        boolean prevVowel = false;
        boolean prevCons = false;
        for (int i = 0; i < stem.length(); i++) {
            boolean cons = consonantFlag(stem, i, prevCons);
            if (cons && prevVowel) m++;
            prevVowel = !cons;
            prevCons = cons;
        }
        return m;
    }

    /** The consonant flag of position i from the previous one (NLTK's one-pass {@code _consonant_flags}). */
    private static boolean consonantFlag(String w, int i, boolean prevConsonant) {
        char c = w.charAt(i);
        if (isVowel(c)) return false;
        if (c == 'y') return i == 0 || !prevConsonant;
        return true;
    }

    private static boolean positiveMeasure(String stem) {
        return measure(stem) > 0;
    }

    private static boolean containsVowel(String stem) {
        boolean prev = false;
        for (int i = 0; i < stem.length(); i++) {
            prev = consonantFlag(stem, i, prev);
            if (!prev) return true;
        }
        return false;
    }

    /** *d: ends with a double consonant. */
    private static boolean endsDoubleConsonant(String w) {
        int n = w.length();
        return n >= 2 && w.charAt(n - 1) == w.charAt(n - 2) && isConsonant(w, n - 1);
    }

    /** *o: ends consonant-vowel-consonant, the last not w, x or y; NLTK also takes a two-letter vowel-consonant. */
    private static boolean endsCvc(String w) {
        int n = w.length();
        if (n >= 3
                && isConsonant(w, n - 3)
                && !isConsonant(w, n - 2)
                && isConsonant(w, n - 1)
                && "wxy".indexOf(w.charAt(n - 1)) < 0) {
            return true;
        }
        return n == 2 && !isConsonant(w, 0) && isConsonant(w, 1);
    }

    // ------------------------------------------------------------------------------------------ rules

    /** A suffix rule: suffix → replacement when the condition holds for the stem. */
    private record Rule(String suffix, String replacement, Predicate<String> condition) {}

    /** NLTK's {@code _apply_rule_list}: the first rule whose suffix matches decides; its condition failing ends it. */
    private static String apply(String word, Rule... rules) {
        for (Rule r : rules) {
            if (word.endsWith(r.suffix())) {
                String stem = word.substring(0, word.length() - r.suffix().length());
                return r.condition() == null || r.condition().test(stem) ? stem + r.replacement() : word;
            }
        }
        return word;
    }

    private static String step1a(String w) {
        if (w.endsWith("ies") && w.length() == 4) return w.substring(0, 1) + "ie";
        return apply(
                w,
                new Rule("sses", "ss", null),
                new Rule("ies", "i", null),
                new Rule("ss", "ss", null),
                new Rule("s", "", null));
    }

    private static String step1b(String w) {
        if (w.endsWith("ied")) return w.substring(0, w.length() - 3) + (w.length() == 4 ? "ie" : "i");
        if (w.endsWith("eed")) {
            String stem = w.substring(0, w.length() - 3);
            return measure(stem) > 0 ? stem + "ee" : w;
        }
        String s = null;
        for (String suffix : new String[] {"ed", "ing"}) {
            if (w.endsWith(suffix)) {
                String candidate = w.substring(0, w.length() - suffix.length());
                if (containsVowel(candidate)) {
                    s = candidate;
                    break;
                }
            }
        }
        if (s == null) return w;
        if (s.endsWith("at") || s.endsWith("bl") || s.endsWith("iz")) return s + "e";
        if (endsDoubleConsonant(s)) {
            char last = s.charAt(s.length() - 1);
            return last != 'l' && last != 's' && last != 'z' ? s.substring(0, s.length() - 1) : s;
        }
        return measure(s) == 1 && endsCvc(s) ? s + "e" : s;
    }

    private static String step1c(String w) {
        // NLTK: y → i only after a consonant, and not when the stem is that one consonant
        return apply(w, new Rule("y", "i", stem -> stem.length() > 1 && isConsonant(stem, stem.length() - 1)));
    }

    private static String step2(String w) {
        Predicate<String> m = PorterStemmer::positiveMeasure;
        if (w.endsWith("alli") && positiveMeasure(w.substring(0, w.length() - 4))) {
            return step2(w.substring(0, w.length() - 4) + "al");
        }
        String full = w;
        return apply(
                w,
                new Rule("ational", "ate", m),
                new Rule("tional", "tion", m),
                new Rule("enci", "ence", m),
                new Rule("anci", "ance", m),
                new Rule("izer", "ize", m),
                new Rule("bli", "ble", m),
                new Rule("alli", "al", m),
                new Rule("entli", "ent", m),
                new Rule("eli", "e", m),
                new Rule("ousli", "ous", m),
                new Rule("ization", "ize", m),
                new Rule("ation", "ate", m),
                new Rule("ator", "ate", m),
                new Rule("alism", "al", m),
                new Rule("iveness", "ive", m),
                new Rule("fulness", "ful", m),
                new Rule("ousness", "ous", m),
                new Rule("aliti", "al", m),
                new Rule("iviti", "ive", m),
                new Rule("biliti", "ble", m),
                new Rule("fulli", "ful", m),
                // NLTK measures the word less "ogi" here (the stem keeps its "l")
                new Rule("logi", "log", stem -> positiveMeasure(full.substring(0, full.length() - 3))));
    }

    private static String step3(String w) {
        Predicate<String> m = PorterStemmer::positiveMeasure;
        return apply(
                w,
                new Rule("icate", "ic", m),
                new Rule("ative", "", m),
                new Rule("alize", "al", m),
                new Rule("iciti", "ic", m),
                new Rule("ical", "ic", m),
                new Rule("ful", "", m),
                new Rule("ness", "", m));
    }

    private static String step4(String w) {
        Predicate<String> m = stem -> measure(stem) > 1;
        return apply(
                w,
                new Rule("al", "", m),
                new Rule("ance", "", m),
                new Rule("ence", "", m),
                new Rule("er", "", m),
                new Rule("ic", "", m),
                new Rule("able", "", m),
                new Rule("ible", "", m),
                new Rule("ant", "", m),
                new Rule("ement", "", m),
                new Rule("ment", "", m),
                new Rule("ent", "", m),
                new Rule("ion", "", stem -> measure(stem) > 1 && (stem.endsWith("s") || stem.endsWith("t"))),
                new Rule("ou", "", m),
                new Rule("ism", "", m),
                new Rule("ate", "", m),
                new Rule("iti", "", m),
                new Rule("ous", "", m),
                new Rule("ive", "", m),
                new Rule("ize", "", m));
    }

    private static String step5a(String w) {
        if (!w.endsWith("e")) return w;
        String stem = w.substring(0, w.length() - 1);
        int m = measure(stem);
        if (m > 1 || (m == 1 && !endsCvc(stem))) return stem;
        return w;
    }

    private static String step5b(String w) {
        return w.endsWith("ll") && measure(w.substring(0, w.length() - 1)) > 1 ? w.substring(0, w.length() - 1) : w;
    }
}
