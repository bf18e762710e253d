package io.sparkformers.nn.vision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * PyTorch functional ops that DJL's engine-neutral API lacks, called on the PyTorch engine directly (the library
 * runs only on it): {@code adaptive_avg_pool2d} and {@code interpolate(mode="bicubic")}. Both keep autograd.
 */
public final class VisionOps {

    /** libtorch's interpolation mode code for bicubic in DJL's JNI layer (0 nearest, 2 bilinear, 3 bicubic). */
    private static final int BICUBIC = 3;

    private VisionOps() { }

    /** {@code F.adaptive_avg_pool2d(x, (h, w))}: (B, C, H, W) -> (B, C, h, w). */
    public static NDArray adaptiveAvgPool2d(NDArray x, long h, long w) {
        return JniUtils.adaptiveAvgPool(pt(x), new Shape(h, w));
    }

    /**
     * {@code F.interpolate(x, size=(h, w), mode="bicubic", align_corners=False)} (cubic convolution, A = -0.75,
     * borders clamped): (B, C, H, W) -> (B, C, h, w).
     */
    public static NDArray bicubic(NDArray x, long h, long w) {
        return JniUtils.interpolate(pt(x), new long[] {h, w}, BICUBIC, false);
    }

    private static PtNDArray pt(NDArray x) {
        if (x instanceof PtNDArray p) return p;
        throw new IllegalStateException("vision ops need the PyTorch engine but got a " + x.getClass().getName());
    }
}
