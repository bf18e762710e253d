package io.sparkformers.nn;

import java.util.List;

/**
 * What {@link StateDict#load} did, in HF {@code from_pretrained}'s terms (model-side names).
 *
 * @param missing          model parameters absent from the checkpoint
 * @param unexpected       checkpoint keys the model has no parameter for (after prefix handling, aliases and the
 *                         ignore list)
 * @param mismatched       "name: checkpoint [..] vs model [..]" for every shape disagreement
 * @param newlyInitialized parameters that keep their fresh HF initialisation (missing, plus mismatched when
 *                         mismatches are tolerated)
 * @param ignored          checkpoint keys skipped on purpose: tied weights, pre-training heads, buffers
 */
public record LoadReport(
        List<String> missing,
        List<String> unexpected,
        List<String> mismatched,
        List<String> newlyInitialized,
        List<String> ignored) {

    public LoadReport {
        missing = List.copyOf(missing);
        unexpected = List.copyOf(unexpected);
        mismatched = List.copyOf(mismatched);
        newlyInitialized = List.copyOf(newlyInitialized);
        ignored = List.copyOf(ignored);
    }

    /** True when every parameter came from the checkpoint and every key was used or knowingly ignored. */
    public boolean isExact() {
        return missing.isEmpty() && unexpected.isEmpty() && mismatched.isEmpty();
    }

    /** One message naming all three kinds of disagreement, as HF's "Error(s) in loading state_dict". */
    public String describe() {
        return "missing keys " + missing + "; unexpected keys " + unexpected + "; size mismatches " + mismatched;
    }
}
