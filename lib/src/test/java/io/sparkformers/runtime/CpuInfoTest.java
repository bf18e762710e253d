package io.sparkformers.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class CpuInfoTest {

    @Test
    void readsTheFirstProcessorOfProcCpuinfo() {
        CpuInfo c = CpuInfo.parse(List.of(
                "processor\t: 0",
                "vendor_id\t: AuthenticAMD",
                "model name\t: AMD EPYC 9B45",
                "flags\t\t: fpu sse2 avx2 fma avx512f avx512_bf16 avx512vl",
                "",
                "processor\t: 1",
                "vendor_id\t: GenuineIntel",
                "flags\t\t: amx_tile"));
        assertEquals("AuthenticAMD", c.vendor());
        assertEquals("AMD EPYC 9B45", c.model());
        assertTrue(c.isAmd());
        assertFalse(c.isIntel());
        assertEquals("avx2 fma avx512f avx512_bf16", c.isa());
        assertFalse(c.has("amx_tile"));
    }

    @Test
    void anUnreadableFileIsAnUnknownCpu() {
        CpuInfo c = CpuInfo.read(java.nio.file.Path.of("/nonexistent/cpuinfo"));
        assertEquals("unknown", c.vendor());
        assertEquals("none", c.isa());
    }

    @Test
    void thisMachineHasAVendor() {
        assertFalse(CpuInfo.current().vendor().isEmpty());
    }
}
