package io.sparkformers.hub;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Parses an untrusted {@code tokenizer.json} once in a short-lived child JVM before {@link TextTokenizer} loads it
 * in-process. The HF tokenizers library (Rust) panics on some well-formed JSON whose fields violate its own
 * {@code expect}s (fuzzing found a decoder option, an undefined template token, and an {@code Option::expect} in a
 * model section), and a Rust panic cannot cross JNI: it aborts the whole JVM — a driver, or an executor that Spark
 * would restart only to abort again. No Java-side validation can cover every panic, so the child builds the
 * tokenizer with the same options and runs a probe (single and pair encodes, truncation with overflow, a word list,
 * a decode); an abnormal exit becomes one {@link IllegalArgumentException} naming the file and the fix.
 *
 * <p>Cost: a child JVM (about a second) once per distinct file per machine. A file that passed is remembered by the
 * SHA-256 of its bytes, the load options and the tokenizers library version — in this JVM and as an empty marker
 * file under {@code <Sparkformers home>/checked/tokenizer-json/} — so later loads, other JVMs on the machine and
 * every later run skip the child.
 *
 * <p>Executors run the check too (decision): they load the files the driver shipped, which the driver has checked
 * only if it loaded them itself (a pipeline can reach the executors without the driver ever building the
 * tokenizer), and on another machine the driver's marker is not there. The price is one child per distinct file per
 * executor machine; the gain is that a bad file fails the task with this message instead of aborting the executor
 * JVM on every retry.
 *
 * <p>Opt-out for files you trust (e.g. when child processes are not allowed): {@code -Dsparkformers.tokenizerCheck=false}
 * or {@code SPARKFORMERS_TOKENIZER_CHECK=false}.
 */
public final class TokenizerJsonCheck {
    private static final Logger LOG = LoggerFactory.getLogger(TokenizerJsonCheck.class);

    /** System property that turns the check off ({@code false}); the environment variable is {@link #ENV}. */
    public static final String PROPERTY = "sparkformers.tokenizerCheck";

    public static final String ENV = "SPARKFORMERS_TOKENIZER_CHECK";

    /**
     * Longest a child may take (JVM start, native library load, parse, probe) before the file is refused: about a
     * second on a quiet machine, but a minute was seen on a 2-core box at load 27 with its disk busy (class loading
     * stalled on file look-ups), so the bound only catches a hang.
     */
    static final long TIMEOUT_SECONDS = 300;

    /** Forgets what passed in this JVM (tests). */
    static void forgetInProcess() {
        PASSED.clear();
    }

    /** Keys of files that passed in this JVM (see {@link #key}). */
    private static final Set<String> PASSED = ConcurrentHashMap.newKeySet();

    /** Child JVMs started by this JVM (tests check that a checked file costs no second child). */
    static final java.util.concurrent.atomic.AtomicInteger CHILDREN = new java.util.concurrent.atomic.AtomicInteger();

    /** Properties the child inherits: DJL's cache and offline settings, temp folder, our own. */
    private static final List<String> INHERITED_PREFIXES =
            List.of("ai.djl.", "DJL_", "ENGINE_CACHE_DIR", "java.io.tmpdir", "sparkformers.", "user.home");

    private TokenizerJsonCheck() {}

    /** Whether the check runs: on unless the property or the environment variable says {@code false}/{@code 0}. */
    public static boolean enabled() {
        String v = System.getProperty(PROPERTY);
        if (v == null || v.isBlank()) v = System.getenv(ENV);
        return v == null || !(v.trim().equalsIgnoreCase("false") || v.trim().equals("0"));
    }

    /**
     * Returns when the tokenizers library can build and run a tokenizer from {@code bytes} (the content of
     * {@code file}) with {@code options} without aborting the process; throws naming the file otherwise.
     */
    static void requireSafe(Path file, byte[] bytes, Map<String, String> options) throws IOException {
        if (!enabled()) return;
        String key = key(bytes, options);
        if (PASSED.contains(key)) return;
        Path marker = SparkformersHome.get()
                .resolve("checked")
                .resolve("tokenizer-json")
                .resolve(key);
        if (Files.isRegularFile(marker)) {
            PASSED.add(key);
            return;
        }
        runChild(file, bytes, options);
        PASSED.add(key);
        try {
            Files.createDirectories(marker.getParent());
            Files.write(marker, new byte[0]);
        } catch (IOException e) { // a read-only home: the check runs again in the next JVM, nothing else changes
            LOG.warn("cannot remember the checked tokenizer {} in {}: {}", file, marker, e.toString());
        }
    }

    /** SHA-256 of the bytes, the options (sorted) and the tokenizers library's jar, as hex. */
    static String key(byte[] bytes, Map<String, String> options) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(bytes);
            String extra = "\n" + new TreeMap<>(options) + "\n" + codeSource(HuggingFaceTokenizer.class);
            sha.update(extra.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    private static void runChild(Path file, byte[] bytes, Map<String, String> options) throws IOException {
        CHILDREN.incrementAndGet();
        Path dir = Files.createTempDirectory("sparkformers-tokenizer-check");
        try {
            Path copy = dir.resolve("tokenizer.json"); // the bytes checked are the bytes loaded, not the file again
            Files.write(copy, bytes);
            Path log = dir.resolve("child.log");
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            // heap for the file read once plus the JSON the binding builds; the tokenizer itself lives in native memory
            cmd.add("-Xmx" + (64 + 4 * (bytes.length >> 20)) + "m");
            cmd.addAll(List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-CreateCoredumpOnCrash"));
            cmd.add("-XX:ErrorFile=" + dir.resolve("hs_err.log"));
            for (String name : System.getProperties().stringPropertyNames()) {
                if (INHERITED_PREFIXES.stream().anyMatch(name::startsWith)) {
                    cmd.add("-D" + name + "=" + System.getProperty(name));
                }
            }
            cmd.add("-cp");
            cmd.add(classPath());
            cmd.add(TokenizerJsonCheck.class.getName());
            cmd.add(copy.toString());
            options.forEach((k, v) -> cmd.add(k + "=" + v));
            Process p;
            try {
                p = new ProcessBuilder(cmd)
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile())
                        .start();
            } catch (IOException e) {
                throw new IllegalStateException(
                        "cannot check " + file + " in a child JVM (" + e.getMessage()
                                + "); fix the child's environment or, for a file you trust, set -D" + PROPERTY
                                + "=false",
                        e);
            }
            boolean done;
            try {
                done = p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while checking " + file + " in a child JVM", e);
            }
            if (!done) {
                p.destroyForcibly();
                throw refused(file, "did not finish in " + TIMEOUT_SECONDS + " s", log);
            }
            if (p.exitValue() != 0) {
                if (!startedProbe(log) || p.exitValue() == JAVA_ERROR) throw couldNotCheck(file, p.exitValue(), log);
                throw refused(file, "exited with status " + p.exitValue(), log);
            }
        } finally {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.toList()) Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        }
    }

    private static IllegalArgumentException refused(Path file, String how, Path log) throws IOException {
        return new IllegalArgumentException(file + " makes the HF tokenizers native library fail (a check in a child "
                + "JVM " + how + panicLine(log) + "); loaded in this process it would abort the JVM: the file is "
                + "corrupt, hand-edited or made for another tokenizers version; save it again with a fast tokenizer's "
                + "save_pretrained (for a file you trust, -D" + PROPERTY + "=false skips this check)");
    }

    /** The child's exit status when a Java {@link Error} stopped it (not a native abort). */
    private static final int JAVA_ERROR = 3;

    /** The line the child prints before it hands the file to the native library. */
    private static final String STARTED = "sparkformers tokenizer check: parsing";

    private static boolean startedProbe(Path log) throws IOException {
        return Files.isRegularFile(log)
                && Files.readAllLines(log, StandardCharsets.ISO_8859_1).stream().anyMatch(l -> l.startsWith(STARTED));
    }

    /**
     * The child failed before it reached the native library (no java binary, a class path it cannot use, too
     * little memory): that says nothing about the file, so the message gives the child's first line and the opt-out.
     */
    private static IllegalStateException couldNotCheck(Path file, int status, Path log) throws IOException {
        List<String> lines =
                Files.isRegularFile(log) ? Files.readAllLines(log, StandardCharsets.ISO_8859_1) : List.of();
        String first = lines.stream()
                .filter(l -> !l.isBlank() && !l.startsWith(STARTED))
                .findFirst()
                .orElse("no output")
                .trim();
        return new IllegalStateException("cannot check " + file + " in a child JVM (it exited with status " + status
                + ": " + (first.length() > 300 ? first.substring(0, 300) + "…" : first)
                + "); fix the child's environment or, for a file you trust, set -D" + PROPERTY + "=false");
    }

    /** The Rust panic's location and message from the child's output, when there is one. */
    private static String panicLine(Path log) throws IOException {
        if (!Files.isRegularFile(log)) return "";
        List<String> lines = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains("panicked at")) {
                String msg = i + 1 < lines.size() ? " " + lines.get(i + 1).trim() : "";
                String s = (lines.get(i).trim() + msg);
                return ": " + (s.length() > 300 ? s.substring(0, 300) + "…" : s);
            }
        }
        return "";
    }

    /**
     * The child's class path: the jars (or folders) of the classes it needs — this class, DJL's tokenizers binding and
     * API, Gson, SLF4J's API — not this JVM's whole class path (a Spark class path has hundreds of jars, and a child
     * looking classes up through them took a minute on a busy disk). Under spark-submit the application jar is
     * loaded by a child class loader and is not on {@code java.class.path} at all; its code source is what counts.
     * Only when a code source cannot be told does this JVM's class path follow as a fallback.
     */
    private static String classPath() {
        Set<String> entries = new LinkedHashSet<>();
        boolean complete = true;
        for (String name : List.of(
                TokenizerJsonCheck.class.getName(),
                HuggingFaceTokenizer.class.getName(),
                ai.djl.util.Utils.class.getName(),
                "com.google.gson.Gson", // DJL's, not ours: named, not imported
                Logger.class.getName())) {
            String s;
            try {
                s = codeSource(Class.forName(name, false, TokenizerJsonCheck.class.getClassLoader()));
            } catch (ClassNotFoundException e) {
                s = "";
            }
            if (s.isEmpty()) complete = false;
            else entries.add(s);
        }
        String own = System.getProperty("java.class.path");
        if (!complete && own != null && !own.isBlank()) entries.add(own);
        return String.join(java.io.File.pathSeparator, entries);
    }

    private static String codeSource(Class<?> c) {
        try {
            var src = c.getProtectionDomain().getCodeSource();
            return src == null ? "" : Path.of(src.getLocation().toURI()).toString();
        } catch (Exception e) { // not a file URL: the class path of this JVM has to do
            return "";
        }
    }

    /**
     * The child: {@code TokenizerJsonCheck FILE [KEY=VALUE...]} builds the tokenizer with those options and runs the
     * probe. A Java exception is not the child's business (the same exception, naming the file, comes from the load
     * in the parent): exit 0. Only a native abort (or a JVM error) makes the exit status non-zero.
     */
    public static void main(String[] args) throws IOException {
        byte[] bytes = Files.readAllBytes(Path.of(args[0]));
        Map<String, String> options = new TreeMap<>();
        for (int i = 1; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            options.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        System.out.println(STARTED + " " + args[0]);
        System.out.flush();
        try (InputStream in = new ByteArrayInputStream(bytes);
                HuggingFaceTokenizer t = HuggingFaceTokenizer.newInstance(in, options)) {
            probe(t);
        } catch (RuntimeException e) {
            System.out.println("refused by the library (not a native abort): " + e);
        } catch (Error e) { // e.g. the native library not loadable, or this tiny heap too small: no verdict on the file
            System.out.println("the check could not run: " + e);
            System.exit(JAVA_ERROR);
        }
        System.exit(0);
    }

    /** Exercises what {@link TextTokenizer} calls: single, pair, truncated with overflow, words, decode. */
    private static void probe(HuggingFaceTokenizer t) {
        String longText = "Hello, world! unaffable 12 ß 漢字 🙂 ".repeat(200);
        List<Encoding> all = new ArrayList<>();
        all.add(t.encode("Hello, world!"));
        all.add(t.encode("unaffable", "a second segment"));
        all.add(t.encode(longText));
        all.add(t.encode(longText, longText));
        all.add(t.encode(new String[] {"Hello", ",", "world"}));
        all.add(t.encode("[MASK] [PAD] <s> </s> <unk>", false, false));
        for (Encoding e : all) {
            t.decode(e.getIds(), true);
            t.decode(e.getIds(), false);
            e.getCharTokenSpans();
            Encoding[] overflow = e.getOverflowing();
            if (overflow != null) for (Encoding o : overflow) o.getIds();
        }
    }
}
