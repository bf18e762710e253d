package io.sparkformers.hub;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Turns a model reference ({@link ModelRef}: local folder, Hadoop URI, alias, Hub id) into a local Hugging Face
 * checkpoint folder that {@link HfCheckpoint#open} accepts, fetching or copying it first when needed: Hub ids through
 * {@link HubClient} into the Hub cache, Hadoop URIs through {@link ModelCache}, aliases through the installed
 * {@link ModelAliases} (the built-in models of {@code io.sparkformers.convert}). Also the library side of the
 * {@code models download|inspect|list} commands.
 */
public final class ModelResolver {
    private final HubClient hub;
    private final ModelCache cache;
    private final Map<String, String> hadoopConf;
    private final List<ModelAliases> aliases;

    /**
     * @param env        the {@code HF_*} environment ({@link HubClient})
     * @param hadoopConf Hadoop configuration overrides for URIs (credentials, {@code fs.*.impl}); may be empty
     * @param cache      where Hadoop URIs are copied
     * @param aliases    alias providers, usually {@link ModelAliases#installed()}
     */
    public ModelResolver(
            Map<String, String> env, Map<String, String> hadoopConf, ModelCache cache, List<ModelAliases> aliases) {
        this.hub = new HubClient(env);
        this.hadoopConf = Map.copyOf(hadoopConf);
        this.cache = cache;
        this.aliases = List.copyOf(aliases);
    }

    /** The process environment, the default executor cache and the aliases on the class path. */
    public static ModelResolver defaults() {
        return new ModelResolver(System.getenv(), Map.of(), ModelCache.defaultCache(), ModelAliases.installed());
    }

    public HubClient hub() {
        return hub;
    }

    public ModelCache cache() {
        return cache;
    }

    /** Every alias of every provider. */
    public List<String> aliasNames() {
        return aliases.stream().flatMap(a -> a.names().stream()).toList();
    }

    /** Parses a reference without fetching anything; malformed ones throw with the accepted forms. */
    public ModelRef parse(String ref) {
        return ModelRef.parse(ref, name -> aliases.stream().anyMatch(a -> a.knows(name)), aliasNames());
    }

    /** The local checkpoint folder for {@code ref}, validated by {@link HfCheckpoint#open}. */
    public Path resolve(String ref) throws IOException {
        ModelRef parsed = parse(ref);
        Path dir;
        if (parsed instanceof ModelRef.LocalFolder l) dir = local(l.path());
        else if (parsed instanceof ModelRef.HadoopUri u) dir = cache.copyOf(u.uri(), hadoopConf);
        else if (parsed instanceof ModelRef.Alias a) dir = alias(a.name());
        else dir = hub((ModelRef.HubId) parsed, ref);
        HfCheckpoint.open(dir);
        return dir;
    }

    private static Path local(Path p) throws IOException {
        if (!Files.exists(p)) throw new IOException("model folder " + p.toAbsolutePath() + " does not exist");
        if (!Files.isReadable(p)) {
            throw new IOException("model folder " + p.toAbsolutePath() + " is not readable: check its permissions");
        }
        return p;
    }

    private Path alias(String name) throws IOException {
        for (ModelAliases a : aliases) {
            Optional<Path> dir = a.resolve(name);
            if (dir.isPresent()) return dir.get();
        }
        throw new IllegalStateException("alias '" + name + "' was known when parsed but no provider resolved it");
    }

    private Path hub(ModelRef.HubId h, String ref) throws IOException {
        try {
            return hub.snapshot(h.repoId(), h.revision());
        } catch (HubException e) {
            if (e.reason() == HubException.Reason.REPO_NOT_FOUND && !ref.contains("@")) {
                // "models/bert" may have been meant as a relative folder: say it was not found as one either
                throw new HubException(
                        e.reason(), e.getMessage() + " (there is no local folder '" + ref + "' either)", e);
            }
            throw e;
        }
    }

    /**
     * Resolves {@code ref} (fetching it into its cache) and, when {@code out} is given, copies the checkpoint there
     * with links followed, so the folder stands alone. Returns the folder the model is in.
     */
    public Path download(String ref, Optional<Path> out) throws IOException {
        Path dir = resolve(ref);
        if (out.isEmpty()) return dir;
        Path target = out.get();
        if (Files.exists(target)) {
            try (Stream<Path> s = Files.list(target)) {
                if (s.findAny().isPresent()) {
                    throw new IOException("output folder " + target + " is not empty; choose a new or empty folder");
                }
            }
        }
        Path parent = target.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempDirectory(parent, "." + target.getFileName() + ".tmp");
        try {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path src : walk.filter(Files::isRegularFile).toList()) {
                    Path dst = tmp.resolve(dir.relativize(src).toString());
                    Files.createDirectories(dst.getParent());
                    Files.copy(src, dst); // follows snapshot links: the copy holds the content
                }
            }
            Files.deleteIfExists(target);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            ModelCache.deleteTree(tmp);
        }
        return target;
    }

    /** Resolves {@code ref} and describes it from its config and safetensors headers. */
    public ModelInfo inspect(String ref) throws IOException {
        return ModelInfo.of(resolve(ref));
    }

    /** Aliases on this machine, Hub cache snapshots and executor-cache copies, in that order. */
    public List<CachedModel> listCached() throws IOException {
        List<CachedModel> out = new ArrayList<>();
        for (ModelAliases a : aliases) {
            for (Map.Entry<String, Path> e : a.available().entrySet()) {
                out.add(new CachedModel(
                        CachedModel.Kind.ALIAS, e.getKey(), "built-in alias", e.getValue(), size(e.getValue())));
            }
        }
        out.addAll(hubSnapshots());
        for (ModelCache.Entry e : cache.entries()) {
            out.add(new CachedModel(
                    CachedModel.Kind.EXECUTOR_CACHE,
                    e.source(),
                    "modified " + Instant.ofEpochMilli(e.modificationTime()),
                    e.dir(),
                    size(e.dir())));
        }
        return out;
    }

    private List<CachedModel> hubSnapshots() throws IOException {
        List<CachedModel> out = new ArrayList<>();
        Path root = hub.cacheDir();
        if (!Files.isDirectory(root)) return out;
        List<Path> repos = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root, "models--*")) {
            ds.forEach(repos::add);
        }
        repos.sort(Comparator.naturalOrder());
        for (Path repo : repos) {
            String repoId =
                    repo.getFileName().toString().substring("models--".length()).replace("--", "/");
            Map<String, List<String>> refsByCommit = new TreeMap<>();
            Path refs = repo.resolve("refs");
            if (Files.isDirectory(refs)) {
                try (Stream<Path> walk = Files.walk(refs)) {
                    for (Path r : walk.filter(Files::isRegularFile).sorted().toList()) {
                        refsByCommit
                                .computeIfAbsent(Files.readString(r).strip(), k -> new ArrayList<>())
                                .add(refs.relativize(r).toString().replace('\\', '/'));
                    }
                }
            }
            Path snapshots = repo.resolve("snapshots");
            if (!Files.isDirectory(snapshots)) continue;
            try (Stream<Path> list = Files.list(snapshots)) {
                for (Path snap : list.filter(Files::isDirectory).sorted().toList()) {
                    String commit = snap.getFileName().toString();
                    List<String> names = refsByCommit.getOrDefault(commit, List.of());
                    out.add(new CachedModel(
                            CachedModel.Kind.HUB,
                            repoId,
                            "commit " + commit + (names.isEmpty() ? "" : " (" + String.join(", ", names) + ")"),
                            snap,
                            size(snap)));
                }
            }
        }
        return out;
    }

    private static long size(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return 0;
        try (Stream<Path> walk = Files.walk(dir)) {
            long total = 0;
            for (Path p : walk.filter(Files::isRegularFile).toList()) total += Files.size(p);
            return total;
        }
    }
}
