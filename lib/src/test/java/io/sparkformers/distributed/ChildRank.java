package io.sparkformers.distributed;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/**
 * One rank in its own JVM, driven over stdin/stdout like a Spark barrier task: prints {@code ADDRESS host:port},
 * reads {@code <rank> <base64 secret> <host:port,...> <mode>}, joins, then in mode {@code sum} all-reduces
 * {@link #SIZE} floats (rank r holds r + 1 + i % 7) and prints {@code RESULT <sha256 of the bytes>}; in mode
 * {@code hang} it waits (to be killed) and in mode {@code reduce-after-kill} it waits for a line then all-reduces.
 * Failures print {@code ERROR <message>} and exit 3.
 */
public final class ChildRank {
    static final int SIZE = 100_003;

    public static void main(String[] args) throws Exception {
        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        CollectiveOptions options = CollectiveOptions.defaults()
                .withTimeouts(java.time.Duration.ofSeconds(20), java.time.Duration.ofSeconds(20));
        try (Collective.Listener listener = Collective.listen(Rings.LOOPBACK, options)) {
            System.out.println("ADDRESS " + Link.hostPort(listener.address()));
            System.out.flush();
            String[] cmd = stdin.readLine().split(" ");
            int rank = Integer.parseInt(cmd[0]);
            byte[] secret = Base64.getDecoder().decode(cmd[1]);
            List<InetSocketAddress> peers = new ArrayList<>();
            for (String hp : cmd[2].split(",")) {
                int colon = hp.lastIndexOf(':');
                peers.add(new InetSocketAddress(hp.substring(0, colon), Integer.parseInt(hp.substring(colon + 1))));
            }
            try (Collective c = listener.join(rank, peers.size(), peers, secret)) {
                System.out.println("JOINED");
                System.out.flush();
                if (cmd[3].equals("hang")) {
                    stdin.readLine();
                    return;
                }
                if (cmd[3].equals("reduce-after-kill")) {
                    stdin.readLine();
                }
                ByteBuffer buf = ByteBuffer.allocateDirect(4 * SIZE).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < SIZE; i++) {
                    buf.putFloat(4 * i, rank + 1 + i % 7);
                }
                c.allReduce(buf);
                byte[] bytes = new byte[4 * SIZE];
                buf.get(0, bytes);
                System.out.println("RESULT "
                        + HexFormat.of()
                                .formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)));
            }
        } catch (CollectiveException e) {
            System.out.println("ERROR " + e.getMessage());
            System.exit(3);
        }
    }
}
