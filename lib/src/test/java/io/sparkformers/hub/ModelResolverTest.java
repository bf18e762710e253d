package io.sparkformers.hub;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reference parsing, every source through one resolver, and the library side of {@code models download|inspect|list}. */
class ModelResolverTest {

    @TempDir
    Path tmp;

    FakeHub server;
    ModelResolver resolver;
    Path aliasDir;

    /** An alias provider with one alias, "tiny", standing in for the built-in models (which import real weights). */
    final class TinyAliases implements ModelAliases {
        @Override
        public List<String> names() {
            return List.of("tiny");
        }

        @Override
        public Optional<Path> resolve(String name) {
            return knows(name) ? Optional.of(aliasDir) : Optional.empty();
        }

        @Override
        public Map<String, Path> available() {
            return Map.of("tiny", aliasDir);
        }
    }

    @BeforeEach
    void start() throws IOException {
        server = new FakeHub();
        aliasDir = Fixtures.write(tmp.resolve("alias"), Fixtures.model(9f, 64));
        resolver = new ModelResolver(
                Map.of(
                        "HF_ENDPOINT",
                        server.endpoint(),
                        "HF_HOME",
                        tmp.resolve("hf").toString()),
                Map.of(),
                new ModelCache(tmp.resolve("cache")),
                List.of(new TinyAliases()));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private static float firstWeight(Path dir) throws IOException {
        try (var w = HfCheckpoint.open(dir).openWeights()) {
            return w.tensor("classifier.bias").toFloatArray()[0];
        }
    }

    @Test
    void referencesParseByForm() {
        assertEquals(new ModelRef.HubId("acme/tiny-bert", "main"), resolver.parse("acme/tiny-bert"));
        assertEquals(new ModelRef.HubId("acme/tiny-bert", "refs/pr/1"), resolver.parse("acme/tiny-bert@refs/pr/1"));
        assertEquals(
                new ModelRef.HubId("BAAI/bge-small-en-v1.5", "v1.0"), resolver.parse("BAAI/bge-small-en-v1.5@v1.0"));
        assertEquals(new ModelRef.HadoopUri("s3a://bucket/models/bert"), resolver.parse("s3a://bucket/models/bert"));
        assertEquals(
                new ModelRef.HadoopUri("abfs://c@acct.dfs.core.windows.net/m"),
                resolver.parse("abfs://c@acct.dfs.core.windows.net/m"));
        assertEquals(new ModelRef.HadoopUri("file:/data/m"), resolver.parse("file:/data/m"));
        assertEquals(new ModelRef.LocalFolder(Path.of("/no/such/model")), resolver.parse("/no/such/model"));
        assertEquals(new ModelRef.LocalFolder(Path.of("./m")), resolver.parse("./m"));
        assertEquals(new ModelRef.Alias("TINY"), resolver.parse("TINY"));
    }

    @Test
    void existingRelativeFolderWinsOverTheHubIdReadingOfTheSameString() throws IOException {
        // "target/<name>" is also a valid org/name; the folder exists, so it is the folder
        String rel = "target/model-" + UUID.randomUUID();
        Path dir = Fixtures.write(Path.of(rel), Fixtures.model(2f, 64));
        try {
            assertEquals(new ModelRef.LocalFolder(Path.of(rel)), resolver.parse(rel));
            assertEquals(2f, firstWeight(resolver.resolve(rel)));
        } finally {
            ModelCache.deleteTree(dir);
        }
    }

    @Test
    void malformedReferencesNameTheRefAndTheAcceptedForms() {
        for (String ref : new String[] {
            "a/b/c@", "@x", "", "   ", "a/b/c", "acme/tiny--bert", "acme/tiny-bert@", "-acme/x", "acme/x@../main"
        }) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> resolver.parse(ref), ref);
            assertTrue(
                    e.getMessage().startsWith("malformed model reference '" + ref.strip()) || ref.isBlank(),
                    e.getMessage());
            assertTrue(
                    e.getMessage().contains("org/name[@revision]")
                            && e.getMessage().contains("s3a://"),
                    e.getMessage());
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> resolver.parse("a/b/c@"))
                .getMessage()
                .contains("nothing after '@'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> resolver.parse("@x"))
                .getMessage()
                .contains("nothing before '@'"));
    }

    @Test
    void unknownAliasListsTheBuiltInAliases() {
        ModelResolver installed = new ModelResolver(
                Map.of("HF_HOME", tmp.resolve("hf").toString()),
                Map.of(),
                new ModelCache(tmp.resolve("cache")),
                ModelAliases.installed());
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> installed.resolve("bert-large"));
        assertTrue(
                e.getMessage().contains("unknown model 'bert-large'")
                        && e.getMessage().contains("all-MiniLM-L6-v2")
                        && e.getMessage().contains("bge-small-en-v1.5")
                        && e.getMessage().contains("org/name"),
                e.getMessage());
        assertTrue(
                installed.parse("all-minilm-l6-v2") instanceof ModelRef.Alias,
                "convert's built-in aliases are found through ServiceLoader");
    }

    @Test
    void everySourceResolvesToAnOpenableCheckpoint() throws IOException {
        server.commit("acme/tiny-bert", "main", Fixtures.model(1f, 64));
        Path local = Fixtures.write(tmp.resolve("local"), Fixtures.model(3f, 64));

        assertEquals(1f, firstWeight(resolver.resolve("acme/tiny-bert")));
        assertEquals(3f, firstWeight(resolver.resolve(local.toString())));
        assertEquals(3f, firstWeight(resolver.resolve(local.toUri().toString())));
        assertEquals(9f, firstWeight(resolver.resolve("tiny")));
    }

    @Test
    void badLocalFoldersGiveClearErrors() throws IOException {
        IOException missing = assertThrows(
                IOException.class, () -> resolver.resolve(tmp.resolve("absent").toString()));
        assertTrue(
                missing.getMessage().contains("absent") && missing.getMessage().contains("does not exist"),
                missing.getMessage());

        Path file = Files.writeString(tmp.resolve("config.json"), "{}");
        IOException notDir = assertThrows(IOException.class, () -> resolver.resolve(file.toString()));
        assertTrue(notDir.getMessage().contains("is not a folder"), notDir.getMessage());

        Path noConfig = Fixtures.write(tmp.resolve("no-config"), Fixtures.model(1f, 64));
        Files.delete(noConfig.resolve("config.json"));
        IOException e = assertThrows(IOException.class, () -> resolver.resolve(noConfig.toString()));
        assertTrue(e.getMessage().contains("has no config.json"), e.getMessage());

        Path pickled = Fixtures.write(tmp.resolve("pickled"), Fixtures.model(1f, 64));
        Files.delete(pickled.resolve("model.safetensors"));
        Files.write(pickled.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 2});
        UnsafeCheckpointException u =
                assertThrows(UnsafeCheckpointException.class, () -> resolver.resolve(pickled.toString()));
        assertTrue(
                u.getMessage().contains("pytorch_model.bin") && u.getMessage().contains("safe_serialization=True"),
                u.getMessage());
    }

    @Test
    void unreadableFolderIsReportedAsSuch() throws IOException {
        Path dir = Fixtures.write(tmp.resolve("locked"), Fixtures.model(1f, 64));
        assertTrue(dir.toFile().setReadable(false, false) && dir.toFile().setExecutable(false, false));
        try {
            if (Files.isReadable(dir)) {
                // root reads anything: then the folder really is readable and must load
                assertEquals(1f, firstWeight(resolver.resolve(dir.toString())));
            } else {
                IOException e = assertThrows(IOException.class, () -> resolver.resolve(dir.toString()));
                assertTrue(
                        e.getMessage().contains("locked") && e.getMessage().contains("not readable"), e.getMessage());
            }
        } finally {
            dir.toFile().setReadable(true, false);
            dir.toFile().setExecutable(true, false);
        }
    }

    @Test
    void hubIdThatIsNoRepoMentionsTheMissingLocalFolderToo() {
        HubException e = assertThrows(HubException.class, () -> resolver.resolve("models/bert"));
        assertTrue(
                e.getMessage().contains("repository models/bert not found")
                        && e.getMessage().contains("no local folder 'models/bert' either"),
                e.getMessage());
    }

    @Test
    void downloadCopiesTheSnapshotWithContentNotLinks() throws IOException {
        var files = Fixtures.model(1f, 64);
        server.commit("acme/tiny-bert", "main", files);
        Path out = tmp.resolve("out/tiny");

        assertEquals(out, resolver.download("acme/tiny-bert", Optional.of(out)));

        for (var f : files.entrySet()) {
            Path p = out.resolve(f.getKey());
            assertFalse(Files.isSymbolicLink(p), f.getKey());
            assertArrayEquals(f.getValue(), Files.readAllBytes(p), f.getKey());
        }
        IOException e = assertThrows(IOException.class, () -> resolver.download("acme/tiny-bert", Optional.of(out)));
        assertTrue(e.getMessage().contains("is not empty"), e.getMessage());
        assertEquals(
                resolver.hub().repoDir("acme/tiny-bert").resolve("snapshots"),
                resolver.download("acme/tiny-bert", Optional.empty()).getParent());
    }

    @Test
    void inspectReadsHeadersAndConfigOnly() throws IOException {
        server.commit("acme/tiny-bert", "main", Fixtures.model(1f, 64));

        ModelInfo info = resolver.inspect("acme/tiny-bert");

        assertEquals("BertForSequenceClassification", info.architecture());
        assertEquals("bert", info.modelType());
        assertEquals(64 + 2, info.parameterCount());
        assertEquals(Map.of("F32", 66L), info.parametersByDtype());
        assertEquals(Map.of(0, "neg", 1, "pos"), info.labels());
        assertTrue(
                info.files().containsKey("model.safetensors") && info.files().containsKey("1_Pooling/config.json"),
                info.files().toString());
        assertEquals(info.files().values().stream().mapToLong(Long::longValue).sum(), info.totalBytes());
        assertTrue(info.files().get("model.safetensors") > 66 * 4, "sizes follow the snapshot links to the blobs");
    }

    @Test
    void listCachedShowsAliasesHubSnapshotsAndExecutorCopies() throws IOException {
        String commit = server.commit("acme/tiny-bert", "main", Fixtures.model(1f, 64));
        Path local = Fixtures.write(tmp.resolve("lake/model"), Fixtures.model(3f, 64));
        resolver.resolve("acme/tiny-bert");
        resolver.resolve(local.toUri().toString());

        List<CachedModel> cached = resolver.listCached();

        assertEquals(
                List.of(CachedModel.Kind.ALIAS, CachedModel.Kind.HUB, CachedModel.Kind.EXECUTOR_CACHE),
                cached.stream().map(CachedModel::kind).toList());
        assertEquals(
                List.of("tiny", "acme/tiny-bert", local.toUri().toString()),
                cached.stream().map(CachedModel::name).toList());
        assertEquals("commit " + commit + " (main)", cached.get(1).detail());
        assertTrue(cached.stream().allMatch(c -> c.bytes() > 0), cached.toString());
    }
}
