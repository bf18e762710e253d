package io.sparkformers.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MKL's Intel path on a non-Intel CPU: each case runs in a fresh JVM (the switch must precede the first GEMM, and this
 * test JVM has run many), once with the switch and once opted out. Both must give a MiniLM-sized linear layer's result
 * within float rounding of a double-precision Java reference.
 */
class GemmPathTest {

    /** MiniLM's intermediate layer on 8 × 16 tokens: (128, 384) · (1536, 384)ᵀ + b; K = 384 as in every BERT GEMM. */
    static final int M = 128, K = 384, N = 1536;

    record Run(String state, float[] out) {}

    static Run switched, optedOut;
    static double[] reference;

    @BeforeAll
    static void runBoth(@TempDir Path dir) throws Exception {
        switched = child(dir.resolve("on.bin"), List.of());
        optedOut = child(dir.resolve("off.bin"), List.of("-D" + GemmPath.PROPERTY + "=false"));
        float[] a = data(M * K, 1), w = data(N * K, 2), b = data(N, 3);
        reference = new double[M * N];
        for (int i = 0; i < M; i++) {
            for (int j = 0; j < N; j++) {
                double s = b[j];
                for (int k = 0; k < K; k++) s += (double) a[i * K + k] * w[j * K + k];
                reference[i * N + j] = s;
            }
        }
    }

    @Test
    void bothPathsMatchADoublePrecisionReference() {
        for (Run r : List.of(switched, optedOut)) {
            assertEquals(M * N, r.out.length);
            double worst = 0;
            for (int i = 0; i < r.out.length; i++) worst = Math.max(worst, Math.abs(r.out[i] - reference[i]));
            // |terms| < 1, K = 384: float32 accumulation error stays far below 1e-4
            assertTrue(worst < 1e-4, r.state + ": max |error| " + worst);
        }
    }

    @Test
    void theSwitchTakesMklOntoItsIntelPathOnANonIntelCpuWithAvx2() {
        CpuInfo cpu = CpuInfo.current();
        assumeTrue(
                !cpu.isIntel()
                        && cpu.has("avx2")
                        && cpu.has("fma")
                        && System.getProperty("os.arch").equals("amd64"),
                "needs a non-Intel x86-64 CPU with AVX2/FMA; this one is " + cpu.describe());
        assertTrue(switched.state.startsWith("true true "), switched.state);
        // MKL's dispatcher: branch 0 is its generic path, any other a CPU-specific one
        assertFalse(switched.state.contains("branch 0"), switched.state);
        assertFalse(switched.state.contains("unknown"), switched.state);
        assertTrue(optedOut.state.startsWith("false false branch 0, generic"), optedOut.state);
        assertTrue(optedOut.state.contains("turned off"), optedOut.state);
    }

    @Test
    void onIntelNothingIsSwitched() {
        assumeTrue(
                CpuInfo.current().isIntel(),
                "an Intel CPU case; this one is " + CpuInfo.current().describe());
        assertTrue(switched.state.startsWith("true false "), switched.state);
    }

    /** Deterministic values in (−0.5, 0.5). */
    static float[] data(int n, int seed) {
        float[] v = new float[n];
        long x = seed * 0x9E3779B97F4A7C15L;
        for (int i = 0; i < n; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            v[i] = (float) ((x >>> 40) / (double) (1L << 24)) - 0.5f;
        }
        return v;
    }

    static Run child(Path out, List<String> jvmArgs) throws Exception {
        List<String> cmd = new java.util.ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmArgs);
        cmd.addAll(List.of(
                "-Dai.djl.offline=true",
                "-cp",
                System.getProperty("java.class.path"),
                Child.class.getName(),
                "" + out));
        Process p = new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child timed out");
        assertEquals(0, p.exitValue(), "child failed");
        try (DataInputStream in = new DataInputStream(Files.newInputStream(out))) {
            String state = in.readUTF();
            float[] v = new float[in.readInt()];
            for (int i = 0; i < v.length; i++) v[i] = in.readFloat();
            return new Run(state, v);
        }
    }

    /** Applies the switch, runs the linear layer, writes "intelPath switched branch: reason" and the result. */
    static final class Child {
        public static void main(String[] args) throws IOException {
            GemmPath.State s = GemmPath.apply();
            try (NDManager m = NDManager.newBaseManager();
                    DataOutputStream o = new DataOutputStream(Files.newOutputStream(Path.of(args[0])))) {
                NDArray a = m.create(data(M * K, 1), new Shape(M, K));
                NDArray w = m.create(data(N * K, 2), new Shape(N, K));
                NDArray b = m.create(data(N, 3), new Shape(N));
                float[] y = Linear.linear(a, w, b).singletonOrThrow().toFloatArray();
                o.writeUTF(s.intelPath() + " " + s.switched() + " " + s.branch() + ": " + s.reason());
                o.writeInt(y.length);
                for (float f : y) o.writeFloat(f);
            }
        }
    }
}
