package io.sparkformers.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.util.List;
import org.junit.jupiter.api.Test;

class CollectiveOptionsTest {
    /** TEST-NET-1 (RFC 5737): never one of this host's addresses. */
    private static final byte[] ELSEWHERE = {(byte) 192, 0, 2, 1};

    @Test
    void aNeighbourOnThisHostGetsTheSmallSameHostBuffers() throws Exception {
        CollectiveOptions small =
                CollectiveOptions.defaults().withSocketBufferBytes(CollectiveOptions.SAME_HOST_SOCKET_BUFFER_BYTES);
        InetAddress loopback = InetAddress.getLoopbackAddress();
        assertTrue(CollectiveOptions.isThisHost(loopback));
        for (var option : List.of(StandardSocketOptions.SO_SNDBUF, StandardSocketOptions.SO_RCVBUF)) {
            assertEquals(
                    bufferAfter(small, null, option),
                    bufferAfter(CollectiveOptions.defaults(), loopback, option),
                    option.name());
        }
    }

    @Test
    void aNeighbourElsewhereKeepsTheOsAutotuning() throws Exception {
        InetAddress elsewhere = InetAddress.getByAddress(ELSEWHERE);
        assertFalse(CollectiveOptions.isThisHost(elsewhere));
        for (var option : List.of(StandardSocketOptions.SO_SNDBUF, StandardSocketOptions.SO_RCVBUF)) {
            int untouched;
            try (SocketChannel ch = SocketChannel.open()) {
                untouched = ch.getOption(option);
            }
            assertEquals(untouched, bufferAfter(CollectiveOptions.defaults(), elsewhere, option), option.name());
        }
    }

    @Test
    void osSocketBuffersLeaveASameHostConnectionAlone() throws Exception {
        CollectiveOptions os = CollectiveOptions.defaults().withSocketBufferBytes(CollectiveOptions.OS_SOCKET_BUFFERS);
        for (var option : List.of(StandardSocketOptions.SO_SNDBUF, StandardSocketOptions.SO_RCVBUF)) {
            int untouched;
            try (SocketChannel ch = SocketChannel.open()) {
                untouched = ch.getOption(option);
            }
            assertEquals(untouched, bufferAfter(os, InetAddress.getLoopbackAddress(), option), option.name());
        }
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> CollectiveOptions.defaults().withSocketBufferBytes(-2));
        assertTrue(e.getMessage().contains("socketBufferBytes must be >= -1"), e.getMessage());
    }

    @Test
    void aFixedBufferSizeWinsOverTheSameHostDefault() throws Exception {
        CollectiveOptions fixed = CollectiveOptions.defaults().withSocketBufferBytes(64 << 10);
        CollectiveOptions small =
                CollectiveOptions.defaults().withSocketBufferBytes(CollectiveOptions.SAME_HOST_SOCKET_BUFFER_BYTES);
        var sndbuf = StandardSocketOptions.SO_SNDBUF;
        int fixedOnly = bufferAfter(fixed, null, sndbuf);
        assertEquals(fixedOnly, bufferAfter(fixed, InetAddress.getLoopbackAddress(), sndbuf));
        assertTrue(fixedOnly < bufferAfter(small, null, sndbuf), "64 KiB must give less than 256 KiB");
    }

    /** {@code option} of a fresh channel after {@code configure(ch, peer)}, or {@code configure(ch)} for a null peer. */
    private static int bufferAfter(CollectiveOptions o, InetAddress peer, SocketOption<Integer> option)
            throws Exception {
        try (SocketChannel ch = SocketChannel.open()) {
            if (peer == null) o.configure(ch);
            else o.configure(ch, peer);
            return ch.getOption(option);
        }
    }
}
