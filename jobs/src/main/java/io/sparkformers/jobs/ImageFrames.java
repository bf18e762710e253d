package io.sparkformers.jobs;

import io.sparkformers.train.ImageDataset;
import io.sparkformers.vision.RgbImage;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.image.ImageSchema;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Labelled images as a DataFrame in the shape of Spark's {@code image} data source — column {@code image} (origin,
 * height, width, nChannels, mode, data; OpenCV layout: 1 channel for gray images, else 3 in B, G, R order) and
 * {@code label} (the class name) — so the jobs feed the image Estimator what {@code spark.read.format("image")} gives.
 */
final class ImageFrames {
    private ImageFrames() {}

    /** OpenCV type codes Spark's image source writes. */
    private static final int CV_8UC1 = 0;

    private static final int CV_8UC3 = 16;

    static final StructType SCHEMA =
            new StructType().add("image", ImageSchema.columnSchema()).add("label", DataTypes.StringType);

    /** {@code data} in {@code partitions} partitions; origins are {@code <description>#<index>}. */
    static Dataset<Row> of(SparkSession spark, ImageDataset data, int partitions) {
        List<Row> rows = new ArrayList<>(data.size());
        for (int i = 0; i < data.size(); i++) {
            RgbImage img = data.image(i);
            rows.add(RowFactory.create(
                    imageRow(data.description() + "#" + i, img), data.labels().get(data.label(i))));
        }
        return spark.createDataFrame(
                JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, partitions), SCHEMA);
    }

    private static Row imageRow(String origin, RgbImage img) {
        byte[] rgb = img.pixels();
        int n = img.width() * img.height();
        boolean gray = true;
        for (int i = 0; i < n && gray; i++) gray = rgb[3 * i] == rgb[3 * i + 1] && rgb[3 * i] == rgb[3 * i + 2];
        byte[] data = new byte[gray ? n : 3 * n];
        for (int i = 0; i < n; i++) {
            if (gray) {
                data[i] = rgb[3 * i];
            } else {
                data[3 * i] = rgb[3 * i + 2];
                data[3 * i + 1] = rgb[3 * i + 1];
                data[3 * i + 2] = rgb[3 * i];
            }
        }
        return RowFactory.create(origin, img.height(), img.width(), gray ? 1 : 3, gray ? CV_8UC1 : CV_8UC3, data);
    }
}
