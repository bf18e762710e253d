package io.sparkformers.runtime;

import ai.djl.engine.Engine;
import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Which code path libtorch's FP32 GEMMs take, and the one switch that makes them fast on AMD.
 *
 * <p>libtorch (2.7.1, as DJL ships it) links Intel MKL statically and runs FP32 {@code linear}/{@code matmul} through
 * MKL's {@code sgemm}. MKL picks its kernels in two steps: a vendor check ({@code mkl_serv_intel_cpu_true}: is the
 * CPUID vendor string "GenuineIntel"?), then, on Intel only, the best branch the CPU's feature bits allow (AVX2,
 * AVX-512, AVX-512 with BF16 …). On any other vendor it takes a generic SSE-era path, whatever the CPU supports: on an
 * AMD EPYC with AVX-512 that path runs at half the speed of the AVX-512 one. Neither {@code MKL_ENABLE_INSTRUCTIONS},
 * {@code MKL_CBWR} nor the retired {@code MKL_DEBUG_CPU_TYPE} changes that in this MKL (2024.0; each was tried).
 *
 * <p>{@link #apply()} answers the vendor check the way MKL itself caches its answer: the function starts with
 * {@code mov eax, [rip + cached]; test eax, eax; js compute; ret}, and {@code cached} (−1 until the first call) is an
 * ordinary writable word. Before the first GEMM, on a non-Intel x86-64 Linux CPU with AVX2 and FMA, it writes 1 there
 * — no code is modified, no page protection changed — then calls the function to check the answer and asks MKL's
 * dispatcher which kernel branch it now picks (0 is the generic one). Every step is checked (the exact instruction bytes, the word lying
 * in a writable mapping, its value still −1); any mismatch leaves MKL alone and says why. MKL still selects the branch
 * from the CPU's own feature bits, so it never runs an instruction the CPU lacks.
 *
 * <p>Opt out with {@code -Dsparkformers.gemm.mklIntelPath=false} or {@code SPARKFORMERS_GEMM_MKL_INTEL_PATH=false}.
 */
public final class GemmPath {

    /** System property that turns the switch off ({@code false}). */
    public static final String PROPERTY = "sparkformers.gemm.mklIntelPath";
    /** Environment variable that turns the switch off ({@code false} or {@code 0}). */
    public static final String ENV = "SPARKFORMERS_GEMM_MKL_INTEL_PATH";

    private static final System.Logger LOG = System.getLogger(GemmPath.class.getName());
    private static final String VENDOR_CHECK = "mkl_serv_intel_cpu_true";

    /**
     * The outcome of {@link #apply()}.
     *
     * @param intelPath whether MKL runs its Intel code path (on Intel CPUs always; elsewhere when the switch held)
     * @param switched  whether {@link #apply()} switched MKL onto that path on this non-Intel CPU
     * @param branch    MKL's kernel branch code from its dispatcher ("branch 0, generic", "branch 7" …)
     * @param reason    why the path is what it is, one clause
     */
    public record State(boolean intelPath, boolean switched, String branch, String reason) {
        /** One line: "MKL sgemm, Intel path (…branch…): reason". */
        public String describe() {
            return "MKL sgemm, " + (intelPath ? "Intel path" : "generic path") + " (" + branch + "): " + reason;
        }
    }

    private static State state;

    private GemmPath() {}

    /**
     * Starts the PyTorch engine and, once per JVM, puts MKL on its Intel path where that is safe (see the class doc);
     * logs one line naming the path. Never throws: a failed check leaves MKL as it was and says so. Call before the
     * first GEMM (model loading does).
     */
    public static synchronized State apply() {
        if (state == null) {
            state = decide(CpuInfo.current());
            LOG.log(
                    System.Logger.Level.INFO,
                    "GEMM: " + state.describe() + " — CPU " + CpuInfo.current().describe());
        }
        return state;
    }

    /** The state {@link #apply()} reached, applying it first if nobody has. */
    public static State current() {
        return apply();
    }

    private static State decide(CpuInfo cpu) {
        try {
            Engine.getEngine("PyTorch");
        } catch (RuntimeException | LinkageError e) {
            return new State(false, false, "unknown", "PyTorch engine did not start: " + e.getMessage());
        }
        if (!Platform.isLinux() || !Platform.isIntel() || !Platform.is64Bit()) {
            return new State(cpu.isIntel(), false, "unknown", "not x86-64 Linux: MKL left as it is");
        }
        NativeLibrary torch;
        Function vendorCheck;
        try {
            String lib = loadedLibrary("libtorch_cpu.so");
            if (lib == null) return new State(cpu.isIntel(), false, "unknown", "libtorch_cpu.so is not loaded");
            torch = NativeLibrary.getInstance(lib);
            vendorCheck = torch.getFunction(VENDOR_CHECK);
        } catch (IOException | RuntimeException | LinkageError e) {
            return new State(cpu.isIntel(), false, "unknown", "this libtorch has no MKL (" + e.getMessage() + ")");
        }
        if (cpu.isIntel()) return new State(true, false, branch(torch), "Intel CPU");
        if (optedOut()) {
            return new State(false, false, branch(torch), "Intel path turned off by " + PROPERTY + "/" + ENV);
        }
        if (!cpu.has("avx2") || !cpu.has("fma")) {
            return new State(false, false, branch(torch), "CPU has no AVX2/FMA: MKL's Intel path would not be faster");
        }
        try {
            String refused = switchVendorCheck(vendorCheck);
            if (refused != null) return new State(false, false, branch(torch), refused);
        } catch (IOException | RuntimeException | Error e) {
            return new State(false, false, "unknown", "switch failed, MKL left as it was: " + e);
        }
        return new State(
                true, true, branch(torch), cpu.vendor() + " CPU with " + cpu.isa() + ", vendor check answered");
    }

    /** Writes 1 into the vendor check's cached answer after checking every assumption; the refusal, or null. */
    private static String switchVendorCheck(Function f) throws IOException {
        long fn = Pointer.nativeValue(f);
        byte[] code = f.getByteArray(0, 11);
        // mov eax, [rip+disp32] ; test eax, eax ; js +1 ; ret
        boolean shape = (code[0] & 0xff) == 0x8b
                && (code[1] & 0xff) == 0x05
                && (code[6] & 0xff) == 0x85
                && (code[7] & 0xff) == 0xc0
                && (code[8] & 0xff) == 0x78
                && (code[9] & 0xff) == 0x01
                && (code[10] & 0xff) == 0xc3;
        if (!shape) return "unexpected code in " + VENDOR_CHECK + " (another MKL build?): MKL left as it is";
        long cached = fn + 6 + f.getInt(2);
        if (!inWritableMapping(cached)) return "the cached answer does not lie in writable memory: MKL left as it is";
        Pointer word = new Pointer(cached);
        int before = word.getInt(0);
        if (before == 1) return null; // already answered yes
        if (before != -1) return "MKL checked the CPU vendor before the switch (a GEMM ran first): generic path stays";
        word.setInt(0, 1);
        int answer = f.invokeInt(new Object[0]);
        if (answer != 1) {
            word.setInt(0, before);
            return VENDOR_CHECK + " still answers " + answer + " after the switch: restored";
        }
        return null;
    }

    private static boolean optedOut() {
        String p = System.getProperty(PROPERTY);
        String e = System.getenv(ENV);
        return isFalse(p) || isFalse(e);
    }

    private static boolean isFalse(String v) {
        if (v == null) return false;
        String s = v.trim().toLowerCase(Locale.ROOT);
        return s.equals("false") || s.equals("0") || s.equals("off") || s.equals("no");
    }

    /**
     * MKL's kernel branch, as its dispatcher {@code mkl_serv_cpu_detect} answers: 0 is the generic path, higher codes
     * CPU-specific ones (7 on an AVX-512 BF16 CPU). MKL's version string names no branch, so the code is what there is.
     */
    private static String branch(NativeLibrary torch) {
        try {
            int code = torch.getFunction("mkl_serv_cpu_detect").invokeInt(new Object[0]);
            return code == 0 ? "branch 0, generic" : "branch " + code;
        } catch (RuntimeException | LinkageError e) {
            return "branch unknown";
        }
    }

    /** The path of a loaded shared library whose file name is {@code name}, from {@code /proc/self/maps}. */
    private static String loadedLibrary(String name) throws IOException {
        for (String line : maps()) {
            int slash = line.indexOf('/');
            if (slash >= 0 && line.endsWith("/" + name)) return line.substring(slash);
        }
        return null;
    }

    private static boolean inWritableMapping(long address) throws IOException {
        for (String line : maps()) {
            String[] f = line.split("\\s+", 3);
            if (f.length < 2 || f[1].length() < 2 || f[1].charAt(0) != 'r' || f[1].charAt(1) != 'w') continue;
            int dash = f[0].indexOf('-');
            long start = Long.parseUnsignedLong(f[0].substring(0, dash), 16);
            long end = Long.parseUnsignedLong(f[0].substring(dash + 1), 16);
            if (Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address + 4, end) <= 0) return true;
        }
        return false;
    }

    private static List<String> maps() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/maps"));
    }
}
