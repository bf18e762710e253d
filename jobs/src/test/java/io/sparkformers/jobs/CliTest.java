package io.sparkformers.jobs;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import org.junit.jupiter.api.Test;

/** The command line as users meet it: help, exit codes, one-line errors, machine-readable --json. */
class CliTest {

    @Test
    void helpIsOfferedEverywhereAndExitsZero() {
        for (String[] args : new String[][] {
            {"--help"},
            {"models", "--help"},
            {"models", "import", "--help"},
            {"pipeline", "--help"},
            {"bench", "--help"}
        }) {
            CliRun r = CliRun.of(args);
            assertEquals(0, r.exitCode(), String.join(" ", args));
            assertTrue(r.out().contains("Usage:"), r.out());
        }
    }

    @Test
    void versionPrintsTheVersionTheBuildGaveTheProject() throws Exception {
        CliRun r = CliRun.of("--version");
        assertEquals(0, r.exitCode());
        // the parent POM's default version (the CI-friendly ${revision} property), read from the file, not from
        // anything the build generated; run with -Drevision=X the build would print X instead
        String pom = java.nio.file.Files.readString(java.nio.file.Path.of("..", "pom.xml"));
        java.util.regex.Matcher m =
                java.util.regex.Pattern.compile("<revision>([^<]+)</revision>").matcher(pom);
        assertTrue(m.find(), "the parent POM declares a revision");
        assertEquals("sparkformers " + m.group(1), r.out().strip());
    }

    @Test
    void usageErrorsExitWithTwo() {
        CliRun r = CliRun.of("pipeline", "fill-mask", "--text", "x"); // --model is required
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--model"), r.err());
        assertEquals(2, CliRun.of("no-such-command").exitCode());
    }

    @Test
    void failuresPrintOneLineAndExitWithOne() {
        CliRun r = CliRun.of("pipeline", "fill-mask", "--model", "/nonexistent/model", "--text", "a [MASK]");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().startsWith("error: model folder /nonexistent/model does not exist"), r.err());
        assertEquals(1, r.err().strip().lines().count(), "no stack trace without --verbose: " + r.err());
        CliRun verbose =
                CliRun.of("pipeline", "fill-mask", "--verbose", "--model", "/nonexistent/model", "--text", "a [MASK]");
        assertTrue(verbose.err().contains("at io.sparkformers"), "--verbose prints the stack trace");
    }

    @Test
    void modelsListJsonNamesEveryAlias() throws Exception {
        CliRun r = CliRun.of("models", "list", "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode list = Json.MAPPER.readTree(r.out()).get("aliases");
        assertEquals(5, list.size());
        assertEquals("all-MiniLM-L6-v2", list.get(0).get("alias").asText());
        assertEquals("bert-base-uncased", list.get(4).get("alias").asText());
    }

    @Test
    void fillMaskJsonIsHfOutputStructureAndRanksParisFirst() throws Exception {
        CliRun r = CliRun.of(
                "pipeline",
                "fill-mask",
                "--model",
                "bert-base-uncased",
                "--text",
                "The capital of France is [MASK].",
                "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode out = Json.MAPPER.readTree(r.out());
        assertEquals(5, out.size());
        JsonNode first = out.get(0);
        assertEquals("paris", first.get("token_str").asText());
        assertEquals("the capital of france is paris.", first.get("sequence").asText());
        assertEquals(3000, first.get("token").asInt());
        assertTrue(first.get("score").isNumber());
    }
}
