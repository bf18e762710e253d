package io.sparkformers.nn;

import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.function.Consumer;

/**
 * Loads the TorchScript modules under this package's resources ({@code *.pt}, each written by a committed script in
 * {@code lib/src/main/python}) through which the kernels DJL cannot name are reached (BF16 linear, oneDNN linear +
 * GELU, scaled_dot_product_attention, a whole BERT-family encoder layer).
 */
final class ScriptedKernels {
    private ScriptedKernels() {}

    private static final System.Logger LOG = System.getLogger(ScriptedKernels.class.getName());

    /** The module in {@code resource}, owned by {@code manager}; a missing resource or failed load throws. */
    static PtSymbolBlock load(String resource, NDManager manager) {
        try (InputStream in = ScriptedKernels.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException(resource + " is missing from the classpath");
            return JniUtils.loadModule((PtNDManager) manager, in, true, false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The module after {@code selfCheck} passed on it, or null — with one log line naming {@code fallback}, what runs
     * instead — where it cannot load or run here (a libtorch without the op), so that callers keep their eager path.
     */
    static PtSymbolBlock loadOptional(
            String resource, NDManager manager, Consumer<PtSymbolBlock> selfCheck, String fallback) {
        try {
            PtSymbolBlock m = load(resource, manager);
            selfCheck.accept(m);
            return m;
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.INFO, fallback + " (" + e + ")");
            return null;
        }
    }
}
