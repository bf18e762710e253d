package io.sparkformers.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local repository is found where Maven finds it, so tests and {@code models import} read what the build fetched. */
class MavenArtifactsTest {

    @TempDir
    Path tmp;

    @Test
    void settingsLocalRepositoryIsReadWithPropertiesExpanded() throws IOException {
        Path settings = tmp.resolve("settings.xml");
        Files.writeString(settings, """
                <?xml version="1.0" encoding="UTF-8"?>
                <settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">
                  <!-- a comment -->
                  <localRepository>${user.home}/elsewhere/repo</localRepository>
                </settings>
                """);
        assertEquals(
                System.getProperty("user.home") + "/elsewhere/repo", MavenArtifacts.settingsLocalRepository(settings));
    }

    @Test
    void settingsWithoutLocalRepositoryOrNoFileGiveNothing() throws IOException {
        Path settings = tmp.resolve("settings.xml");
        Files.writeString(settings, "<settings><mirrors/></settings>");
        assertNull(MavenArtifacts.settingsLocalRepository(settings));
        assertNull(MavenArtifacts.settingsLocalRepository(tmp.resolve("absent.xml")));
    }

    @Test
    void brokenSettingsNameTheFileAndTheWayOut() throws IOException {
        Path settings = tmp.resolve("settings.xml");
        Files.writeString(settings, "<settings><localRepository>");
        IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> MavenArtifacts.settingsLocalRepository(settings));
        assertTrue(e.getMessage().startsWith("cannot read Maven settings " + settings), e.getMessage());
        assertTrue(e.getMessage().contains("-Dmaven.repo.local"), e.getMessage());
    }

    @Test
    void theBuildPassesItsOwnRepositoryToTheTests() {
        // surefire's argLine sets -Dmaven.repo.local=${settings.localRepository}: the model jars are there
        assertEquals(Path.of(System.getProperty("maven.repo.local")), MavenArtifacts.localRepository());
        assertTrue(
                Files.isDirectory(MavenArtifacts.localRepository().resolve("dev/langchain4j")),
                "the build fetched the model jars into " + MavenArtifacts.localRepository());
    }
}
