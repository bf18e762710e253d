package io.sparkformers.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jdk.jshell.JShell;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;

/**
 * Executes the code cells of a Jupyter notebook written for a Java kernel (JJava), in order, in one JShell session
 * running inside this JVM with the test classpath — what a user gets after {@code %jars jobs/target/sparkformers-jobs.jar}.
 * Kernel magics (lines starting with {@code %}) are skipped: the classpath is already there. Any rejected snippet or
 * exception fails the run, naming the cell and the snippet.
 */
final class NotebookRunner {

    /** What a notebook printed, cell by cell. */
    record Result(List<String> cellOutputs) {}

    static Result run(Path notebook) throws IOException {
        JsonNode nb = Json.MAPPER.readTree(notebook.toFile());
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(captured, true, StandardCharsets.UTF_8);
        List<String> outputs = new ArrayList<>();
        try (JShell shell =
                JShell.builder().executionEngine("local").out(out).err(out).build()) {
            for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
                shell.addToClasspath(entry);
            }
            int cellNo = 0;
            PrintStream oldOut = System.out;
            System.setOut(out); // local execution: the notebook's System.out is this JVM's
            try {
                for (JsonNode cell : nb.get("cells")) {
                    cellNo++;
                    if (!"code".equals(cell.path("cell_type").asText())) continue;
                    captured.reset();
                    runCell(shell, cellNo, notebook, source(cell));
                    out.flush();
                    outputs.add(captured.toString(StandardCharsets.UTF_8));
                }
            } finally {
                System.setOut(oldOut);
            }
        }
        return new Result(outputs);
    }

    private static String source(JsonNode cell) {
        StringBuilder sb = new StringBuilder();
        JsonNode src = cell.get("source");
        if (src.isArray()) src.forEach(l -> sb.append(l.asText()));
        else sb.append(src.asText());
        StringBuilder code = new StringBuilder();
        for (String line : sb.toString().split("\n", -1)) {
            if (!line.stripLeading().startsWith("%")) code.append(line).append('\n');
        }
        return code.toString();
    }

    private static void runCell(JShell shell, int cellNo, Path notebook, String code) {
        SourceCodeAnalysis analysis = shell.sourceCodeAnalysis();
        String remaining = code;
        while (!remaining.isBlank()) {
            SourceCodeAnalysis.CompletionInfo info = analysis.analyzeCompletion(remaining);
            String snippet = info.source();
            if (snippet == null || !info.completeness().isComplete()) {
                throw new AssertionError(
                        notebook.getFileName() + " cell " + cellNo + ": incomplete code: " + remaining.strip());
            }
            for (SnippetEvent e : shell.eval(snippet)) {
                if (e.status() == Snippet.Status.REJECTED) {
                    String diags = shell.diagnostics(e.snippet())
                            .map(d -> d.getMessage(null))
                            .reduce("", (a, b) -> a + b + "; ");
                    throw new AssertionError(notebook.getFileName() + " cell " + cellNo + " does not compile: "
                            + snippet.strip() + " -- " + diags);
                }
                if (e.exception() != null) {
                    AssertionError err = new AssertionError(notebook.getFileName() + " cell " + cellNo + " threw "
                            + e.exception() + " at: " + snippet.strip());
                    err.initCause(e.exception());
                    throw err;
                }
            }
            remaining = info.remaining();
        }
    }
}
