package io.sparkformers.safetensors;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A dense tensor as stored in a checkpoint: element type, shape (row-major) and the raw little-endian bytes.
 * The buffer may be a memory-mapped slice of a file; it is never copied by this class.
 *
 * @param dtype element type
 * @param shape dimensions, outermost first; empty for a scalar
 * @param data  exactly {@code numel() * dtype.byteSize()} bytes from position 0, little-endian
 */
public record Tensor(DType dtype, long[] shape, ByteBuffer data) {

    public Tensor {
        shape = shape.clone();
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
        }
        long expected = Math.multiplyExact(numel(shape), dtype.byteSize());
        if (data.remaining() != expected) {
            throw new IllegalArgumentException("tensor of " + dtype + Arrays.toString(shape) + " needs " + expected
                    + " bytes but the buffer holds " + data.remaining());
        }
        data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A float32 tensor holding a copy of {@code values}. */
    public static Tensor ofFloats(float[] values, long... shape) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(values);
        return new Tensor(DType.F32, shape, buf);
    }

    /** An int64 tensor holding a copy of {@code values}. */
    public static Tensor ofLongs(long[] values, long... shape) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        buf.asLongBuffer().put(values);
        return new Tensor(DType.I64, shape, buf);
    }

    /** Number of elements: the product of the shape (1 for a scalar). */
    public long numel() {
        return numel(shape);
    }

    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** A read-only little-endian view of the bytes, positioned at 0. */
    @Override
    public ByteBuffer data() {
        return data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * The values widened or narrowed to float32: F16 and BF16 exactly, F64 rounded. DJL cannot create BF16
     * arrays, so every half-precision checkpoint passes through here before it reaches the engine.
     */
    public float[] toFloatArray() {
        if (!dtype.isFloatingPoint()) throw new IllegalStateException("toFloatArray() on a " + dtype + " tensor");
        int n = Math.toIntExact(numel());
        float[] out = new float[n];
        ByteBuffer b = data();
        switch (dtype) {
            case F32 -> b.asFloatBuffer().get(out);
            case F64 -> {
                for (int i = 0; i < n; i++) out[i] = (float) b.getDouble(i * 8);
            }
            case F16 -> {
                for (int i = 0; i < n; i++) out[i] = halfToFloat(b.getShort(i * 2));
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat((b.getShort(i * 2) & 0xffff) << 16);
            }
            default -> throw new AssertionError(dtype);
        }
        return out;
    }

    /**
     * The values of an integer or boolean tensor widened to int64: I8/I16/I32 sign-extended, U8 and BOOL as 0..255.
     */
    public long[] toLongArray() {
        if (dtype.isFloatingPoint()) throw new IllegalStateException("toLongArray() on a " + dtype + " tensor");
        int n = Math.toIntExact(numel());
        long[] out = new long[n];
        ByteBuffer b = data();
        switch (dtype) {
            case I64 -> b.asLongBuffer().get(out);
            case I32 -> {
                for (int i = 0; i < n; i++) out[i] = b.getInt(i * 4);
            }
            case I16 -> {
                for (int i = 0; i < n; i++) out[i] = b.getShort(i * 2);
            }
            case I8 -> {
                for (int i = 0; i < n; i++) out[i] = b.get(i);
            }
            case U8, BOOL -> {
                for (int i = 0; i < n; i++) out[i] = b.get(i) & 0xff;
            }
            default -> throw new AssertionError(dtype);
        }
        return out;
    }

    /** IEEE 754 binary16 to float32, exact for every value including subnormals, infinities and NaN. */
    static float halfToFloat(short h) {
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        if (exp != 0) return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
        float v = mant * 0x1p-24f; // subnormal (or zero): mant * 2^-24
        return sign != 0 ? -v : v;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t && dtype == t.dtype && Arrays.equals(shape, t.shape) && data().equals(t.data());
    }

    @Override
    public int hashCode() {
        return 31 * (31 * dtype.hashCode() + Arrays.hashCode(shape)) + data().hashCode();
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype + Arrays.toString(shape) + "]";
    }
}
