package io.sparkformers.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@code hub} is usable from plain Java without Hadoop or Spark: only {@link HadoopSource} (loaded for URIs alone)
 * may import Hadoop, and nothing imports Spark or {@code io.sparkformers.convert} (which depends on us).
 */
class HubLayeringTest {

    private static List<String> filesImporting(String prefix) throws IOException {
        Path src = Path.of("src/main/java/io/sparkformers/hub");
        try (Stream<Path> files = Files.list(src)) {
            return files.filter(f -> {
                        try {
                            return Files.readAllLines(f).stream()
                                    .anyMatch(l -> l.startsWith("import " + prefix)
                                            || l.contains(" " + prefix)
                                                    && !l.strip().startsWith("*"));
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    })
                    .map(f -> f.getFileName().toString())
                    .sorted()
                    .toList();
        }
    }

    @Test
    void onlyHadoopSourceTouchesHadoop() throws IOException {
        assertEquals(List.of("HadoopSource.java"), filesImporting("org.apache.hadoop"));
    }

    @Test
    void nothingReachesSparkOrConvert() throws IOException {
        assertEquals(List.of(), filesImporting("org.apache.spark"));
        assertEquals(List.of(), filesImporting("io.sparkformers.convert"));
    }
}
