package io.sparkformers.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.pipeline.TinyCheckpoints;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code tokenizer.json} that makes the HF tokenizers native library panic is refused by the child-JVM check with
 * one line naming the file; this JVM survives. A file that passed costs no second child.
 */
class TokenizerJsonCheckTest {
    @TempDir
    Path tmp;

    /**
     * A {@code Precompiled} normalizer whose {@code precompiled_charsmap} does not parse: the tokenizers library
     * {@code expect}s it to (a panic at load, which in-process aborts the JVM). The same input is kept as a fuzz
     * regression case ({@code TokenizerFuzzTestInputs/tokenizerJson/crash-precompiled-charsmap-panic}).
     */
    @Test
    void aTokenizerJsonThatPanicsTheNativeLibraryIsRefusedNamingTheFile() throws Exception {
        String real = Files.readString(TinyCheckpoints.miniLm().resolve("tokenizer.json"));
        Path file = tmp.resolve("tokenizer.json");
        Files.writeString(file, precompiledNormalizer(real));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> TextTokenizer.load(file, TokenizerConfig.bertUncased(512), 128));
        assertTrue(
                e.getMessage()
                        .startsWith(file + " makes the HF tokenizers native library fail (a check in a "
                                + "child JVM exited with status "),
                e.getMessage());
        assertTrue(e.getMessage().contains("precompiled_charsmap"), "the panic message: " + e.getMessage());
        assertTrue(e.getMessage().contains("save it again with a fast tokenizer's save_pretrained"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    @Test
    void aFileThatPassedCostsNoSecondChild() throws Exception {
        byte[] real = Files.readAllBytes(TinyCheckpoints.miniLm().resolve("tokenizer.json"));
        // a variant no earlier run loaded (markers stay in the test home), so the first load below runs the child
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) Json.MAPPER.readTree(real);
        ((com.fasterxml.jackson.databind.node.ObjectNode) root.get("model"))
                .put("max_input_chars_per_word", 100 + System.nanoTime() % 1_000_000_000);
        String unique = Json.MAPPER.writeValueAsString(root);
        Path file = tmp.resolve("tokenizer.json");
        Files.writeString(file, unique);
        int before = TokenizerJsonCheck.CHILDREN.get();
        try (TextTokenizer t = TextTokenizer.load(file, TokenizerConfig.bertUncased(512), 128)) {
            assertTrue(t.encode("hello").getIds().length > 0);
        }
        assertEquals(before + 1, TokenizerJsonCheck.CHILDREN.get(), "the first load checks in a child");
        TextTokenizer.load(file, TokenizerConfig.bertUncased(512), 128).close();
        TokenizerJsonCheck.forgetInProcess(); // as a new JVM on this machine: the marker in the home answers
        TextTokenizer.load(file, TokenizerConfig.bertUncased(512), 128).close();
        assertEquals(before + 1, TokenizerJsonCheck.CHILDREN.get(), "no second child for the same bytes");
        TextTokenizer.load(file, TokenizerConfig.bertUncased(512), 64).close();
        assertEquals(before + 2, TokenizerJsonCheck.CHILDREN.get(), "other load options are checked again");
    }

    /** A child that cannot start says nothing about the file: the message says so and names the opt-out. */
    @Test
    void aChildThatCannotStartIsReportedAsSuchNotAsABadFile() throws Exception {
        String real = Files.readString(TinyCheckpoints.miniLm().resolve("tokenizer.json"));
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) Json.MAPPER.readTree(real);
        ((com.fasterxml.jackson.databind.node.ObjectNode) root.get("model"))
                .put("max_input_chars_per_word", 100 + System.nanoTime() % 1_000_000_000);
        Path file = tmp.resolve("tokenizer.json");
        Files.writeString(file, Json.MAPPER.writeValueAsString(root));
        String javaHome = System.getProperty("java.home");
        System.setProperty("java.home", tmp.resolve("no-jdk").toString());
        try {
            IllegalStateException e = assertThrows(
                    IllegalStateException.class, () -> TextTokenizer.load(file, TokenizerConfig.bertUncased(512), 128));
            assertTrue(e.getMessage().startsWith("cannot check " + file + " in a child JVM ("), e.getMessage());
            assertTrue(e.getMessage().endsWith("set -Dsparkformers.tokenizerCheck=false"), e.getMessage());
        } finally {
            System.setProperty("java.home", javaHome);
        }
    }

    @Test
    void theCheckIsOnUnlessTurnedOff() {
        String old = System.getProperty(TokenizerJsonCheck.PROPERTY);
        try {
            System.clearProperty(TokenizerJsonCheck.PROPERTY);
            assertEquals(System.getenv(TokenizerJsonCheck.ENV) == null, TokenizerJsonCheck.enabled());
            System.setProperty(TokenizerJsonCheck.PROPERTY, "false");
            assertFalse(TokenizerJsonCheck.enabled());
            System.setProperty(TokenizerJsonCheck.PROPERTY, "true");
            assertTrue(TokenizerJsonCheck.enabled());
        } finally {
            if (old == null) System.clearProperty(TokenizerJsonCheck.PROPERTY);
            else System.setProperty(TokenizerJsonCheck.PROPERTY, old);
        }
    }

    /** The file with its normalizer replaced by a {@code Precompiled} one whose char map does not parse. */
    static String precompiledNormalizer(String tokenizerJson) throws Exception {
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) Json.MAPPER.readTree(tokenizerJson);
        root.putObject("normalizer").put("type", "Precompiled").put("precompiled_charsmap", "AAAA");
        return Json.MAPPER.writeValueAsString(root);
    }
}
