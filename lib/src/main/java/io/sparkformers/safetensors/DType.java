package io.sparkformers.safetensors;

import java.util.Locale;

/**
 * Element types of the safetensors format, with the names the format's JSON header uses
 * ({@code "F32"}, {@code "BF16"}, …) and their width in bytes.
 */
public enum DType {
    F64(8),
    F32(4),
    F16(2),
    BF16(2),
    I64(8),
    I32(4),
    I16(2),
    I8(1),
    U8(1),
    BOOL(1);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Width of one element in bytes. */
    public int byteSize() {
        return byteSize;
    }

    /** True for the floating-point types, which {@link Tensor#toFloatArray()} converts exactly or widening. */
    public boolean isFloatingPoint() {
        return this == F64 || this == F32 || this == F16 || this == BF16;
    }

    /** Parses a header dtype name; the error lists the supported names. */
    public static DType fromHeaderName(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("unsupported safetensors dtype '" + name + "' (supported: "
                    + java.util.Arrays.toString(values()) + ")");
        }
    }
}
