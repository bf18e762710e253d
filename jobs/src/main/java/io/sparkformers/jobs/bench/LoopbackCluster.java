package io.sparkformers.jobs.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Spark Standalone cluster on loopback for one benchmark: {@code bin/spark-cluster} with a run directory of its own
 * (so a cluster the user already runs is left alone) and a free port, stopped on {@link #close}.
 */
final class LoopbackCluster implements AutoCloseable {
    private static final long START_TIMEOUT_SECONDS = 180;

    private final Path script;
    private final Path runDir;
    private final String master;

    private LoopbackCluster(Path script, Path runDir, String master) {
        this.script = script;
        this.runDir = runDir;
        this.master = master;
    }

    /** Starts a master and {@code workers} workers of {@code cores} cores each; fails with the script's output. */
    static LoopbackCluster start(Path root, int workers, int cores, String memory)
            throws IOException, InterruptedException {
        Path script = root.resolve("bin").resolve("spark-cluster");
        Path runDir = Files.createTempDirectory("sparkformers-bench-cluster");
        int port = freePort();
        LoopbackCluster cluster = new LoopbackCluster(script, runDir, "spark://127.0.0.1:" + port);
        String out = cluster.call(
                "start",
                "--workers",
                Integer.toString(workers),
                "--cores",
                Integer.toString(cores),
                "--memory",
                memory,
                "--port",
                Integer.toString(port));
        if (!out.contains(cluster.master)) {
            cluster.close();
            throw new IOException("bin/spark-cluster did not start a cluster at " + cluster.master + " (logs in "
                    + runDir + "): " + out.strip());
        }
        return cluster;
    }

    /** The master URL, spark://127.0.0.1:port. */
    String master() {
        return master;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        call("stop");
    }

    private String call(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(script.toString()));
        cmd.addAll(List.of(args));
        Path log = runDir.resolve("spark-cluster-" + args[0] + ".out");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SPARKFORMERS_CLUSTER_DIR", runDir.toString());
        Process p = pb.start(); // the script exits once its JVMs are up
        if (!p.waitFor(START_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("bin/spark-cluster " + args[0] + " did not finish within " + START_TIMEOUT_SECONDS
                    + " s (output in " + log + ")");
        }
        return Files.readString(log, StandardCharsets.UTF_8);
    }

    /** A port nothing listens on now, on the loopback address (for a peer's rendezvous or a cluster master). */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
