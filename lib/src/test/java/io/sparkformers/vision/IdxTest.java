package io.sparkformers.vision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** IDX files that lie about themselves are refused, naming the file. */
class IdxTest {

    @Test
    void wrongMagicNamesTheFile(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("labels.idx");
        Files.write(f, new byte[] {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 5});
        IOException e = assertThrows(IOException.class, () -> Idx.readLabels(f));
        assertTrue(e.getMessage().startsWith(f + " has 3 dimensions"), e.getMessage());
    }

    @Test
    void truncatedIdxIsReported(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("short.idx");
        Files.write(f, new byte[] {0, 0, 8, 1, 0, 0, 0, 10, 1, 2});
        IOException e = assertThrows(IOException.class, () -> Idx.readLabels(f));
        assertEquals(f + " is truncated: the header promises 10 values", e.getMessage());
    }
}
