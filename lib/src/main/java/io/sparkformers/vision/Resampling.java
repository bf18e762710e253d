package io.sparkformers.vision;

/**
 * PIL's {@code ImagingResample} in float: separable passes (width, then height), each output pixel a normalised
 * weighted sum over a support that widens by the downscale factor (antialiasing). Filters by PIL code: 0 nearest,
 * 2 bilinear (triangle, support 1), 3 bicubic (Keys, a = -0.5, support 2). Values are not rounded or clamped
 * between passes (PIL rounds to 8 bits), so results agree with PIL to about one 8-bit level.
 */
final class Resampling {

    private Resampling() {}

    /** (3, h, w) → (3, outH, outW). */
    static float[] resize(float[] chw, int h, int w, int outH, int outW, int filter) {
        if (h == outH && w == outW) return chw;
        if (filter == 0) return nearest(chw, h, w, outH, outW);
        float[] horizontal = new float[3 * h * outW];
        Weights wx = weights(w, outW, filter);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h; y++) {
                int row = (c * h + y) * w;
                for (int x = 0; x < outW; x++) {
                    double s = 0;
                    for (int k = 0; k < wx.count[x]; k++) s += wx.k[x][k] * chw[row + wx.start[x] + k];
                    horizontal[(c * h + y) * outW + x] = (float) s;
                }
            }
        }
        float[] out = new float[3 * outH * outW];
        Weights wy = weights(h, outH, filter);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < outH; y++) {
                for (int x = 0; x < outW; x++) {
                    double s = 0;
                    for (int k = 0; k < wy.count[y]; k++)
                        s += wy.k[y][k] * horizontal[(c * h + wy.start[y] + k) * outW + x];
                    out[(c * outH + y) * outW + x] = (float) s;
                }
            }
        }
        return out;
    }

    /** PIL NEAREST: source index floor((i + 0.5) · in / out). */
    private static float[] nearest(float[] chw, int h, int w, int outH, int outW) {
        float[] out = new float[3 * outH * outW];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < outH; y++) {
                int sy = Math.min(h - 1, (int) ((y + 0.5) * h / outH));
                for (int x = 0; x < outW; x++) {
                    int sx = Math.min(w - 1, (int) ((x + 0.5) * w / outW));
                    out[(c * outH + y) * outW + x] = chw[(c * h + sy) * w + sx];
                }
            }
        }
        return out;
    }

    private record Weights(int[] start, int[] count, double[][] k) {}

    /** PIL's {@code precompute_coeffs}. */
    private static Weights weights(int in, int out, int filter) {
        double scale = (double) in / out;
        double filterScale = Math.max(scale, 1.0);
        double support = (filter == 3 ? 2.0 : 1.0) * filterScale;
        int[] start = new int[out];
        int[] count = new int[out];
        double[][] k = new double[out][];
        for (int i = 0; i < out; i++) {
            double center = (i + 0.5) * scale;
            int lo = Math.max((int) (center - support + 0.5), 0);
            int hi = Math.min((int) (center + support + 0.5), in);
            double[] w = new double[hi - lo];
            double sum = 0;
            for (int x = lo; x < hi; x++) {
                double v = kernel((x - center + 0.5) / filterScale, filter);
                w[x - lo] = v;
                sum += v;
            }
            if (sum != 0) for (int j = 0; j < w.length; j++) w[j] /= sum;
            start[i] = lo;
            count[i] = w.length;
            k[i] = w;
        }
        return new Weights(start, count, k);
    }

    private static double kernel(double x, int filter) {
        x = Math.abs(x);
        if (filter == 2) return x < 1 ? 1 - x : 0;
        double a = -0.5; // PIL's bicubic
        if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
        if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
        return 0;
    }
}
