package io.sparkformers.jobs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.hub.SparkformersHome;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A PyTorch peer of a benchmark: one of the scripts under {@code resources/.../bench/peers} run in the reference
 * Python (made by {@code bin/reference-python}), spoken to in JSON lines. The benchmark sends a request line
 * ({@link #request}) and reads the peer's one-line JSON answer, so its rounds interleave with ours in one run.
 * The peer's stderr goes to ours.
 */
public final class PythonPeer implements AutoCloseable {

    /** Environment variable naming the reference interpreter; otherwise {@code <home>/reference-python}. */
    public static final String ENV = "SPARKFORMERS_REFERENCE_PYTHON";

    private final Process process;
    private final BufferedWriter in;
    private final BufferedReader out;
    private final Path script;

    private PythonPeer(Process process, Path script) {
        this.process = process;
        this.script = script;
        this.in = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    /**
     * The reference interpreter: {@code $SPARKFORMERS_REFERENCE_PYTHON}, else the venv {@code bin/reference-python}
     * made under the Sparkformers home (complete only once its stamp file exists).
     */
    public static Optional<Path> referencePython() {
        String env = System.getenv(ENV);
        if (env != null && !env.isBlank()) return Optional.of(Path.of(env));
        Path venv = SparkformersHome.get().resolve("reference-python");
        Path py = venv.resolve("bin").resolve("python");
        return Files.exists(venv.resolve(".sparkformers-reference-ok")) && Files.isExecutable(py)
                ? Optional.of(py)
                : Optional.empty();
    }

    /** The one line a benchmark prints (stderr) when it skips its peers for want of the reference Python. */
    public static String skipLine(String peers) {
        return "peers skipped (" + peers + "): no reference Python; make it with bin/reference-python (a venv under "
                + SparkformersHome.get().resolve("reference-python") + ") or set " + ENV + "=/path/to/python";
    }

    /** Starts {@code python <script> args…}, the script taken from this package's {@code peers/} resources. */
    public static PythonPeer start(Path python, String scriptName, List<String> args) throws IOException {
        Path script = Files.createTempFile("sparkformers-peer-", "-" + scriptName);
        try (InputStream s = PythonPeer.class.getResourceAsStream("peers/" + scriptName)) {
            if (s == null) throw new IOException("peer script peers/" + scriptName + " is not on the classpath");
            Files.copy(s, script, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        List<String> cmd = new ArrayList<>(List.of(python.toString(), "-u", script.toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        return new PythonPeer(pb.start(), script);
    }

    /** Sends one JSON request line and returns the peer's JSON answer; an answer with "error" fails. */
    public JsonNode request(ObjectNode request) throws IOException {
        in.write(request.toString()); // one line: the shared mapper indents
        in.newLine();
        in.flush();
        return answer();
    }

    /** Reads the peer's next JSON line (skipping anything that is not JSON, such as a library's notice). */
    public JsonNode answer() throws IOException {
        String line;
        while ((line = out.readLine()) != null) {
            if (!line.startsWith("{")) continue;
            JsonNode n = Json.MAPPER.readTree(line);
            if (n.has("error"))
                throw new IOException("PyTorch peer " + script.getFileName() + ": "
                        + n.get("error").asText());
            return n;
        }
        throw new IOException("PyTorch peer " + script.getFileName() + " ended early (exit status " + waitExit()
                + "); its stderr is above");
    }

    private int waitExit() {
        try {
            return process.waitFor(10, TimeUnit.SECONDS) ? process.exitValue() : -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Closes the peer's stdin (its cue to exit), waits briefly, then ends it. */
    @Override
    public void close() throws IOException {
        try {
            in.close();
        } catch (IOException ignored) {
            // the peer has gone already
        }
        if (waitExit() == -1) process.destroyForcibly();
        Files.deleteIfExists(script);
    }
}
