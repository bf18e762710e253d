package io.sparkformers.jobs.corpora;

import io.sparkformers.train.ImageDataset;
import io.sparkformers.vision.Idx;
import io.sparkformers.vision.RgbImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Fashion-MNIST (MIT licence) from Debian's {@code dataset-fashion-mnist} package: 60,000 training and 10,000 test
 * images, 28×28 gray, 10 classes. {@link #ensure} fetches the package with {@code apt-get download} and unpacks it
 * with {@code dpkg -x} (no root needed) when the files are not there yet.
 */
public final class FashionMnist {

    public static final String PACKAGE = "dataset-fashion-mnist";
    /** Where the package puts the IDX files, relative to the unpack root. */
    public static final String DATA_DIR = "usr/share/datasets/fashion-mnist";

    public static final List<String> LABELS = List.of(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    /** One split: images (n, 28, 28) and labels (n). */
    public record Split(Idx.UByteArray images, Idx.UByteArray labels) {
        public int size() {
            return labels.count();
        }

        /** Image i as an RGB image (gray copied to three channels). */
        public RgbImage image(int i) {
            int h = images.dims()[1];
            int w = images.dims()[2];
            byte[] gray = new byte[h * w];
            System.arraycopy(images.data(), i * h * w, gray, 0, h * w);
            return RgbImage.fromGray(w, h, gray);
        }

        public int label(int i) {
            return labels.get(i);
        }

        /** This split as training data with the ten class names; images are decoded on demand. */
        public ImageDataset dataset(String description) {
            int[] ids = new int[size()];
            for (int i = 0; i < ids.length; i++) ids[i] = label(i);
            return ImageDataset.of(description, this::image, ids, LABELS);
        }
    }

    private FashionMnist() {}

    /**
     * The folder holding the four {@code *-idx?-ubyte.gz} files under {@code dir}: an installed package
     * ({@code /usr/share/datasets/fashion-mnist}) is used as is; otherwise the package is downloaded into
     * {@code dir} and unpacked there.
     */
    public static Path ensure(Path dir) throws IOException {
        Path installed = Path.of("/").resolve(DATA_DIR);
        if (complete(installed)) return installed;
        Path data = dir.resolve(DATA_DIR);
        if (complete(data)) return data;
        Files.createDirectories(dir);
        run(dir, "apt-get", "download", PACKAGE);
        Path deb;
        try (Stream<Path> files = Files.list(dir)) {
            deb = files.filter(p -> p.getFileName().toString().startsWith(PACKAGE + "_")
                            && p.getFileName().toString().endsWith(".deb"))
                    .findFirst()
                    .orElseThrow(() -> new IOException("apt-get download " + PACKAGE + " left no .deb in " + dir));
        }
        run(dir, "dpkg", "-x", deb.getFileName().toString(), ".");
        if (!complete(data)) throw new IOException(deb + " did not unpack the IDX files to " + data);
        return data;
    }

    public static Split train(Path dataDir) throws IOException {
        return split(dataDir, "train");
    }

    public static Split test(Path dataDir) throws IOException {
        return split(dataDir, "t10k");
    }

    private static Split split(Path dataDir, String prefix) throws IOException {
        Idx.UByteArray images = Idx.readImages(dataDir.resolve(prefix + "-images-idx3-ubyte.gz"));
        Idx.UByteArray labels = Idx.readLabels(dataDir.resolve(prefix + "-labels-idx1-ubyte.gz"));
        if (images.count() != labels.count()) {
            throw new IOException(
                    dataDir + ": " + images.count() + " " + prefix + " images but " + labels.count() + " labels");
        }
        return new Split(images, labels);
    }

    private static boolean complete(Path d) {
        return Stream.of(
                        "train-images-idx3-ubyte.gz",
                        "train-labels-idx1-ubyte.gz",
                        "t10k-images-idx3-ubyte.gz",
                        "t10k-labels-idx1-ubyte.gz")
                .allMatch(f -> Files.isRegularFile(d.resolve(f)));
    }

    private static void run(Path dir, String... command) throws IOException {
        Process p;
        try {
            p = new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .start();
        } catch (IOException e) {
            throw new IOException(
                    "'" + command[0] + "' is not available (" + e.getMessage() + "): Fashion-MNIST comes from "
                            + "the Debian package " + PACKAGE + "; on a machine without apt-get, unpack that package's "
                            + DATA_DIR + " into " + dir,
                    e);
        }
        try {
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish in 10 minutes");
            }
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed (exit " + p.exitValue() + ") in " + dir
                        + ": " + out.strip() + (command[0].equals("apt-get") ? " (run 'apt-get update' first?)" : ""));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(String.join(" ", command) + " was interrupted", e);
        }
    }
}
