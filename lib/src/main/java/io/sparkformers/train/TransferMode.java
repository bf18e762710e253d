package io.sparkformers.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * How much of a pretrained model a fine-tuning run trains, and at which learning rate.
 * <ul>
 *   <li>{@code feature_extraction}: the pretrained encoder is frozen and runs in eval mode (no dropout, no autograd
 *       graph); only the head trains — its own parameters plus any base parameter the checkpoint lacked and that
 *       was newly initialised (e.g. a pooler for a sentence-transformers checkpoint).</li>
 *   <li>{@code fine_tune}: every parameter trains (HF's default).</li>
 *   <li>{@code partial}: the head, the last {@code unfreezeLastLayers} encoder layers and every parameter whose name
 *       matches one of {@code unfreezePatterns} (Java regex, {@code find}) train; the rest is frozen but still runs in
 *       training mode (dropout on).</li>
 * </ul>
 * The head's parameters may take their own learning rate: {@code headLrMultiplier × learning_rate}.
 *
 * @param kind               the mode
 * @param unfreezeLastLayers partial: encoder layers trained from the top (0 for none)
 * @param unfreezePatterns   partial: regexes over HF parameter names ({@code bert.embeddings.*})
 * @param headLrMultiplier   learning-rate factor of the head's parameter groups (> 0, default 1)
 */
public record TransferMode(Kind kind, int unfreezeLastLayers, List<String> unfreezePatterns, double headLrMultiplier) {

    /** The three modes, by their config names. */
    public enum Kind {
        FEATURE_EXTRACTION,
        FINE_TUNE,
        PARTIAL;

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private static final Pattern LAYER = Pattern.compile("\\.(?:encoder|transformer)\\.layer\\.(\\d+)\\.");

    public TransferMode {
        unfreezePatterns = List.copyOf(unfreezePatterns == null ? List.of() : unfreezePatterns);
        if (unfreezeLastLayers < 0) {
            throw new IllegalArgumentException("unfreeze_last_layers must be >= 0 but was " + unfreezeLastLayers);
        }
        if (!(headLrMultiplier > 0)) {
            throw new IllegalArgumentException("head_lr_multiplier must be > 0 but was " + headLrMultiplier);
        }
        for (String p : unfreezePatterns) {
            try {
                Pattern.compile(p);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException(
                        "unfreeze pattern '" + p + "' is not a valid regex: " + e.getDescription());
            }
        }
        if (kind == Kind.PARTIAL && unfreezeLastLayers == 0 && unfreezePatterns.isEmpty()) {
            throw new IllegalArgumentException("mode partial trains nothing of the encoder: set unfreeze_last_layers "
                    + "> 0 or unfreeze_patterns, or use feature_extraction");
        }
        if (kind != Kind.PARTIAL && (unfreezeLastLayers > 0 || !unfreezePatterns.isEmpty())) {
            throw new IllegalArgumentException("unfreeze_last_layers and unfreeze_patterns apply to mode partial only, "
                    + "not " + kind.configName());
        }
    }

    public static TransferMode fineTune() {
        return new TransferMode(Kind.FINE_TUNE, 0, List.of(), 1.0);
    }

    public static TransferMode featureExtraction() {
        return new TransferMode(Kind.FEATURE_EXTRACTION, 0, List.of(), 1.0);
    }

    public static TransferMode partial(int lastLayers, List<String> patterns) {
        return new TransferMode(Kind.PARTIAL, lastLayers, patterns, 1.0);
    }

    public TransferMode withHeadLrMultiplier(double m) {
        return new TransferMode(kind, unfreezeLastLayers, unfreezePatterns, m);
    }

    /** The mode by config name ({@code feature_extraction}, {@code fine_tune}, {@code partial}). */
    public static Kind kindOf(String name) {
        for (Kind k : Kind.values()) if (k.configName().equalsIgnoreCase(name)) return k;
        throw new IllegalArgumentException("mode '" + name + "' is not one of feature_extraction, fine_tune, partial");
    }

    /** Whether {@code name} belongs to the head: not under the base model's prefix. */
    public static boolean isHead(String name, String basePrefix) {
        return !name.startsWith(basePrefix + ".");
    }

    /**
     * Which parameters train under this mode.
     *
     * @param names            every parameter name of the model
     * @param basePrefix       the base model's prefix ("bert")
     * @param newlyInitialized parameters the checkpoint lacked
     */
    public Set<String> trainable(List<String> names, String basePrefix, Set<String> newlyInitialized) {
        int numLayers = 0;
        for (String n : names) {
            Matcher m = LAYER.matcher(n);
            if (m.find()) numLayers = Math.max(numLayers, Integer.parseInt(m.group(1)) + 1);
        }
        if (kind == Kind.PARTIAL && unfreezeLastLayers > numLayers) {
            throw new IllegalArgumentException(
                    "unfreeze_last_layers " + unfreezeLastLayers + " exceeds the model's " + numLayers + " layers");
        }
        List<Pattern> patterns = new ArrayList<>();
        for (String p : unfreezePatterns) patterns.add(Pattern.compile(p));
        Set<String> out = new java.util.LinkedHashSet<>();
        for (String n : names) {
            boolean train = switch (kind) {
                case FINE_TUNE -> true;
                case FEATURE_EXTRACTION -> isHead(n, basePrefix) || newlyInitialized.contains(n);
                case PARTIAL ->
                    isHead(n, basePrefix)
                            || newlyInitialized.contains(n)
                            || inLastLayers(n, numLayers)
                            || patterns.stream().anyMatch(p -> p.matcher(n).find());
            };
            if (train) out.add(n);
        }
        if (kind == Kind.PARTIAL) {
            for (Pattern p : patterns) {
                if (names.stream().noneMatch(n -> p.matcher(n).find())) {
                    throw new IllegalArgumentException("unfreeze pattern '" + p + "' matches no parameter (names look "
                            + "like " + names.get(0) + ")");
                }
            }
        }
        return out;
    }

    private boolean inLastLayers(String name, int numLayers) {
        Matcher m = LAYER.matcher(name);
        return unfreezeLastLayers > 0 && m.find() && Integer.parseInt(m.group(1)) >= numLayers - unfreezeLastLayers;
    }
}
