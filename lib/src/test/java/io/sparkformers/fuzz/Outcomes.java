package io.sparkformers.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The contract every fuzz target checks: a parser of untrusted bytes either succeeds or throws one of the exception
 * types it documents, with a message that names the input. Anything else — a NullPointerException, an index out of
 * bounds, a NegativeArraySizeException, an ArithmeticException, an OutOfMemoryError, a StackOverflowError — escapes
 * and is a finding for Jazzer (in fuzzing mode) or a failed regression case (in {@code mvn test}).
 */
final class Outcomes {

    /** Scratch folder of this JVM, one per fuzz class run; files are overwritten for every input. */
    private static final Path SCRATCH;

    static {
        try {
            SCRATCH = Files.createTempDirectory("sparkformers-fuzz");
            SCRATCH.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Outcomes() {}

    interface Parse {
        void run() throws Exception;
    }

    /** {@code bytes} written to {@code name} in the scratch folder (a sub-folder {@code dir} when not empty). */
    static Path write(String dir, String name, byte[] bytes) throws IOException {
        Path folder = dir.isEmpty() ? SCRATCH : Files.createDirectories(SCRATCH.resolve(dir));
        Path file = folder.resolve(name);
        Files.write(file, bytes);
        return file;
    }

    /**
     * Runs {@code parse}; an exception of one of the {@code allowed} types passes when its message contains
     * {@code source} (empty: any non-blank message), every other throwable is rethrown as the finding it is.
     */
    static void onlyClearErrors(String source, List<Class<? extends Exception>> allowed, Parse parse) throws Exception {
        try {
            parse.run();
        } catch (Exception e) {
            if (allowed.stream().noneMatch(c -> c.isInstance(e))) throw e;
            String message = e.getMessage();
            if (message == null || message.isBlank() || !message.contains(source)) {
                throw new AssertionError(
                        "a " + e.getClass().getSimpleName() + " without a clear message (it should" + " name "
                                + (source.isEmpty() ? "the problem" : "'" + source + "'") + "): " + message,
                        e);
            }
        }
    }
}
