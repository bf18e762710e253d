package io.sparkformers.jobs.bench;

import ai.djl.Device;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.EncoderLayerKernel;
import io.sparkformers.runtime.CpuInfo;
import io.sparkformers.runtime.GemmPath;

/**
 * What every benchmark states before its figures: the CPU (vendor, model, the instruction sets the GEMM kernels use)
 * and which GEMM path libtorch runs — the figures of an AMD CPU on MKL's generic path and on its Intel path differ by
 * 2× — and which one the BERT-family encoder layers run in inference (oneDNN on prepacked weights where the
 * encoder-layer kernel runs, else MKL). Starts the engine (and {@link GemmPath#apply()}s it): call after the thread
 * properties are set.
 */
public final class BenchHeader {

    private BenchHeader() {}

    /**
     * Adds cpu_vendor, cpu, isa, gemm and encoder_gemm to a benchmark's report and prints them as one line to stderr.
     */
    public static void put(ObjectNode report) {
        CpuInfo cpu = CpuInfo.current();
        GemmPath.State gemm = GemmPath.apply();
        report.put("cpu_vendor", cpu.vendor()).put("cpu", cpu.model()).put("isa", cpu.isa());
        report.put("gemm", gemm.describe());
        String encoder = encoderGemm();
        report.put("encoder_gemm", encoder);
        System.err.println(
                "bench: CPU " + cpu.describe() + "; GEMM " + gemm.describe() + "; encoder layers: " + encoder);
    }

    /** The GEMMs of a BERT-family encoder layer in FP32 inference. */
    static String encoderGemm() {
        return EncoderLayerKernel.available(Device.cpu())
                ? "oneDNN, weights reordered once (encoder-layer kernel)"
                : "MKL sgemm (block by block)";
    }
}
