package io.sparkformers.jobs.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.runtime.CpuInfo;
import io.sparkformers.runtime.GemmPath;
import org.junit.jupiter.api.Test;

/** Every benchmark report names the CPU and the GEMM path that ran; the suite's Machine line repeats them. */
class BenchHeaderTest {

    @Test
    void aReportNamesTheCpuItsIsaAndTheGemmPath() throws Exception {
        ObjectNode child = Json.MAPPER.createObjectNode();
        BenchHeader.put(child);
        CpuInfo cpu = CpuInfo.current();
        assertEquals(cpu.vendor(), child.path("cpu_vendor").asText());
        assertEquals(cpu.isa(), child.path("isa").asText());
        assertEquals(GemmPath.current().describe(), child.path("gemm").asText());
        assertTrue(child.path("gemm").asText().startsWith("MKL sgemm, "), child.toString());
        assertEquals(BenchHeader.encoderGemm(), child.path("encoder_gemm").asText());
        assertTrue(child.path("encoder_gemm").asText().startsWith("oneDNN"), "the kernel runs on this x86-64 CPU");

        ObjectNode suite = Json.MAPPER.createObjectNode();
        suite.set("machine", BenchSuite.machine());
        suite.set("load", child);
        String md = BenchSuite.markdown(suite);
        String machine = md.lines().findFirst().orElseThrow();
        assertTrue(machine.contains(cpu.vendor() + " " + cpu.model() + " [" + cpu.isa() + "]"), machine);
        assertTrue(machine.contains("GEMM: " + child.path("gemm").asText()), machine);
    }
}
