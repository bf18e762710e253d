package io.sparkformers.hub;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A client for the Hugging Face Hub's file protocol, as {@code huggingface_hub.hf_hub_download} speaks it:
 * {@code HEAD {endpoint}/{repo}/resolve/{revision}/{file}} without following redirects gives the commit
 * ({@code X-Repo-Commit}), the blob id ({@code X-Linked-Etag} for LFS files, else {@code ETag}) and the size
 * ({@code X-Linked-Size}, else {@code Content-Length}); then {@code GET} follows redirects to the CDN, sending
 * {@code Authorization} only to the endpoint's own origin. Files land in the Hub's cache layout, shared with Python:
 * <pre>
 * {cache}/models--{org}--{name}/blobs/{etag}                      content, named by its ETag
 *                               snapshots/{commit}/{file}          relative symlink to ../../blobs/{etag} (or a copy)
 *                               refs/{revision}                    the commit sha the revision pointed to
 * {cache}/.locks/models--{org}--{name}/{etag}.lock               per-blob lock (the same file Python locks)
 * </pre>
 * Downloads go to {@code blobs/{etag}.incomplete}, resume with {@code Range: bytes=N-}, and are verified (size, and
 * sha256 when the ETag is one, as it is for LFS files) before the rename to {@code blobs/{etag}}; snapshot links are
 * made only once every file of the model is verified, so a failed download leaves nothing in {@code snapshots/}.
 * Environment (read from the map given, by default the process environment): {@code HF_ENDPOINT},
 * {@code HF_TOKEN} (else the token file {@code huggingface-cli login} writes), {@code HF_HUB_OFFLINE},
 * {@code HF_HOME} / {@code HF_HUB_CACHE}.
 */
public final class HubClient {
    private static final System.Logger LOG = System.getLogger(HubClient.class.getName());

    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";
    public static final String DEFAULT_REVISION = "main";

    /** Files fetched when the repo has them; their 404s are fine. The sentence-transformers pooling config follows modules.json. */
    static final List<String> OPTIONAL_FILES = List.of(
            HfCheckpoint.TOKENIZER,
            HfCheckpoint.TOKENIZER_CONFIG,
            "special_tokens_map.json",
            "vocab.txt",
            "modules.json");

    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final int MAX_ATTEMPTS = 5;
    private static final int MAX_REDIRECTS = 10;

    private final URI endpoint;
    private final Optional<String> token;
    private final boolean offline;
    private final Path cacheDir;
    private final HttpClient http;
    private final Duration etagTimeout;
    private final Duration downloadTimeout;

    /** A client configured from {@code env} (the {@code HF_*} variables); tests pass their own map. */
    public HubClient(Map<String, String> env) {
        String ep = nonBlank(env.get("HF_ENDPOINT")).orElse(DEFAULT_ENDPOINT);
        this.endpoint = URI.create(ep.endsWith("/") ? ep.substring(0, ep.length() - 1) : ep);
        Path home = nonBlank(env.get("HF_HOME"))
                .map(Path::of)
                .orElseGet(() -> nonBlank(env.get("XDG_CACHE_HOME"))
                        .map(x -> Path.of(x, "huggingface"))
                        .orElseGet(() -> Path.of(System.getProperty("user.home"), ".cache", "huggingface")));
        this.cacheDir = nonBlank(env.get("HF_HUB_CACHE")).map(Path::of).orElse(home.resolve("hub"));
        this.token = nonBlank(env.get("HF_TOKEN"))
                .or(() -> readTokenFile(
                        nonBlank(env.get("HF_TOKEN_PATH")).map(Path::of).orElse(home.resolve("token"))));
        this.offline = nonBlank(env.get("HF_HUB_OFFLINE"))
                .map(v -> List.of("1", "on", "yes", "true").contains(v.toLowerCase(Locale.ROOT)))
                .orElse(false);
        // huggingface_hub's names and defaults: seconds to wait for HEAD answers, and for each chunk of a download
        this.etagTimeout = seconds(env, "HF_HUB_ETAG_TIMEOUT", 10);
        this.downloadTimeout = seconds(env, "HF_HUB_DOWNLOAD_TIMEOUT", 10);
        this.http = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(30))
                .build();
    }

    /** A client configured from the process environment. */
    public static HubClient fromEnvironment() {
        return new HubClient(System.getenv());
    }

    public URI endpoint() {
        return endpoint;
    }

    /** The Hub cache folder ({@code $HF_HUB_CACHE}, else {@code $HF_HOME/hub}). */
    public Path cacheDir() {
        return cacheDir;
    }

    public boolean offline() {
        return offline;
    }

    /** The cache folder of one repo: {@code models--org--name}. */
    public Path repoDir(String repoId) {
        return cacheDir.resolve("models--" + repoId.replace("/", "--"));
    }

    /**
     * The snapshot folder of {@code repoId} at {@code revision}, downloading the files a model needs first: config,
     * weights (single file, or the index and every shard it lists), tokenizer files and the sentence-transformers
     * pooling config when the repo has them. Offline, the cached snapshot or an error saying it is not cached.
     */
    public Path snapshot(String repoId, String revision) throws IOException {
        if (offline) {
            return cachedSnapshot(repoId, revision)
                    .orElseThrow(() -> new HubException(
                            HubException.Reason.NOT_CACHED,
                            repoId + "@" + revision + " is not in the Hugging Face cache " + cacheDir
                                    + " and HF_HUB_OFFLINE is "
                                    + "set, so nothing is downloaded: fetch it once with HF_HUB_OFFLINE unset (or point HF_HOME "
                                    + "at a cache that has it)"));
        }
        Map<String, FileMeta> files = new LinkedHashMap<>();
        FileMeta config = head(repoId, revision, HfCheckpoint.CONFIG)
                .orElseThrow(
                        () -> new HubException(
                                HubException.Reason.ENTRY_NOT_FOUND,
                                repoId + "@" + revision + " has no config.json: it is not a "
                                        + "transformers checkpoint (Sparkformers needs config.json, model.safetensors and tokenizer.json)"));
        String commit = config.commit();
        files.put(HfCheckpoint.CONFIG, config);
        // Every later request names the commit, so a branch that moves mid-download cannot mix two versions.
        Optional<FileMeta> single = head(repoId, commit, HfCheckpoint.WEIGHTS);
        if (single.isPresent()) {
            files.put(HfCheckpoint.WEIGHTS, single.get());
        } else {
            FileMeta index = head(repoId, commit, HfCheckpoint.WEIGHTS_INDEX)
                    .orElseThrow(() -> noSafetensors(repoId, revision, commit));
            files.put(HfCheckpoint.WEIGHTS_INDEX, index);
            Path indexBlob = fetchBlob(repoId, commit, HfCheckpoint.WEIGHTS_INDEX, index);
            for (String shard : shardNames(indexBlob, repoId, revision)) {
                files.put(
                        shard,
                        head(repoId, commit, shard)
                                .orElseThrow(() -> new HubException(
                                        HubException.Reason.ENTRY_NOT_FOUND,
                                        repoId + "@" + revision + ": " + HfCheckpoint.WEIGHTS_INDEX + " lists " + shard
                                                + " but the repo has no such file (incomplete upload?)")));
            }
        }
        for (String optional : OPTIONAL_FILES) head(repoId, commit, optional).ifPresent(m -> files.put(optional, m));
        if (files.containsKey("modules.json")) {
            Path modules = fetchBlob(repoId, commit, "modules.json", files.get("modules.json"));
            for (String extra : poolingConfigs(modules))
                head(repoId, commit, extra).ifPresent(m -> files.put(extra, m));
        }
        for (Map.Entry<String, FileMeta> f : files.entrySet()) fetchBlob(repoId, commit, f.getKey(), f.getValue());

        Path snapshot = repoDir(repoId).resolve("snapshots").resolve(commit);
        for (Map.Entry<String, FileMeta> f : files.entrySet()) {
            link(snapshot.resolve(f.getKey()), blobPath(repoId, f.getValue()));
        }
        if (!revision.equals(commit)) writeRef(repoId, revision, commit);
        return snapshot;
    }

    /** The cached snapshot for {@code revision} (a ref name or a commit sha) if it holds a config.json. */
    public Optional<Path> cachedSnapshot(String repoId, String revision) throws IOException {
        Path repo = repoDir(repoId);
        String commit = revision;
        if (!COMMIT.matcher(revision).matches()) {
            Path ref = repo.resolve("refs").resolve(revision);
            if (!Files.isRegularFile(ref)) return Optional.empty();
            commit = Files.readString(ref).strip();
        }
        Path snapshot = repo.resolve("snapshots").resolve(commit);
        return Files.isRegularFile(snapshot.resolve(HfCheckpoint.CONFIG)) ? Optional.of(snapshot) : Optional.empty();
    }

    /** What a HEAD request says about one file. */
    record FileMeta(String commit, String etag, long size) {}

    private IOException noSafetensors(String repoId, String revision, String commit) {
        try {
            if (head(repoId, commit, "pytorch_model.bin").isPresent()) {
                return new UnsafeCheckpointException(repoId + "@" + revision + " ("
                        + resolveUrl(repoId, revision, "pytorch_model.bin") + ", no model.safetensors in the repo)");
            }
        } catch (IOException e) {
            return e;
        }
        return new HubException(
                HubException.Reason.ENTRY_NOT_FOUND,
                repoId + "@" + revision + " has neither " + HfCheckpoint.WEIGHTS + " nor " + HfCheckpoint.WEIGHTS_INDEX
                        + ": Sparkformers loads safetensors weights only");
    }

    private static List<String> shardNames(Path index, String repoId, String revision) throws IOException {
        JsonNode map = Json.readObject(index).path("weight_map");
        if (!map.isObject() || map.isEmpty()) {
            throw new HubException(
                    HubException.Reason.PROTOCOL,
                    repoId + "@" + revision + ": " + HfCheckpoint.WEIGHTS_INDEX + " has no \"weight_map\"");
        }
        TreeSet<String> shards = new TreeSet<>();
        map.forEach(v -> shards.add(v.asText()));
        for (String s : shards) checkRelative(s, repoId, revision);
        return List.copyOf(shards);
    }

    private static List<String> poolingConfigs(Path modulesJson) throws IOException {
        List<String> out = new ArrayList<>();
        for (JsonNode m : Json.MAPPER.readTree(modulesJson.toFile())) {
            String path = m.path("path").asText("");
            if (m.path("type").asText().endsWith(".Pooling") && !path.isEmpty()) out.add(path + "/config.json");
        }
        return out;
    }

    /** A file name from the server becomes a path under the snapshot: refuse any that would escape it. */
    private static void checkRelative(String name, String repoId, String revision) throws HubException {
        if (name.isEmpty()
                || name.startsWith("/")
                || name.contains("\\")
                || Stream.of(name.split("/")).anyMatch(s -> s.isEmpty() || s.equals("..") || s.equals("."))) {
            throw new HubException(
                    HubException.Reason.PROTOCOL,
                    repoId + "@" + revision + " names a file '" + name + "' outside its folder; refusing it");
        }
    }

    // ---------------------------------------------------------------- HEAD

    /** HEAD of one file: its metadata, or empty when the file (not the repo or revision) does not exist. */
    Optional<FileMeta> head(String repoId, String revision, String file) throws IOException {
        URI uri = resolveUrl(repoId, revision, file);
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpResponse<Void> r = send(
                    request(uri, etagTimeout)
                            .method("HEAD", HttpRequest.BodyPublishers.noBody())
                            .build(),
                    HttpResponse.BodyHandlers.discarding(),
                    repoId,
                    uri);
            int code = r.statusCode();
            HttpHeaders h = r.headers();
            boolean redirect = code >= 300 && code < 400;
            if (redirect && h.firstValue("x-linked-etag").isEmpty()) {
                // A redirect on the endpoint itself (a renamed repo) is followed; one to another host is the CDN,
                // whose headers describe the CDN's object, not the repo file: read this response's headers instead.
                URI next = uri.resolve(h.firstValue("location").orElse(""));
                if (sameOrigin(next, endpoint) && !next.equals(uri)) {
                    uri = next;
                    continue;
                }
            }
            if (code == 200 || redirect) return Optional.of(meta(h, repoId, revision, file, uri));
            if (code == 404 && isEntryNotFound(h)) return Optional.empty();
            throw httpError(code, h, repoId, revision, file, uri);
        }
        throw new HubException(HubException.Reason.PROTOCOL, "more than " + MAX_REDIRECTS + " redirects for " + uri);
    }

    private static boolean isEntryNotFound(HttpHeaders h) {
        String code = h.firstValue("x-error-code").orElse("");
        return code.equals("EntryNotFound") || code.isEmpty();
    }

    private static FileMeta meta(HttpHeaders h, String repoId, String revision, String file, URI uri)
            throws HubException {
        String commit = h.firstValue("x-repo-commit")
                .orElseThrow(
                        () -> new HubException(
                                HubException.Reason.PROTOCOL,
                                uri
                                        + " answered without X-Repo-Commit: is HF_ENDPOINT a Hugging Face Hub (or a mirror of one)?"));
        String etag = h.firstValue("x-linked-etag")
                .or(() -> h.firstValue("etag"))
                .map(HubClient::normalizeEtag)
                .orElseThrow(() -> new HubException(
                        HubException.Reason.PROTOCOL,
                        uri + " answered without an ETag, "
                                + "which names the file's blob in the cache: is HF_ENDPOINT a Hugging Face Hub?"));
        long size = h.firstValueAsLong("x-linked-size")
                .orElse(h.firstValueAsLong("content-length").orElse(-1));
        if (!COMMIT.matcher(commit).matches() || etag.isEmpty() || etag.contains("/") || etag.contains("..")) {
            throw new HubException(
                    HubException.Reason.PROTOCOL,
                    uri + " answered a malformed X-Repo-Commit '" + commit + "' or ETag '" + etag + "' for " + file
                            + " of " + repoId + "@" + revision);
        }
        return new FileMeta(commit, etag, size);
    }

    /** {@code W/"abc"} and {@code "abc"} are both the blob id {@code abc}. */
    static String normalizeEtag(String etag) {
        String e = etag.strip();
        if (e.startsWith("W/")) e = e.substring(2);
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) e = e.substring(1, e.length() - 1);
        return e;
    }

    // ---------------------------------------------------------------- GET into blobs/

    private Path blobPath(String repoId, FileMeta meta) {
        return repoDir(repoId).resolve("blobs").resolve(meta.etag());
    }

    /** The blob of one file, downloaded and verified unless already cached (blobs are named by content). */
    private Path fetchBlob(String repoId, String commit, String file, FileMeta meta) throws IOException {
        checkRelative(file, repoId, commit);
        Path blob = blobPath(repoId, meta);
        if (Files.isRegularFile(blob)) return blob;
        Path lock = cacheDir.resolve(".locks")
                .resolve(repoDir(repoId).getFileName())
                .resolve(meta.etag() + ".lock");
        return HostLock.holding(lock, () -> {
            if (Files.isRegularFile(blob)) return blob; // another thread or JVM fetched it while we waited
            Files.createDirectories(blob.getParent());
            Path partial = blob.resolveSibling(meta.etag() + ".incomplete");
            URI url = resolveUrl(repoId, commit, file);
            IOException last = null;
            for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
                try {
                    getInto(url, partial, repoId, commit, file);
                    last = null;
                } catch (HubException e) {
                    throw e;
                } catch (IOException e) {
                    last = e; // a dropped connection: the next attempt resumes from what arrived
                    continue;
                }
                long got = Files.size(partial);
                if (meta.size() < 0 || got >= meta.size()) break;
            }
            if (last != null) {
                throw new HubException(
                        HubException.Reason.UNREACHABLE,
                        "download of " + url + " failed " + MAX_ATTEMPTS
                                + " times (" + last.getMessage() + "); the part received is kept in " + partial
                                + " and the next run resumes it",
                        last);
            }
            verify(partial, meta, repoId, commit, file, url);
            Files.move(partial, blob, StandardCopyOption.ATOMIC_MOVE);
            return blob;
        });
    }

    /** One GET, resuming {@code partial} with a Range request when it has bytes already. */
    private void getInto(URI url, Path partial, String repoId, String revision, String file) throws IOException {
        long have = Files.exists(partial) ? Files.size(partial) : 0;
        URI uri = url;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest.Builder b = request(uri, downloadTimeout).GET();
            if (have > 0) b.header("Range", "bytes=" + have + "-");
            HttpResponse<Flow.Publisher<List<ByteBuffer>>> r =
                    send(b.build(), HttpResponse.BodyHandlers.ofPublisher(), repoId, uri);
            BodyReader body = new BodyReader();
            r.body().subscribe(body);
            int code = r.statusCode();
            if (code >= 300 && code < 400 && r.headers().firstValue("location").isPresent()) {
                body.cancel();
                uri = uri.resolve(r.headers().firstValue("location").get());
                continue;
            }
            boolean append;
            if (code == 206
                    && r.headers().firstValue("content-range").orElse("").startsWith("bytes " + have + "-")) {
                append = true;
            } else if (code == 200) {
                append = false; // the server ignored the Range header: start over
            } else if (code == 416 || code == 206) {
                body.cancel();
                Files.deleteIfExists(partial); // the part on disk does not fit the file: start over
                have = 0;
                continue;
            } else {
                body.cancel();
                throw httpError(code, r.headers(), repoId, revision, file, uri);
            }
            try (OutputStream out = Files.newOutputStream(
                    partial,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE,
                    append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
                body.copyTo(out, downloadTimeout, uri);
            }
            return;
        }
        throw new HubException(HubException.Reason.PROTOCOL, "more than " + MAX_REDIRECTS + " redirects for " + url);
    }

    /**
     * A response body read with a limit on silence: {@link HttpClient} has none once the headers are in, so a stalled
     * connection would hang the download (and the Spark task) forever. One buffer list is requested at a time.
     */
    private static final class BodyReader implements Flow.Subscriber<List<ByteBuffer>> {
        private static final Object DONE = new Object();
        private final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
        private final CompletableFuture<Flow.Subscription> subscription = new CompletableFuture<>();

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription.complete(s);
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> item) {
            queue.add(item);
        }

        @Override
        public void onError(Throwable t) {
            queue.add(t);
        }

        @Override
        public void onComplete() {
            queue.add(DONE);
        }

        void cancel() {
            subscription.thenAccept(Flow.Subscription::cancel);
        }

        @SuppressWarnings("unchecked")
        void copyTo(OutputStream out, Duration silence, URI uri) throws IOException {
            while (true) {
                Object next;
                try {
                    next = queue.poll(silence.toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    cancel();
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted while downloading " + uri);
                }
                if (next == null) {
                    cancel();
                    throw new IOException(
                            "no data from " + uri + " for " + silence.toSeconds() + " s (HF_HUB_DOWNLOAD_TIMEOUT)");
                }
                if (next == DONE) return;
                if (next instanceof Throwable t) throw t instanceof IOException io ? io : new IOException(t);
                for (ByteBuffer b : (List<ByteBuffer>) next) {
                    byte[] chunk = new byte[b.remaining()];
                    b.get(chunk);
                    out.write(chunk);
                }
                subscription.join().request(1);
            }
        }
    }

    private static void verify(Path partial, FileMeta meta, String repoId, String revision, String file, URI url)
            throws IOException {
        long size = Files.size(partial);
        String problem = null;
        if (meta.size() >= 0 && size != meta.size()) {
            problem = size + " bytes arrived, the server announced " + meta.size();
        } else if (SHA256.matcher(meta.etag()).matches()) {
            String actual = sha256(partial);
            if (!actual.equals(meta.etag())) problem = "sha256 " + actual + " differs from the ETag " + meta.etag();
        }
        if (problem != null) {
            Files.deleteIfExists(partial);
            throw new HubException(
                    HubException.Reason.CORRUPTED,
                    "corrupted download of " + file + " from " + repoId
                            + "@" + revision + " (" + url + "): " + problem
                            + "; the partial file was deleted, run again to "
                            + "download it afresh");
        }
    }

    static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    // ---------------------------------------------------------------- snapshot links and refs

    /** {@code snapshots/{commit}/{file}} → {@code ../../blobs/{etag}}, replaced atomically; a copy where links fail. */
    private static void link(Path target, Path blob) throws IOException {
        Files.createDirectories(target.getParent());
        Path tmp = target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            Files.createSymbolicLink(tmp, target.getParent().relativize(blob));
        } catch (UnsupportedOperationException | FileSystemException e) {
            Files.copy(blob, tmp, StandardCopyOption.REPLACE_EXISTING); // e.g. Windows without symlink rights
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private void writeRef(String repoId, String revision, String commit) throws IOException {
        Path ref = repoDir(repoId).resolve("refs").resolve(revision);
        Files.createDirectories(ref.getParent());
        Path tmp = ref.resolveSibling("." + ref.getFileName() + "." + UUID.randomUUID() + ".tmp");
        Files.writeString(tmp, commit); // no newline: huggingface_hub writes the bare sha
        Files.move(tmp, ref, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    // ---------------------------------------------------------------- HTTP

    URI resolveUrl(String repoId, String revision, String file) {
        StringBuilder path = new StringBuilder();
        for (String seg : file.split("/")) path.append('/').append(encode(seg));
        return URI.create(endpoint + "/" + repoId + "/resolve/" + encode(revision) + path);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private HttpRequest.Builder request(URI uri, Duration timeout) {
        LOG.log(System.Logger.Level.INFO, "Hub request: {0}", uri);
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(timeout).header("User-Agent", "sparkformers");
        // The token goes to the Hub only: never to the CDN a file redirects to (its URL is pre-signed).
        if (token.isPresent() && sameOrigin(uri, endpoint)) b.header("Authorization", "Bearer " + token.get());
        return b;
    }

    private <T> HttpResponse<T> send(HttpRequest req, HttpResponse.BodyHandler<T> handler, String repoId, URI uri)
            throws IOException {
        try {
            return http.send(req, handler);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while requesting " + uri);
        } catch (java.net.ConnectException | java.net.http.HttpConnectTimeoutException e) {
            throw new HubException(
                    HubException.Reason.UNREACHABLE,
                    "cannot reach " + uri + " for " + repoId + " (" + e
                            + "): check HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to use the local cache " + cacheDir,
                    e);
        }
    }

    static boolean sameOrigin(URI a, URI b) {
        return a.getScheme() != null
                && a.getScheme().equalsIgnoreCase(b.getScheme())
                && a.getHost() != null
                && a.getHost().equalsIgnoreCase(b.getHost())
                && port(a) == port(b);
    }

    private static int port(URI u) {
        if (u.getPort() >= 0) return u.getPort();
        return "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    private HubException httpError(int code, HttpHeaders h, String repoId, String revision, String file, URI uri) {
        String errorCode = h.firstValue("x-error-code").orElse("");
        String at = " (HTTP " + code + " from " + uri + ")";
        String noToken = "set HF_TOKEN to a token with read access";
        return switch (errorCode) {
            case "RepoNotFound" ->
                new HubException(
                        HubException.Reason.REPO_NOT_FOUND,
                        "repository " + repoId
                                + " not found on " + endpoint + at + ": check the name"
                                + (token.isEmpty()
                                        ? "; if it is private or gated, " + noToken
                                        : ", and that HF_TOKEN has access to it"));
            case "RevisionNotFound" ->
                new HubException(
                        HubException.Reason.REVISION_NOT_FOUND,
                        "revision '" + revision + "' not found in " + repoId + at
                                + ": name an existing branch, tag or commit after '@'");
            case "EntryNotFound" ->
                new HubException(
                        HubException.Reason.ENTRY_NOT_FOUND,
                        "file " + file + " not found in " + repoId + "@" + revision + at);
            case "GatedRepo" ->
                new HubException(
                        HubException.Reason.FORBIDDEN,
                        repoId + " is gated" + at + ": "
                                + (token.isEmpty() ? noToken + " of an account that " : "the account of HF_TOKEN must ")
                                + "accept its conditions on the model page");
            default ->
                switch (code) {
                    case 401 ->
                        token.isEmpty()
                                ? new HubException(
                                        HubException.Reason.UNAUTHORIZED,
                                        repoId + " requires authentication" + at + ": " + noToken)
                                : new HubException(
                                        HubException.Reason.UNAUTHORIZED,
                                        "HF_TOKEN was refused for " + repoId + at
                                                + ": the token is invalid, expired or lacks access to this repo");
                    case 403 ->
                        token.isEmpty()
                                ? new HubException(
                                        HubException.Reason.FORBIDDEN,
                                        "access to " + repoId + " denied" + at + ": " + noToken)
                                : new HubException(
                                        HubException.Reason.FORBIDDEN,
                                        "HF_TOKEN lacks access to " + repoId + at
                                                + ": use a token whose account can read it");
                    case 404 ->
                        new HubException(
                                HubException.Reason.REPO_NOT_FOUND,
                                "not found: " + file + " of " + repoId + "@" + revision + at
                                        + "; check the repo id, the revision and HF_ENDPOINT");
                    default ->
                        new HubException(
                                HubException.Reason.PROTOCOL,
                                "unexpected answer for " + file + " of " + repoId + "@" + revision + at);
                };
        };
    }

    private static Duration seconds(Map<String, String> env, String name, int dflt) {
        String v = nonBlank(env.get(name)).orElse(Integer.toString(dflt));
        try {
            return Duration.ofMillis(Math.round(Double.parseDouble(v) * 1000));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a number of seconds, got '" + v + "'", e);
        }
    }

    private static Optional<String> nonBlank(String s) {
        return s == null || s.isBlank() ? Optional.empty() : Optional.of(s.strip());
    }

    private static Optional<String> readTokenFile(Path file) {
        try {
            return Files.isRegularFile(file) ? nonBlank(Files.readString(file)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty(); // an unreadable token file is the same as none: requests go anonymous
        }
    }
}
