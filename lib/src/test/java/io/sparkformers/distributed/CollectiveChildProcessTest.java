package io.sparkformers.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Two ranks in two child JVMs, rendezvous through the parent as Spark's allGather would do it. */
class CollectiveChildProcessTest {

    private record Child(Process process, BufferedReader out, PrintWriter in, String address) {
        String expect(String prefix) throws Exception {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith(prefix) || line.startsWith("ERROR")) {
                    return line;
                }
            }
            return "EOF";
        }
    }

    private static Child start() throws Exception {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        Process p = new ProcessBuilder(
                        java, "-Xmx128m", "-cp", System.getProperty("java.class.path"), ChildRank.class.getName())
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        PrintWriter in = new PrintWriter(p.getOutputStream(), true, StandardCharsets.UTF_8);
        Child c = new Child(p, out, in, null);
        String line = c.expect("ADDRESS ");
        assertTrue(line.startsWith("ADDRESS "), line);
        return new Child(p, out, in, line.substring("ADDRESS ".length()));
    }

    private static List<Child> startAndJoin(String... modes) throws Exception {
        List<Child> children = new ArrayList<>();
        for (int r = 0; r < modes.length; r++) {
            children.add(start());
        }
        String secret = Base64.getEncoder().encodeToString(Secrets.newJobSecret());
        String peers = String.join(",", children.stream().map(Child::address).toList());
        for (int r = 0; r < modes.length; r++) {
            children.get(r).in().println(r + " " + secret + " " + peers + " " + modes[r]);
        }
        for (Child c : children) {
            assertEquals("JOINED", c.expect("JOINED"));
        }
        return children;
    }

    @Test
    void twoRanksInSeparateJvmsComputeTheSameExactSum() throws Exception {
        List<Child> children = startAndJoin("sum", "sum");
        try {
            ByteBuffer expected = ByteBuffer.allocate(4 * ChildRank.SIZE).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < ChildRank.SIZE; i++) {
                expected.putFloat(4 * i, 3 + 2 * (i % 7));
            }
            String hash = "RESULT "
                    + HexFormat.of()
                            .formatHex(MessageDigest.getInstance("SHA-256").digest(expected.array()));
            for (Child c : children) {
                assertEquals(hash, c.expect("RESULT"));
                assertTrue(c.process().waitFor(20, TimeUnit.SECONDS));
                assertEquals(0, c.process().exitValue());
            }
        } finally {
            children.forEach(c -> c.process().destroyForcibly());
        }
    }

    @Test
    void killingOneRankJvmFailsTheOtherPromptlyNamingTheKilledRank() throws Exception {
        List<Child> children = startAndJoin("hang", "reduce-after-kill");
        try {
            children.get(0).process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            long start = System.nanoTime();
            children.get(1).in().println("go");
            String line = children.get(1).expect("RESULT");
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(
                    line.startsWith("ERROR rank 1 (")
                            && line.contains("rank 0 (" + children.get(0).address() + ")"),
                    line);
            assertTrue(seconds < 10, "took " + seconds + " s (op timeout 20 s)");
            assertTrue(children.get(1).process().waitFor(10, TimeUnit.SECONDS));
            assertEquals(3, children.get(1).process().exitValue());
        } finally {
            children.forEach(c -> c.process().destroyForcibly());
        }
    }
}
