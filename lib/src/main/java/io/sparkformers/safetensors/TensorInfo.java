package io.sparkformers.safetensors;

import java.util.Arrays;
import java.util.Objects;

/**
 * One entry of a safetensors header: name, element type, shape and byte range.
 *
 * @param name  tensor name as written in the header (HF dotted parameter name)
 * @param dtype element type
 * @param shape dimensions, outermost first; empty for a scalar
 * @param begin first byte, relative to the start of the data buffer (the byte after the header), inclusive
 * @param end   last byte, relative to the start of the data buffer, exclusive
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {

    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements: the product of the shape (1 for a scalar). */
    public long numel() {
        return Tensor.numel(shape);
    }

    /** Length of the byte range, {@code end - begin}. */
    public long byteLength() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t
                && name.equals(t.name)
                && dtype == t.dtype
                && Arrays.equals(shape, t.shape)
                && begin == t.begin
                && end == t.end;
    }

    @Override
    public int hashCode() {
        return 31 * Objects.hash(name, dtype, begin, end) + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "TensorInfo[" + name + " " + dtype + Arrays.toString(shape) + " bytes " + begin + ".." + end + "]";
    }
}
