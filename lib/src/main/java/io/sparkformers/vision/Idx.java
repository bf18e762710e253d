package io.sparkformers.vision;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * The IDX format of MNIST and Fashion-MNIST (optionally gzip-compressed, detected by its magic bytes): a big-endian
 * magic {@code 0x0000 08 NN} (unsigned bytes, NN dimensions), NN big-endian int32 dimensions, then the bytes.
 * Images are {@code 0x00000803} (count, rows, cols); labels {@code 0x00000801} (count).
 *
 * <p>The header's sizes are never trusted for allocation: the values are read in chunks as they arrive, so a header
 * claiming 10^12 values in a 20-byte file is refused as truncated after reading what is there; at most
 * {@link #MAX_VALUES} values are accepted (one Java array).
 */
public final class Idx {

    /** An unsigned-byte IDX array: dims outermost first, values row-major. */
    public record UByteArray(int[] dims, byte[] data) {
        public int count() {
            return dims[0];
        }

        /** Value at flat index i as 0..255. */
        public int get(int i) {
            return data[i] & 0xff;
        }
    }

    /** Most values one IDX file may hold: the largest Java byte array. */
    public static final int MAX_VALUES = Integer.MAX_VALUE - 8;

    private Idx() {}

    /** Images file: (count, rows, cols). */
    public static UByteArray readImages(Path file) throws IOException {
        return read(file, 3);
    }

    /** Labels file: (count). */
    public static UByteArray readLabels(Path file) throws IOException {
        return read(file, 1);
    }

    /** Reads an unsigned-byte IDX file with {@code expectedDims} dimensions; errors name the file. */
    public static UByteArray read(Path file, int expectedDims) throws IOException {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file))) {
            raw.mark(2);
            int b0 = raw.read();
            int b1 = raw.read();
            raw.reset();
            InputStream in = b0 == 0x1f && b1 == 0x8b ? new GZIPInputStream(raw, 1 << 16) : raw;
            DataInputStream d = new DataInputStream(new BufferedInputStream(in, 1 << 16));
            int magic = d.readInt();
            if ((magic >>> 8) != 0x08) {
                throw new IOException(file + " is not an unsigned-byte IDX file (magic 0x" + Integer.toHexString(magic)
                        + ", expected 0x0000080" + expectedDims + ")");
            }
            int ndims = magic & 0xff;
            if (ndims != expectedDims) {
                throw new IOException(file + " has " + ndims + " dimensions (magic 0x" + Integer.toHexString(magic)
                        + ") but " + expectedDims + " were expected (0x00000803 images, 0x00000801 labels)");
            }
            int[] dims = new int[ndims];
            long n = 1;
            for (int i = 0; i < ndims; i++) {
                dims[i] = d.readInt();
                if (dims[i] < 0) throw new IOException(file + ": negative dimension " + dims[i]);
                n = n > MAX_VALUES ? n : n * dims[i]; // stays exact: both factors are below 2^31
            }
            if (n > MAX_VALUES) {
                throw new IOException(file + ": the header's dimensions " + Arrays.toString(dims) + " give " + n
                        + " values, more than the " + MAX_VALUES + " one array holds (Idx.MAX_VALUES)");
            }
            byte[] data = d.readNBytes((int) n); // grows with what arrives, not with what is claimed
            if (data.length != n) {
                throw new IOException(file + " is truncated: the header promises " + n + " values");
            }
            return new UByteArray(dims, data);
        } catch (EOFException e) {
            throw new IOException(
                    file + " is truncated"
                            + (e.getMessage() == null
                                    ? ": it ends inside the IDX header"
                                    : " (" + e.getMessage() + ")"),
                    e);
        } catch (ZipException e) {
            throw new IOException(file + " is not a valid gzip stream (" + e.getMessage() + ")", e);
        }
    }
}
