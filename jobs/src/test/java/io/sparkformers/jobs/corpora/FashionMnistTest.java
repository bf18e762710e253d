package io.sparkformers.jobs.corpora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparkformers.vision.RgbImage;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

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
}
