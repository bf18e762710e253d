package io.sparkformers.nn;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.sparkformers.runtime.CpuInfo;
import java.util.List;
import java.util.Locale;

/**
 * The precision a model runs inference in ({@code dtype}: bf16, fp32 or auto), as HF's {@code torch_dtype} at
 * {@code from_pretrained} but for inference only. BF16 keeps every parameter in float32 (training, saving and the state
 * dict are unchanged) and converts the encoder's projection weights once, on the native side ({@link Bf16Linear}),
 * into the inference copies the layers derive anyway ({@link InferenceLinear}, the fused QKV of BERT's attention):
 * the projections — the Q/K/V, attention output, intermediate and output GEMMs, over 90% of an encoder's FLOPs at
 * 128 tokens — take their input in BF16 and accumulate in float32 (oneDNN), and return float32. Everything else
 * stays float32: embeddings, residual stream, LayerNorm, the attention scores, softmax and product with V, pooling,
 * the pooler and heads, and so the outputs.
 *
 * <p>{@code auto} is BF16 where the device multiplies BF16 natively and the model family is converted, else FP32: a
 * CPU whose flags ({@link CpuInfo}) hold {@code avx512_bf16} or {@code amx_bf16} (oneDNN's BF16 kernels; without
 * them libtorch emulates BF16, slower than float32), or a CUDA GPU of compute capability 8.0 or more (Ampere and
 * later). BF16 asked for a model family that is not converted fails naming it; {@code auto} then runs float32.
 */
public enum ComputeDtype {
    FP32,
    BF16,
    AUTO;

    /** The names {@link #parse} accepts, as the CLI and the stages' {@code dtype} Param spell them. */
    public static final List<String> NAMES = List.of("bf16", "fp32", "auto");

    /** The lower-case name: bf16, fp32, auto. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** bf16, fp32 or auto (any case); anything else fails naming the accepted values. */
    public static ComputeDtype parse(String name) {
        if (name != null) {
            String n = name.trim().toLowerCase(Locale.ROOT);
            if (NAMES.contains(n)) return valueOf(n.toUpperCase(Locale.ROOT));
        }
        throw new IllegalArgumentException("dtype must be one of " + NAMES + ", got '" + name + "'");
    }

    /** The activation type of a resolved dtype (FP32 or BF16). */
    public DataType dataType() {
        if (this == AUTO) throw new IllegalStateException("auto is resolved per model and device first");
        return this == BF16 ? DataType.BFLOAT16 : DataType.FLOAT32;
    }

    /**
     * FP32 or BF16 for {@code model} on {@code device}: auto as the class says; BF16 for a family without it fails
     * with one line naming the family and the fix.
     */
    public ComputeDtype resolve(PretrainedModel model, Device device) {
        boolean converted = model.supportsBf16();
        return switch (this) {
            case FP32 -> FP32;
            case AUTO -> converted && fastBf16(device) ? BF16 : FP32;
            case BF16 -> {
                if (!converted) {
                    throw new IllegalArgumentException("dtype bf16 is not supported for " + model.architecture()
                            + " (BF16 inference covers the BERT family: bert, roberta, xlm-roberta, and their "
                            + "sentence embeddings): use dtype fp32 or auto");
                }
                yield BF16;
            }
        };
    }

    /** Whether {@code device} multiplies BF16 natively (see the class comment). */
    public static boolean fastBf16(Device device) {
        if (device.isGpu()) {
            try {
                String cc = ai.djl.util.cuda.CudaUtils.getComputeCapability(device.getDeviceId()); // "86": 8.6
                return Integer.parseInt(cc.trim()) >= 80;
            } catch (RuntimeException | LinkageError e) {
                return false;
            }
        }
        CpuInfo cpu = CpuInfo.current();
        return cpu.has("avx512_bf16") || cpu.has("amx_bf16");
    }
}
