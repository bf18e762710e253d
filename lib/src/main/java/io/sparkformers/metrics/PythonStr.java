package io.sparkformers.metrics;

import java.util.ArrayList;
import java.util.List;

/**
 * Python's {@code str} whitespace rules, which the reference metrics (sacrebleu's tokenizers, the SQuAD script) apply
 * through {@code str.split()}: one definition for {@link BleuState}, {@link ChrfState} and {@link SquadState}.
 */
final class PythonStr {
    private PythonStr() {}

    /** Python's {@code str.isspace}: Java whitespace plus the no-break spaces (category Zs) and NEL (U+0085). */
    static boolean isSpace(int codePoint) {
        return Character.isWhitespace(codePoint) || Character.isSpaceChar(codePoint) || codePoint == 0x85;
    }

    /** Python's {@code str.split()}: runs of whitespace separate tokens, no empty tokens, none at either end. */
    static List<String> split(CharSequence s) {
        List<String> out = new ArrayList<>();
        int start = -1;
        for (int i = 0; i < s.length(); i++) {
            if (isSpace(s.charAt(i))) {
                if (start >= 0) out.add(s.subSequence(start, i).toString());
                start = -1;
            } else if (start < 0) {
                start = i;
            }
        }
        if (start >= 0) out.add(s.subSequence(start, s.length()).toString());
        return out;
    }
}
