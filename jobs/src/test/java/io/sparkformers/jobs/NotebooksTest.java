package io.sparkformers.jobs;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestFactory;

/** Every code cell of every notebook runs, in order, without error; notebooks are committed without outputs. */
class NotebooksTest {
    static final Path NOTEBOOKS = Path.of("..", "notebooks");

    @Tag("smoke") // the smoke suite of every Spark line (.ci/run)
    @TestFactory
    Stream<DynamicTest> everyNotebookRuns() throws IOException {
        List<Path> books;
        try (Stream<Path> s = Files.list(NOTEBOOKS)) {
            // -Dsparkformers.notebooks=01-: only the notebooks whose name starts so (the smoke suite runs one)
            String only = System.getProperty("sparkformers.notebooks", "");
            books = s.filter(p -> p.toString().endsWith(".ipynb"))
                    .filter(p -> p.getFileName().toString().startsWith(only))
                    .sorted()
                    .toList();
        }
        assertFalse(
                books.isEmpty(),
                "no notebooks found in " + NOTEBOOKS.toAbsolutePath() + " (sparkformers.notebooks filter: '"
                        + System.getProperty("sparkformers.notebooks", "") + "')");
        return books.stream()
                .map(p -> DynamicTest.dynamicTest(p.getFileName().toString(), () -> {
                    JsonNode nb = Json.MAPPER.readTree(p.toFile());
                    assertEquals("java", nb.at("/metadata/kernelspec/language").asText(), "JJava kernel metadata");
                    java.util.Set<String> ids = new java.util.HashSet<>();
                    for (JsonNode cell : nb.get("cells")) {
                        // nbformat 4.5: every cell has an id of 1-64 letters, digits, '-' or '_', unique in the
                        // notebook
                        String id = cell.path("id").asText("");
                        assertTrue(
                                id.matches("[a-zA-Z0-9_-]{1,64}") && ids.add(id),
                                p.getFileName() + ": cell id '" + id
                                        + "' (nbformat 4.5 needs a unique id on every cell, or Jupyter repairs the file on open)");
                        if ("code".equals(cell.path("cell_type").asText())) {
                            assertTrue(
                                    cell.path("outputs").isEmpty()
                                            && cell.path("execution_count").isNull(),
                                    p.getFileName() + ": commit notebooks without outputs (they would go stale)");
                        }
                    }
                    NotebookRunner.Result r = NotebookRunner.run(p);
                    assertFalse(r.cellOutputs().isEmpty());
                    System.out.println(p.getFileName() + ":\n" + String.join("", r.cellOutputs()));
                }));
    }
}
