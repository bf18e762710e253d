package io.sparkformers.train;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * A torch-style parameter group: the parameters a predicate selects share a base learning rate and a weight
 * decay. An optimizer takes an ordered list; each parameter belongs to the first group that selects it.
 *
 * @param name        label used in error messages
 * @param selects     which parameter names belong here
 * @param lr          base learning rate, scaled by the schedule multiplier at each step
 * @param weightDecay decay coefficient (AdamW: decoupled; SGD: L2 added to the gradient)
 */
public record ParamGroup(String name, Predicate<String> selects, double lr, double weightDecay) {

    public ParamGroup {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(selects, "selects");
        if (!(lr >= 0)) throw new IllegalArgumentException("group '" + name + "': lr must be >= 0 but was " + lr);
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("group '" + name + "': weightDecay must be >= 0 but was " + weightDecay);
        }
    }

    /** One group holding every parameter. */
    public static List<ParamGroup> single(double lr, double weightDecay) {
        return List.of(new ParamGroup("all", n -> true, lr, weightDecay));
    }

    /**
     * HF Trainer's two groups: no weight decay on biases and LayerNorm weights ({@link #isNoDecay}), {@code
     * weightDecay} on everything else, one learning rate for both.
     */
    public static List<ParamGroup> hfDefaults(double lr, double weightDecay) {
        return List.of(
                new ParamGroup("no_decay", ParamGroup::isNoDecay, lr, 0.0),
                new ParamGroup("decay", n -> true, lr, weightDecay));
    }

    /**
     * True for names HF Trainer exempts from weight decay ({@code get_decay_parameter_names}, transformers 4.57): names
     * containing {@code bias}, {@code layernorm} or {@code rmsnorm} (any case), a module named {@code norm} or ending
     * in {@code _norm}, and the parameters of {@code nn.LayerNorm} modules, which HF finds by type: our blocks keep
     * HF's child names, so the name says the same ({@code LayerNorm}, {@code layer_norm}, GPT-2's {@code ln_1},
     * {@code ln_2}, {@code ln_f}).
     */
    public static boolean isNoDecay(String paramName) {
        String lower = paramName.toLowerCase(Locale.ROOT);
        return lower.contains("bias")
                || lower.contains("layernorm")
                || lower.contains("layer_norm")
                || lower.contains("rmsnorm")
                || NORM_MODULE.matcher(lower).find();
    }

    /** HF's {@code (?:^|\.)norm(?:$|\.)} and {@code _norm(?:$|\.)}, and GPT-2's layer-norm modules {@code ln_…}. */
    private static final Pattern NORM_MODULE =
            Pattern.compile("(?:^|\\.)norm(?:$|\\.)|_norm(?:$|\\.)|(?:^|\\.)ln_\\w+\\.");
}
