package io.sparkformers.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code predict} over the folder a killed job leaves (Spark's {@code _temporary} and committed part files, no
 * {@code _SUCCESS}): refused in one line under errorifexists and append alike, before any model loads. The real kill
 * is in StandaloneClusterIT.
 */
class PredictIncompleteOutputTest {
    @TempDir
    Path tmp;

    @Test
    void anOutputWithoutSuccessIsRefusedInOneLineUnlessOverwritten() throws Exception {
        Path input = tmp.resolve("in.jsonl");
        Files.writeString(input, "{\"id\": 1, \"text\": \"hello\"}\n");
        Path out = tmp.resolve("out");
        Files.createDirectories(out.resolve("_temporary/0/task_202612060000_0001_m_000000"));
        Files.writeString(out.resolve("part-00000-0.json"), "{\"id\": 1, \"text\": \"hello\", \"embedding\": [0.5]}\n");
        String refusal = "error: output '" + out + "' is incomplete (no _SUCCESS: the job writing it stopped before "
                + "committing, e.g. killed); pass --mode overwrite to replace it";
        for (List<String> mode : List.of(List.<String>of(), List.of("--mode", "append"))) {
            PrintStream old = System.err;
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code;
            try {
                List<String> args = new java.util.ArrayList<>(List.of(
                        "predict",
                        "--task",
                        "sentence-embeddings",
                        "--model",
                        "all-MiniLM-L6-v2",
                        "--input",
                        input.toString(),
                        "--output",
                        out.toString()));
                args.addAll(mode);
                code = Main.run(args.toArray(String[]::new));
            } finally {
                System.setErr(old);
            }
            List<String> lines = err.toString(StandardCharsets.UTF_8)
                    .lines()
                    .filter(l -> !l.isBlank())
                    .toList();
            assertEquals(1, code, String.join("\n", lines));
            assertEquals(refusal, lines.get(lines.size() - 1), "mode " + mode);
        }
    }
}
