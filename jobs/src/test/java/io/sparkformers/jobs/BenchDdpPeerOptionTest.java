package io.sparkformers.jobs;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class BenchDdpPeerOptionTest {

    @Test
    void trainingDistributedRunsTheDdpPeerByDefaultAndNoDdpPeerSkipsIt() {
        BenchCommand byDefault = new BenchCommand();
        new CommandLine(byDefault).parseArgs("training-distributed");
        assertTrue(byDefault.ddpPeer, "the DDP peer runs unless --no-ddp-peer");

        BenchCommand skipped = new BenchCommand();
        new CommandLine(skipped).parseArgs("training-distributed", "--no-ddp-peer");
        assertFalse(skipped.ddpPeer, "--no-ddp-peer skips the DDP peer");

        BenchCommand explicit = new BenchCommand();
        new CommandLine(explicit).parseArgs("training-distributed", "--ddp-peer");
        assertTrue(explicit.ddpPeer, "--ddp-peer (the former opt-in) still parses");
    }
}
