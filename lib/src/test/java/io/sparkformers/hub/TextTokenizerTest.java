package io.sparkformers.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.pipeline.TinyCheckpoints;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A damaged {@code tokenizer.json} fails naming the file, the parser's reason and the fix. */
class TextTokenizerTest {
    @TempDir
    Path tmp;

    @Test
    void truncatedTokenizerJsonNamesTheFileAndTheFix() throws Exception {
        Path file = tmp.resolve("tokenizer.json");
        Files.writeString(file, "{\n");
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> TextTokenizer.load(file, TokenizerConfig.bertUncased(512), 128));
        assertTrue(e.getMessage().startsWith(file + " is not valid JSON (Unexpected end-of-input"), e.getMessage());
        assertTrue(
                e.getMessage()
                        .endsWith("): the file is truncated or corrupt; download it again or save it again with "
                                + "tokenizer.save_pretrained"),
                e.getMessage());
    }

    /** Found by fuzzing: the native library panicked (aborting the JVM) on a syntax error inside the decoder. */
    @Test
    void aSyntaxErrorInsideTheDecoderIsRefusedBeforeTheNativeLibraryReadsIt() throws Exception {
        String real = Files.readString(TinyCheckpoints.miniLm().resolve("tokenizer.json"));
        Path file = tmp.resolve("decoder.json");
        Files.writeString(file, real.replaceFirst("\"cleanup\"\\s*:\\s*true", "\"cleanup\":tzue"));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> TextTokenizer.load(file, TokenizerConfig.bertUncased(512), 128));
        assertTrue(e.getMessage().startsWith(file + " is not valid JSON (Unrecognized token 'tzue'"), e.getMessage());
    }

    /** A well-formed decoder of the wrong type is the native library's to refuse: it must throw, not abort. */
    @Test
    void aDecoderFieldOfTheWrongTypeIsAClearError() throws Exception {
        String real = Files.readString(TinyCheckpoints.miniLm().resolve("tokenizer.json"));
        Path file = tmp.resolve("decoder-type.json");
        Files.writeString(file, real.replaceFirst("\"cleanup\"\\s*:\\s*true", "\"cleanup\":\"yes\""));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> TextTokenizer.load(file, TokenizerConfig.bertUncased(512), 128));
        assertTrue(e.getMessage().startsWith(file + " is not a tokenizer"), e.getMessage());
    }

    @Test
    void validJsonThatIsNoTokenizerSaysSo() throws Exception {
        byte[] real = Files.readAllBytes(TinyCheckpoints.miniLm().resolve("tokenizer.json"));
        Path cut = tmp.resolve("cut.json");
        Files.write(cut, java.util.Arrays.copyOf(real, real.length / 2));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> TextTokenizer.load(cut, TokenizerConfig.bertUncased(512), 128));
        assertEquals(
                true, e.getMessage().startsWith(cut + " is not valid JSON (Unexpected end-of-input"), e.getMessage());

        Path other = tmp.resolve("other.json");
        Files.writeString(other, "{\"model\": 3}");
        e = assertThrows(
                IllegalArgumentException.class, () -> TextTokenizer.load(other, TokenizerConfig.bertUncased(512), 128));
        assertEquals(
                true,
                e.getMessage().startsWith(other + " is not a tokenizer the HF tokenizers library can " + "read ("),
                e.getMessage());
    }

    /**
     * The file is read once: the JSON checks and the native library share its bytes. A FIFO yields its content to
     * one reader only, so a second read of the path would block for a writer that never comes.
     */
    @Test
    void tokenizerJsonIsReadOnceSoAPipeWorks() throws Exception {
        Path real = TinyCheckpoints.miniLm().resolve("tokenizer.json");
        Path fifo = tmp.resolve("tokenizer.json");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
        org.junit.jupiter.api.Assumptions.assumeTrue(mk.waitFor() == 0, "mkfifo is not available");
        Thread writer = new Thread(() -> {
            try (var out = Files.newOutputStream(fifo)) {
                Files.copy(real, out);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        writer.setDaemon(true);
        writer.start();
        java.util.concurrent.ExecutorService loader = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r);
            t.setDaemon(true); // a second open of the FIFO would block it for good
            return t;
        });
        try {
            var loaded = loader.submit(() -> TextTokenizer.load(fifo, TokenizerConfig.bertUncased(512), 16));
            try (TextTokenizer tok = loaded.get(30, java.util.concurrent.TimeUnit.SECONDS)) {
                try (TextTokenizer direct = TextTokenizer.load(real, TokenizerConfig.bertUncased(512), 16)) {
                    String text = "the tokenizer file was read once from a pipe";
                    org.junit.jupiter.api.Assertions.assertArrayEquals(
                            direct.encode(text).getIds(), tok.encode(text).getIds());
                }
            }
        } finally {
            loader.shutdownNow();
        }
    }
}
