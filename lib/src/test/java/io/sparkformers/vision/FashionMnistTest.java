package io.sparkformers.vision;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real Fashion-MNIST files, fetched from the Debian package as the library does. */
class FashionMnistTest {

    @Test
    void debianPackageHoldsSixtyThousandTrainAndTenThousandTestImages() throws IOException {
        Path data = FashionMnist.ensure(Path.of("target", "datasets"));
        FashionMnist.Split train = FashionMnist.train(data);
        FashionMnist.Split test = FashionMnist.test(data);
        assertArrayEquals(new int[] {60000, 28, 28}, train.images().dims());
        assertArrayEquals(new int[] {10000, 28, 28}, test.images().dims());
        int[] counts = new int[10];
        for (int i = 0; i < train.size(); i++) counts[train.label(i)]++;
        for (int c : counts) assertEquals(6000, c, "Fashion-MNIST is balanced: 6000 per class");
        assertEquals(9, train.label(0), "the first training image is an ankle boot");
        RgbImage img = train.image(0);
        assertEquals(28, img.width());
        assertEquals(img.get(14, 14, 0), img.get(14, 14, 2));
    }

    @Test
    void wrongMagicNamesTheFile(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path f = dir.resolve("labels.idx");
        Files.write(f, new byte[] {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 5});
        IOException e = assertThrows(IOException.class, () -> Idx.readLabels(f));
        assertTrue(e.getMessage().startsWith(f + " has 3 dimensions"), e.getMessage());
    }

    @Test
    void truncatedIdxIsReported(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path f = dir.resolve("short.idx");
        Files.write(f, new byte[] {0, 0, 8, 1, 0, 0, 0, 10, 1, 2});
        IOException e = assertThrows(IOException.class, () -> Idx.readLabels(f));
        assertEquals(f + " is truncated: the header promises 10 values", e.getMessage());
    }
}
