package io.sparkformers.nn.vision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.sparkformers.nn.NativeArrays;

/**
 * PyTorch functional ops that DJL's engine-neutral API lacks: {@code adaptive_avg_pool2d} (called on the PyTorch
 * engine directly) and {@code interpolate(mode="bicubic", align_corners=False)}. Both keep autograd.
 *
 * <p>DJL's own {@code interpolation} cannot serve for bicubic: its native layer always sets {@code antialias},
 * and PyTorch's anti-aliased bicubic uses another kernel (a = -0.5), so HF's position interpolation would be off
 * by about 2e-2. Bicubic is therefore written here as two small interpolation matrices.
 */
public final class VisionOps {

    /** PyTorch's cubic convolution coefficient ({@code upsample_bicubic2d}). */
    private static final double A = -0.75;

    private VisionOps() {}

    /** {@code F.adaptive_avg_pool2d(x, (h, w))}: (B, C, H, W) -> (B, C, h, w). */
    public static NDArray adaptiveAvgPool2d(NDArray x, long h, long w) {
        return JniUtils.adaptiveAvgPool(pt(x), new Shape(h, w));
    }

    /**
     * {@code F.interpolate(x, size=(h, w), mode="bicubic", align_corners=False)} as PyTorch computes it (cubic
     * convolution with a = -0.75, source index {@code (dst + 0.5) · in/out - 0.5}, taps clamped at the borders):
     * (B, C, H, W) -> (B, C, h, w), as {@code Wh · x · Ww^T} with interpolation matrices Wh (h, H) and Ww (w, W).
     */
    public static NDArray bicubic(NDArray x, long h, long w) {
        Shape s = x.getShape();
        int inH = Math.toIntExact(s.get(2));
        int inW = Math.toIntExact(s.get(3));
        NDManager m = x.getManager();
        NDArray wh = NativeArrays.copyOf(m, cubicMatrix(inH, Math.toIntExact(h)), new Shape(h, inH))
                .toType(x.getDataType(), false);
        NDArray ww = NativeArrays.copyOf(m, cubicMatrix(inW, Math.toIntExact(w)), new Shape(w, inW))
                .toType(x.getDataType(), false);
        return wh.matMul(x).matMul(ww.transpose()); // (h, H) · (B, C, H, W) · (W, w) -> (B, C, h, w)
    }

    /** Row i holds the weights of the source pixels for output pixel i: (out, in) row-major. */
    static float[] cubicMatrix(int in, int out) {
        float[] m = new float[out * in];
        double scale = (double) in / out;
        for (int i = 0; i < out; i++) {
            double real = scale * (i + 0.5) - 0.5;
            int base = (int) Math.floor(real);
            double t = real - base;
            double[] c = {cubic2(t + 1), cubic1(t), cubic1(1 - t), cubic2(2 - t)};
            for (int k = 0; k < 4; k++) {
                int src = Math.min(Math.max(base - 1 + k, 0), in - 1);
                m[i * in + src] += (float) c[k];
            }
        }
        return m;
    }

    /** Cubic kernel for |x| <= 1. */
    private static double cubic1(double x) {
        return ((A + 2) * x - (A + 3)) * x * x + 1;
    }

    /** Cubic kernel for 1 < |x| < 2. */
    private static double cubic2(double x) {
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    }

    private static PtNDArray pt(NDArray x) {
        if (x instanceof PtNDArray p) return p;
        throw new IllegalStateException(
                "vision ops need the PyTorch engine but got a " + x.getClass().getName());
    }
}
