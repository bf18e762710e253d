package io.sparkformers.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The CPU this JVM runs on, as the first processor of {@code /proc/cpuinfo} describes it (Linux); elsewhere the vendor
 * and model are "unknown" and the flag set is empty.
 *
 * @param vendor {@code vendor_id}: {@code GenuineIntel}, {@code AuthenticAMD} …
 * @param model  {@code model name}, e.g. "AMD EPYC 9B45"
 * @param flags  the kernel's feature flags ({@code avx2}, {@code avx512f}, {@code avx512_bf16}, {@code amx_tile} …)
 */
public record CpuInfo(String vendor, String model, Set<String> flags) {

    /** The instruction sets that decide which matrix kernels a CPU can run, in the order {@link #isa()} names them. */
    private static final List<String> GEMM_ISA = List.of("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile");

    private static volatile CpuInfo current;

    public CpuInfo {
        flags = Set.copyOf(flags);
    }

    /** This machine's CPU, read once. */
    public static CpuInfo current() {
        CpuInfo c = current;
        if (c == null) current = c = read(Path.of("/proc/cpuinfo"));
        return c;
    }

    /** Parses a {@code /proc/cpuinfo} file; a missing or unreadable file gives an "unknown" CPU with no flags. */
    static CpuInfo read(Path cpuinfo) {
        List<String> lines;
        try {
            lines = Files.readAllLines(cpuinfo);
        } catch (IOException | RuntimeException e) {
            return new CpuInfo("unknown", "unknown", Set.of());
        }
        return parse(lines);
    }

    /** The first processor block of {@code /proc/cpuinfo} lines. */
    static CpuInfo parse(List<String> lines) {
        String vendor = "unknown", model = "unknown";
        Set<String> flags = Set.of();
        for (String line : lines) {
            if (line.isBlank() && !"unknown".equals(vendor)) break; // end of the first processor
            int colon = line.indexOf(':');
            if (colon < 0) continue;
            String key = line.substring(0, colon).trim(),
                    value = line.substring(colon + 1).trim();
            switch (key) {
                case "vendor_id" -> vendor = value;
                case "model name" -> model = value;
                case "flags" ->
                    flags = Arrays.stream(value.split("\\s+"))
                            .filter(f -> !f.isEmpty())
                            .map(f -> f.toLowerCase(Locale.ROOT))
                            .collect(Collectors.toSet());
                default -> {}
            }
        }
        return new CpuInfo(vendor, model, flags);
    }

    public boolean isIntel() {
        return "GenuineIntel".equals(vendor);
    }

    public boolean isAmd() {
        return "AuthenticAMD".equals(vendor);
    }

    public boolean has(String flag) {
        return flags.contains(flag);
    }

    /** The GEMM-relevant instruction sets present, e.g. "avx2 fma avx512f avx512_bf16"; "none" when none is. */
    public String isa() {
        String s = GEMM_ISA.stream().filter(flags::contains).collect(Collectors.joining(" "));
        return s.isEmpty() ? "none" : s;
    }

    /** One line for logs and benchmark headers: vendor, model and {@link #isa()}. */
    public String describe() {
        return vendor + " " + model + " [" + isa() + "]";
    }

    /** The flags sorted, for diagnostics. */
    public String allFlags() {
        return String.join(" ", new TreeSet<>(flags));
    }
}
