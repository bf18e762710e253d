package io.sparkformers.hub;

import static org.junit.jupiter.api.Assertions.*;

import io.sparkformers.safetensors.SafetensorsWriter;
import io.sparkformers.safetensors.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Hub file protocol and cache layout, end to end against {@link FakeHub} on loopback. */
class HubClientTest {

    @TempDir
    Path tmp;

    FakeHub server;
    Path hfHome;

    @BeforeEach
    void start() throws IOException {
        server = new FakeHub();
        hfHome = tmp.resolve("hf");
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private Map<String, String> env(String... extra) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("HF_ENDPOINT", server.endpoint());
        env.put("HF_HOME", hfHome.toString());
        for (int i = 0; i < extra.length; i += 2) env.put(extra[i], extra[i + 1]);
        return env;
    }

    private HubClient client(String... extra) {
        return new HubClient(env(extra));
    }

    private static float firstWeight(Path snapshot) throws IOException {
        try (var w = HfCheckpoint.open(snapshot).openWeights()) {
            return w.tensor("classifier.bias").toFloatArray()[0];
        }
    }

    @Test
    void downloadsIntoTheHubCacheLayoutSharedWithPython() throws IOException {
        Map<String, byte[]> files = Fixtures.model(1f, 64);
        String commit = server.commit("acme/tiny-bert", "main", files);

        Path snapshot = client().snapshot("acme/tiny-bert", "main");

        Path repo = hfHome.resolve("hub/models--acme--tiny-bert");
        assertEquals(repo.resolve("snapshots").resolve(commit), snapshot);
        assertEquals(commit, Files.readString(repo.resolve("refs/main")));
        String sha = FakeHub.sha256(files.get("model.safetensors"));
        assertTrue(Files.isRegularFile(repo.resolve("blobs").resolve(sha)), "LFS blob named by its sha256");
        assertTrue(
                Files.isRegularFile(repo.resolve("blobs").resolve(FakeHub.gitBlobSha1(files.get("config.json")))),
                "regular blob named by its (weak) ETag, quotes and W/ stripped");
        assertEquals(Path.of("../../blobs/" + sha), Files.readSymbolicLink(snapshot.resolve("model.safetensors")));
        assertEquals(
                Path.of("../../../blobs/" + FakeHub.gitBlobSha1(files.get("1_Pooling/config.json"))),
                Files.readSymbolicLink(snapshot.resolve("1_Pooling/config.json")));
        for (var f : files.entrySet()) {
            assertArrayEquals(f.getValue(), Files.readAllBytes(snapshot.resolve(f.getKey())), f.getKey());
        }
        HfCheckpoint ckpt = HfCheckpoint.open(snapshot);
        assertEquals("bert", ckpt.modelType());
        assertEquals(
                new SentencePooling(SentencePooling.Mode.MEAN, false),
                ckpt.pooling().orElseThrow());
        assertEquals(1f, firstWeight(snapshot));
        try (Stream<Path> blobs = Files.list(repo.resolve("blobs"))) {
            assertTrue(blobs.noneMatch(p -> p.toString().endsWith(".incomplete")));
        }
        assertTrue(
                server.seen("GET").stream()
                        .filter(s -> s.server().equals("hub"))
                        .noneMatch(s -> s.path().endsWith("vocab.txt")),
                "a missing optional file is never fetched");
    }

    @Test
    void headReadsSizeFromContentLengthOrTheLinkedSizeOfLfsFiles() throws IOException {
        Map<String, byte[]> files = Fixtures.model(1f, 64);
        String commit = server.commit("acme/tiny-bert", "main", files);
        HubClient hub = client();

        var config = hub.head("acme/tiny-bert", "main", "config.json").orElseThrow();
        var weights = hub.head("acme/tiny-bert", "main", "model.safetensors").orElseThrow();

        assertEquals(
                new HubClient.FileMeta(
                        commit, FakeHub.gitBlobSha1(files.get("config.json")), files.get("config.json").length),
                config);
        assertEquals(
                new HubClient.FileMeta(
                        commit, FakeHub.sha256(files.get("model.safetensors")), files.get("model.safetensors").length),
                weights);
        assertTrue(hub.head("acme/tiny-bert", "main", "vocab.txt").isEmpty());
        assertTrue(
                server.seen.stream().noneMatch(s -> s.server().equals("cdn")), "HEAD does not follow the CDN redirect");
    }

    @Test
    void cachedBlobsAreNotDownloadedAgain() throws IOException {
        server.commit("acme/tiny-bert", "main", Fixtures.model(1f, 64));
        client().snapshot("acme/tiny-bert", "main");
        int gets = server.seen("GET").size();
        client().snapshot("acme/tiny-bert", "main");
        assertEquals(gets, server.seen("GET").size(), "second resolve only asks HEAD: every blob is cached");
    }

    @Test
    void revisionPinningServesEachRevisionsOwnFiles() throws IOException {
        String v1 = server.commit("acme/tiny-bert", "v1", Fixtures.model(1f, 64));
        String v2 = server.commit("acme/tiny-bert", "main", Fixtures.model(2f, 64));
        HubClient hub = client();

        Path pinned = hub.snapshot("acme/tiny-bert", "v1");
        Path latest = hub.snapshot("acme/tiny-bert", "main");
        Path byCommit = hub.snapshot("acme/tiny-bert", v1);

        assertEquals(1f, firstWeight(pinned));
        assertEquals(2f, firstWeight(latest));
        assertEquals(pinned, byCommit);
        Path refs = hfHome.resolve("hub/models--acme--tiny-bert/refs");
        assertEquals(v1, Files.readString(refs.resolve("v1")));
        assertEquals(v2, Files.readString(refs.resolve("main")));
        assertFalse(Files.exists(refs.resolve(v1)), "a commit sha is not written as a ref");
    }

    @Test
    void shardedWeightsFetchTheIndexAndEveryShard() throws IOException {
        Path dir = tmp.resolve("sharded");
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (int i = 0; i < 3; i++) tensors.put("layer." + i + ".weight", Tensor.ofFloats(new float[64], 8, 8));
        SafetensorsWriter.writeSharded(dir, "model", tensors, Map.of("format", "pt"), 300);
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("config.json", Fixtures.utf8(Fixtures.CONFIG));
        try (Stream<Path> list = Files.list(dir)) {
            for (Path p : list.toList()) files.put(p.getFileName().toString(), Files.readAllBytes(p));
        }
        assertTrue(
                files.containsKey("model.safetensors.index.json") && files.size() == 5,
                files.keySet().toString());
        server.commit("acme/sharded", "main", files);

        Path snapshot = client().snapshot("acme/sharded", "main");

        try (var w = HfCheckpoint.open(snapshot).openWeights()) {
            assertTrue(w.isSharded());
            assertEquals(tensors.keySet(), w.names());
        }
    }

    @Test
    void missingRepoRevisionAndFileAreNamed() {
        HubClient hub = client();
        server.commit("acme/no-config", "main", Map.of("README.md", Fixtures.utf8("hi")));
        server.commit("acme/tiny-bert", "main", Map.of("config.json", Fixtures.utf8(Fixtures.CONFIG)));

        HubException repo = assertThrows(HubException.class, () -> hub.snapshot("nobody/nothing", "main"));
        assertEquals(HubException.Reason.REPO_NOT_FOUND, repo.reason());
        assertTrue(
                repo.getMessage().contains("repository nobody/nothing not found")
                        && repo.getMessage().contains("HF_TOKEN"),
                repo.getMessage());

        HubException rev = assertThrows(HubException.class, () -> hub.snapshot("acme/tiny-bert", "nope"));
        assertTrue(rev.getMessage().contains("revision 'nope' not found in acme/tiny-bert"), rev.getMessage());

        HubException file = assertThrows(HubException.class, () -> hub.snapshot("acme/no-config", "main"));
        assertTrue(file.getMessage().contains("acme/no-config@main has no config.json"), file.getMessage());

        HubException weights = assertThrows(HubException.class, () -> hub.snapshot("acme/tiny-bert", "main"));
        assertTrue(
                weights.getMessage().contains("neither model.safetensors nor model.safetensors.index.json"),
                weights.getMessage());
    }

    @Test
    void privateRepoNeedsTheRightTokenWhichNeverLeavesTheHub() throws IOException {
        server.commit("acme/private", "main", Fixtures.model(1f, 64));
        server.requireToken("acme/private", "hf_right");

        HubException anonymous = assertThrows(HubException.class, () -> client().snapshot("acme/private", "main"));
        assertEquals(HubException.Reason.UNAUTHORIZED, anonymous.reason());
        assertTrue(anonymous.getMessage().contains("set HF_TOKEN"), anonymous.getMessage());

        HubException wrong = assertThrows(
                HubException.class, () -> client("HF_TOKEN", "hf_wrong").snapshot("acme/private", "main"));
        assertTrue(
                wrong.getMessage().contains("HF_TOKEN was refused for acme/private")
                        && wrong.getMessage().contains("lacks access"),
                wrong.getMessage());
        assertFalse(wrong.getMessage().contains("hf_wrong"), "the token is never printed");

        Path snapshot = client("HF_TOKEN", "hf_right").snapshot("acme/private", "main");
        assertEquals(1f, firstWeight(snapshot));
        List<FakeHub.Seen> cdn =
                server.seen.stream().filter(s -> s.server().equals("cdn")).toList();
        assertFalse(cdn.isEmpty(), "LFS files came through the redirect");
        assertTrue(cdn.stream().allMatch(s -> s.authorization() == null), "Authorization sent to the CDN: " + cdn);
    }

    @Test
    void tokenFileOfHuggingfaceCliLoginIsUsedWhenHfTokenIsUnset() throws IOException {
        server.commit("acme/private", "main", Fixtures.model(1f, 64));
        server.requireToken("acme/private", "hf_right");
        Files.createDirectories(hfHome);
        Files.writeString(hfHome.resolve("token"), "hf_right\n");
        assertEquals(1f, firstWeight(client().snapshot("acme/private", "main")));
    }

    @Test
    void droppedDownloadResumesWithARangeRequest() throws IOException {
        Map<String, byte[]> files = Fixtures.model(1f, 16_384);
        server.commit("acme/tiny-bert", "main", files);
        server.dropNextGetAfter.set(10_000);

        Path snapshot = client().snapshot("acme/tiny-bert", "main");

        assertArrayEquals(files.get("model.safetensors"), Files.readAllBytes(snapshot.resolve("model.safetensors")));
        List<String> ranges = server.seen("GET").stream()
                .filter(s -> s.server().equals("cdn"))
                .map(FakeHub.Seen::range)
                .toList();
        assertEquals(java.util.Arrays.asList(null, "bytes=10000-"), ranges, "first GET whole, second resumes");
    }

    @Test
    void partialBlobLeftByAnEarlierRunIsResumed() throws IOException {
        Map<String, byte[]> files = Fixtures.model(1f, 16_384);
        server.commit("acme/tiny-bert", "main", files);
        byte[] weights = files.get("model.safetensors");
        Path blobs = Files.createDirectories(hfHome.resolve("hub/models--acme--tiny-bert/blobs"));
        Files.write(blobs.resolve(FakeHub.sha256(weights) + ".incomplete"), java.util.Arrays.copyOf(weights, 4096));

        Path snapshot = client().snapshot("acme/tiny-bert", "main");

        assertArrayEquals(weights, Files.readAllBytes(snapshot.resolve("model.safetensors")));
        assertEquals(
                List.of("bytes=4096-"),
                server.seen("GET").stream()
                        .filter(s -> s.server().equals("cdn"))
                        .map(FakeHub.Seen::range)
                        .toList());
    }

    @Test
    void corruptedBlobIsDetectedBySha256AndLeavesNoSnapshot() throws IOException {
        Map<String, byte[]> files = Fixtures.model(1f, 1024);
        server.commit("acme/tiny-bert", "main", files);
        server.corrupt = true;

        HubException e = assertThrows(HubException.class, () -> client().snapshot("acme/tiny-bert", "main"));

        assertEquals(HubException.Reason.CORRUPTED, e.reason());
        String sha = FakeHub.sha256(files.get("model.safetensors"));
        assertTrue(
                e.getMessage().contains("corrupted download of model.safetensors")
                        && e.getMessage().contains(sha),
                e.getMessage());
        Path repo = hfHome.resolve("hub/models--acme--tiny-bert");
        assertFalse(Files.exists(repo.resolve("snapshots")), "no snapshot may point at a bad blob");
        assertFalse(Files.exists(repo.resolve("blobs").resolve(sha)));
        assertFalse(Files.exists(repo.resolve("blobs").resolve(sha + ".incomplete")), "the bad bytes are deleted");

        server.corrupt = false;
        assertEquals(1f, firstWeight(client().snapshot("acme/tiny-bert", "main")), "a later run downloads afresh");
    }

    @Test
    void offlineModeServesTheCacheWithoutAnyRequest() throws IOException {
        server.commit("acme/tiny-bert", "v1", Fixtures.model(1f, 64));
        String main = server.commit("acme/tiny-bert", "main", Fixtures.model(2f, 64));
        client().snapshot("acme/tiny-bert", "main");
        client().snapshot("acme/tiny-bert", "v1");
        int requests = server.seen.size();

        HubClient offline = client("HF_HUB_OFFLINE", "1");
        assertEquals(2f, firstWeight(offline.snapshot("acme/tiny-bert", "main")));
        assertEquals(1f, firstWeight(offline.snapshot("acme/tiny-bert", "v1")));
        assertEquals(2f, firstWeight(offline.snapshot("acme/tiny-bert", main)));
        assertEquals(requests, server.seen.size(), "offline means no network at all");

        HubException e = assertThrows(HubException.class, () -> offline.snapshot("acme/other", "main"));
        assertEquals(HubException.Reason.NOT_CACHED, e.reason());
        assertTrue(
                e.getMessage().contains("acme/other@main is not in the Hugging Face cache")
                        && e.getMessage().contains("HF_HUB_OFFLINE"),
                e.getMessage());
        HubException rev = assertThrows(HubException.class, () -> offline.snapshot("acme/tiny-bert", "v2"));
        assertTrue(rev.getMessage().contains("acme/tiny-bert@v2 is not in the Hugging Face cache"), rev.getMessage());
        assertEquals(requests, server.seen.size());
    }

    @Test
    void pickleOnlyRepoIsRefusedWithTheConversionHint() throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("config.json", Fixtures.utf8(Fixtures.CONFIG));
        files.put("pytorch_model.bin", new byte[] {(byte) 0x80, 2, 'c'});
        server.commit("acme/pickled", "main", files);

        UnsafeCheckpointException e =
                assertThrows(UnsafeCheckpointException.class, () -> client().snapshot("acme/pickled", "main"));

        assertTrue(
                e.getMessage().contains("acme/pickled@main")
                        && e.getMessage().contains("pytorch_model.bin")
                        && e.getMessage().contains("safe_serialization=True"),
                e.getMessage());
        assertTrue(
                server.seen("GET").stream().noneMatch(s -> s.path().endsWith(".bin")),
                "the pickle is never downloaded");
    }

    @Test
    void unreachableEndpointSuggestsOfflineMode() throws IOException {
        int port;
        try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        HubClient hub = client("HF_ENDPOINT", "http://127.0.0.1:" + port);
        HubException e = assertThrows(HubException.class, () -> hub.snapshot("acme/tiny-bert", "main"));
        assertEquals(HubException.Reason.UNREACHABLE, e.reason());
        assertTrue(
                e.getMessage().contains("cannot reach") && e.getMessage().contains("HF_HUB_OFFLINE=1"), e.getMessage());
    }

    @Test
    void etagsAreUnquotedAndWeakMarkersDropped() {
        assertEquals("abc", HubClient.normalizeEtag("W/\"abc\""));
        assertEquals("abc", HubClient.normalizeEtag("\"abc\""));
        assertEquals("abc", HubClient.normalizeEtag("abc"));
    }
}
