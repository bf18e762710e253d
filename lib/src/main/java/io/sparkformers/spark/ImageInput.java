package io.sparkformers.spark;

import io.sparkformers.vision.ImageDecodeException;
import io.sparkformers.vision.ImageDecoder;
import io.sparkformers.vision.RgbImage;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * How an image stage reads its input column: Spark's {@code image} struct ({@code spark.read.format("image")}:
 * origin, height, width, nChannels, mode, data — 8-bit interleaved, BGR(A) as OpenCV) or encoded bytes
 * ({@code format("binaryFile")}'s {@code content}, or any binary column of PNG/JPEG/GIF/BMP). A row that cannot be
 * read gives a reason instead of an image (handleInvalid decides what happens): a null cell, Spark's invalid-image
 * row (height -1), undecodable or truncated bytes, an unexpected channel count or a size that disagrees with the data.
 * Serializable: closures capture this, never the stage.
 */
final class ImageInput implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Spark's image struct fields this reader needs. */
    static final List<String> STRUCT_FIELDS = List.of("height", "width", "nChannels", "data");

    private final String column;
    private final int index;
    private final boolean struct;
    private final int pathIndex;

    private ImageInput(String column, int index, boolean struct, int pathIndex) {
        this.column = column;
        this.index = index;
        this.struct = struct;
        this.pathIndex = pathIndex;
    }

    /** A reader for {@code col} of {@code schema}; fails early, naming the column, its type and the Param. */
    static ImageInput of(StructType schema, String col, String param) {
        validate(schema, col, param);
        List<String> names = Arrays.asList(schema.fieldNames());
        int path = names.indexOf("path");
        if (path >= 0 && !schema.apply(path).dataType().equals(DataTypes.StringType)) path = -1;
        return new ImageInput(
                col, names.indexOf(col), !schema.apply(col).dataType().equals(DataTypes.BinaryType), path);
    }

    /** Checks that {@code col} exists and holds images (Spark's image struct or binary). */
    static void validate(StructType schema, String col, String param) {
        if (!Arrays.asList(schema.fieldNames()).contains(col)) {
            throw new IllegalArgumentException("Input column '" + col + "' does not exist (" + param + "); the dataset "
                    + "has " + String.join(", ", schema.fieldNames()));
        }
        DataType t = schema.apply(col).dataType();
        if (t.equals(DataTypes.BinaryType)) return;
        if (t instanceof StructType s
                && Arrays.asList(s.fieldNames()).containsAll(STRUCT_FIELDS)
                && s.apply("data").dataType().equals(DataTypes.BinaryType)) {
            return;
        }
        throw new IllegalArgumentException("Input column '" + col
                + "' must be an image struct (spark.read.format(\"image\"), "
                + "fields origin, height, width, nChannels, mode, data) or binary encoded image bytes "
                + "(spark.read.format(\"binaryFile\") column 'content') but got " + t.catalogString() + "; set " + param
                + " to such a column");
    }

    String column() {
        return column;
    }

    /** The image of a row, or an {@link ImageDecodeException} naming the row's origin and the reason. */
    RgbImage read(Row row, String where) {
        String source = source(row, where);
        if (row.isNullAt(index)) throw new ImageDecodeException(source, "the " + column + " cell is null");
        if (!struct) return ImageDecoder.decode((byte[]) row.get(index), source);
        Row img = row.getStruct(index);
        StructType s = img.schema();
        int height = img.getInt(s.fieldIndex("height"));
        int width = img.getInt(s.fieldIndex("width"));
        int channels = img.getInt(s.fieldIndex("nChannels"));
        byte[] data = img.isNullAt(s.fieldIndex("data")) ? null : (byte[]) img.get(s.fieldIndex("data"));
        if (height <= 0 || width <= 0) {
            throw new ImageDecodeException(
                    source,
                    "Spark's image source could not decode it (height " + height + ", width " + width
                            + "); read with dropInvalid=true to drop such files");
        }
        return RgbImage.fromInterleaved(width, height, channels, data, true, source);
    }

    /** Where a row came from: the image struct's origin, the binaryFile path, else its position. */
    private String source(Row row, String where) {
        if (struct && !row.isNullAt(index)) {
            Row img = row.getStruct(index);
            List<String> f = Arrays.asList(img.schema().fieldNames());
            if (f.contains("origin") && !img.isNullAt(f.indexOf("origin"))) {
                return img.getString(f.indexOf("origin")) + " (" + where + ")";
            }
        }
        if (pathIndex >= 0 && !row.isNullAt(pathIndex)) return row.getString(pathIndex) + " (" + where + ")";
        return where;
    }
}
