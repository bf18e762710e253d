package io.sparkformers.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback stand-in for the Hugging Face Hub's file protocol, serving repositories the test writes:
 * {@code HEAD|GET /{org}/{name}/resolve/{revision}/{file}} answers with {@code X-Repo-Commit} and an {@code ETag}
 * (weak, the git blob sha1, for regular files); LFS files ({@code *.safetensors}, {@code *.bin}) answer 302 to a
 * second server (the "CDN", another origin) with {@code X-Linked-Etag} (their sha256) and {@code X-Linked-Size}.
 * The CDN honours {@code Range: bytes=N-} with 206. 404s carry {@code X-Error-Code} as the Hub's do; a repo with a
 * token answers 401 to requests without it or with another one. Faults on demand: drop the connection after N bytes
 * once, or serve bytes whose sha256 is not the ETag.
 */
final class FakeHub implements AutoCloseable {

    /** One request as a server saw it. */
    record Seen(String server, String method, String path, String range, String authorization) {}

    private static final class Repo {
        final Map<String, String> refs = new ConcurrentHashMap<>();
        final Map<String, Map<String, byte[]>> commits = new ConcurrentHashMap<>();
        volatile String token;
    }

    private final HttpServer hub;
    private final HttpServer cdn;
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Map<String, byte[]> lfs = new ConcurrentHashMap<>();
    final List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
    /** When > 0, the next CDN GET sends this many bytes, then drops the connection. */
    final AtomicInteger dropNextGetAfter = new AtomicInteger(-1);
    /** When true, the CDN serves every LFS file with one byte flipped. */
    volatile boolean corrupt;

    FakeHub() throws IOException {
        InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        hub = HttpServer.create(loopback, 0);
        cdn = HttpServer.create(loopback, 0);
        hub.createContext("/", this::serveHub);
        cdn.createContext("/", this::serveCdn);
        hub.start();
        cdn.start();
    }

    String endpoint() {
        return "http://127.0.0.1:" + hub.getAddress().getPort();
    }

    /** Adds a commit of {@code files} to {@code repoId} and points {@code revision} at it; returns the commit sha. */
    String commit(String repoId, String revision, Map<String, byte[]> files) {
        Repo repo = repos.computeIfAbsent(repoId, k -> new Repo());
        StringBuilder tree = new StringBuilder(repoId);
        files.forEach(
                (name, bytes) -> tree.append('\n').append(name).append(' ').append(sha256(bytes)));
        String commit = hex("SHA-1", tree.toString().getBytes(StandardCharsets.UTF_8));
        repo.commits.put(commit, new LinkedHashMap<>(files));
        repo.refs.put(revision, commit);
        files.forEach((name, bytes) -> {
            if (isLfs(name)) lfs.put(sha256(bytes), bytes);
        });
        return commit;
    }

    void requireToken(String repoId, String token) {
        repos.get(repoId).token = token;
    }

    List<Seen> seen(String method) {
        synchronized (seen) {
            return seen.stream().filter(s -> s.method().equals(method)).toList();
        }
    }

    static boolean isLfs(String file) {
        return file.endsWith(".safetensors") || file.endsWith(".bin");
    }

    static String sha256(byte[] bytes) {
        return hex("SHA-256", bytes);
    }

    /** The id git gives a blob, which the Hub sends as the ETag of regular files. */
    static String gitBlobSha1(byte[] bytes) {
        byte[] head = ("blob " + bytes.length + "\0").getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[head.length + bytes.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(bytes, 0, all, head.length, bytes.length);
        return hex("SHA-1", all);
    }

    private static String hex(String algorithm, byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void record(String server, HttpExchange ex) {
        seen.add(new Seen(
                server,
                ex.getRequestMethod(),
                ex.getRequestURI().getRawPath(),
                ex.getRequestHeaders().getFirst("Range"),
                ex.getRequestHeaders().getFirst("Authorization")));
    }

    private void serveHub(HttpExchange ex) throws IOException {
        try (ex) {
            record("hub", ex);
            String[] p = ex.getRequestURI().getRawPath().substring(1).split("/", 5);
            if (p.length < 5 || !p[2].equals("resolve")) {
                reply(ex, 404, null);
                return;
            }
            Repo repo = repos.get(p[0] + "/" + p[1]);
            if (repo == null) {
                reply(ex, 404, "RepoNotFound");
                return;
            }
            if (repo.token != null
                    && !("Bearer " + repo.token).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                reply(ex, 401, null);
                return;
            }
            String revision = URLDecoder.decode(p[3], StandardCharsets.UTF_8);
            String commit = repo.commits.containsKey(revision) ? revision : repo.refs.get(revision);
            if (commit == null) {
                reply(ex, 404, "RevisionNotFound");
                return;
            }
            String file = URLDecoder.decode(p[4], StandardCharsets.UTF_8);
            byte[] bytes = repo.commits.get(commit).get(file);
            if (bytes == null) {
                reply(ex, 404, "EntryNotFound");
                return;
            }
            var h = ex.getResponseHeaders();
            h.set("X-Repo-Commit", commit);
            if (isLfs(file)) {
                String sha = sha256(bytes);
                h.set(
                        "ETag",
                        "\"" + gitBlobSha1(("lfs pointer, oid sha256:" + sha).getBytes(StandardCharsets.UTF_8)) + "\"");
                h.set("X-Linked-Etag", "\"" + sha + "\"");
                h.set("X-Linked-Size", Long.toString(bytes.length));
                h.set("Location", "http://127.0.0.1:" + cdn.getAddress().getPort() + "/cdn/" + sha);
                ex.sendResponseHeaders(302, -1);
                return;
            }
            h.set("ETag", "W/\"" + gitBlobSha1(bytes) + "\"");
            sendBody(ex, 200, bytes, 0, bytes.length, -1);
        }
    }

    private void serveCdn(HttpExchange ex) throws IOException {
        try (ex) {
            record("cdn", ex);
            String path = ex.getRequestURI().getRawPath();
            byte[] bytes = path.startsWith("/cdn/") ? lfs.get(path.substring(5)) : null;
            if (bytes == null) {
                reply(ex, 404, null);
                return;
            }
            if (corrupt) {
                bytes = bytes.clone();
                bytes[bytes.length / 2] ^= 0x5a;
            }
            int from = 0;
            String range = ex.getRequestHeaders().getFirst("Range");
            if (range != null && range.matches("bytes=\\d+-")) {
                from = Integer.parseInt(range.substring(6, range.length() - 1));
                if (from >= bytes.length) {
                    reply(ex, 416, null);
                    return;
                }
                ex.getResponseHeaders()
                        .set("Content-Range", "bytes " + from + "-" + (bytes.length - 1) + "/" + bytes.length);
            }
            int drop = ex.getRequestMethod().equals("GET") ? dropNextGetAfter.getAndSet(-1) : -1;
            sendBody(ex, range == null ? 200 : 206, bytes, from, bytes.length - from, drop);
        }
    }

    /** Sends {@code length} bytes from {@code from}; with {@code dropAfter} > 0 only that many, then drops the connection. */
    private static void sendBody(HttpExchange ex, int code, byte[] bytes, int from, int length, int dropAfter)
            throws IOException {
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.getResponseHeaders().set("Content-Length", Integer.toString(length));
            ex.sendResponseHeaders(code, -1);
            return;
        }
        ex.sendResponseHeaders(code, length);
        OutputStream out = ex.getResponseBody();
        if (dropAfter > 0 && dropAfter < length) {
            out.write(bytes, from, dropAfter);
            out.flush();
            // An exception out of a handler makes the server close the connection: the client sees it drop.
            throw new IOException("fault injected: connection dropped after " + dropAfter + " bytes");
        }
        out.write(bytes, from, length);
    }

    private static void reply(HttpExchange ex, int code, String errorCode) throws IOException {
        if (errorCode != null) ex.getResponseHeaders().set("X-Error-Code", errorCode);
        ex.sendResponseHeaders(code, -1);
    }

    @Override
    public void close() {
        hub.stop(0);
        cdn.stop(0);
    }
}
