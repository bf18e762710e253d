package io.sparkformers;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaCall;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import java.util.Map;
import java.util.Set;

/**
 * Guards the NaN-gradient mechanism ({@link io.sparkformers.nn.NativeArrays#scalar}): DJL's {@code x.mul(Number)}
 * wraps the number in a tensor over a JVM direct buffer and closes the wrapper at once; when autograd saves that
 * operand for the backward pass, a GC in between frees its memory and the backward reads garbage. So the code that
 * runs under autograd — the models ({@code nn}: modules' forward, heads, losses) and training ({@code train}: losses,
 * steps) — calls {@link io.sparkformers.nn.NativeArrays#mul}/{@code div}/{@code pow}/{@code maximum} instead of
 * NDArray's {@code (Number)} overloads of the ops whose backward saves the operand: mul, div, pow, maximum, minimum,
 * mod and their in-place forms. {@code add}/{@code sub}/{@code (Number)} stay allowed: their backward saves neither
 * operand (torch's derivatives.yaml: {@code grad} and {@code alpha} only), so a freed scalar is never read; comparisons
 * and {@code clip(Number, Number)} (a native scalar, no tensor) likewise.
 */
@AnalyzeClasses(packages = "io.sparkformers", importOptions = ImportOption.DoNotIncludeTests.class)
class ScalarOperandsTest {

    /** NDArray ops whose {@code (Number)} overload makes a scalar tensor that autograd saves for backward. */
    private static final Set<String> SAVES_OPERAND =
            Set.of("mul", "muli", "div", "divi", "pow", "powi", "maximum", "minimum", "mod", "modi");

    /**
     * Methods allowed the overloads, each with why no gradient can reach the scalar: no graph (grad mode off), or
     * operands that never require gradients (built from token ids, positions, attention masks, integer labels), so
     * autograd records nothing.
     */
    private static final Map<String, String> ALLOWED = Map.ofEntries(
            Map.entry("io.sparkformers.train.AdamW.update", "Optimizer.step runs updates under Autograd.noGrad"),
            Map.entry("io.sparkformers.train.Sgd.update", "Optimizer.step runs updates under Autograd.noGrad"),
            Map.entry("io.sparkformers.train.GradientClipping.scale", "scales gradients under Autograd.noGrad"),
            Map.entry(
                    "io.sparkformers.nn.FusedProjection.build",
                    "the inference kernels' pre-scaled Q weights, built once under NoGrad"),
            Map.entry("io.sparkformers.nn.AttentionMasks.extended", "additive mask from the attention mask (no grad)"),
            Map.entry("io.sparkformers.nn.Seq2SeqLanguageModel.causalMask", "causal mask from positions (no grad)"),
            Map.entry("io.sparkformers.nn.gpt2.GPT2Model.causalMask", "causal mask from positions (no grad)"),
            Map.entry("io.sparkformers.nn.llama.LlamaModel.mask", "causal and padding mask (no grad)"),
            Map.entry("io.sparkformers.nn.Losses.ignoredPast", "integer span labels (no grad)"));

    private static final DescribedPredicate<JavaCall<?>> SCALAR_OPERAND = DescribedPredicate.describe(
            "an NDArray (Number) overload whose operand autograd saves (use NativeArrays.mul/div/pow/maximum)",
            call -> {
                var target = call.getTarget();
                String owner = target.getOwner().getName();
                boolean ndarray = owner.equals("ai.djl.ndarray.NDArray")
                        || owner.equals("ai.djl.ndarray.NDArrays")
                        || owner.startsWith("ai.djl.pytorch.engine.PtNDArray");
                String from = call.getOrigin().getOwner().getName() + "."
                        + call.getOrigin().getName();
                return ndarray
                        && SAVES_OPERAND.contains(target.getName())
                        && target.getRawParameterTypes().stream()
                                .anyMatch(t -> t.getName().equals("java.lang.Number"))
                        && !ALLOWED.containsKey(from);
            });

    @ArchTest
    static final ArchRule trainingPathsPassScalarsThroughNativeArrays = noClasses()
            .that()
            .resideInAnyPackage("io.sparkformers.nn..", "io.sparkformers.train..")
            .should()
            .callCodeUnitWhere(SCALAR_OPERAND)
            .because("a scalar tensor over a JVM buffer that autograd saves may be freed by a GC before backward "
                    + "(NaN or wrong gradients): use io.sparkformers.nn.NativeArrays");
}
