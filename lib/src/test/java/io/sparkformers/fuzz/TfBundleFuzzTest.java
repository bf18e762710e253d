package io.sparkformers.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sparkformers.convert.TfTensorBundle;
import io.sparkformers.safetensors.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Fuzzes the TF tensor bundle index (an SSTable of BundleEntryProtos) over one fixed data shard; every entry that
 * parses is read, so offsets, sizes, shapes and checksums are all exercised.
 */
class TfBundleFuzzTest {

    private static final String SOURCE = "fuzz.index";

    @FuzzTest(maxDuration = "60s")
    void bundleIndex(byte[] bytes) throws Exception {
        Path data = Outcomes.write("", "variables.data-00000-of-00001", FuzzSeeds.bundleData());
        List<TfTensorBundle.DataShard> shards = List.of(new TfTensorBundle.DataShard(data, 0, Files.size(data)));
        Outcomes.onlyClearErrors(
                SOURCE,
                List.of(
                        IllegalArgumentException.class,
                        IllegalStateException.class,
                        IOException.class,
                        UncheckedIOException.class),
                () -> {
                    try (TfTensorBundle bundle = TfTensorBundle.open(ByteBuffer.wrap(bytes), shards, SOURCE)) {
                        for (String name : bundle.entries().keySet()) {
                            Tensor t = bundle.tensor(name);
                            if (t.dtype().isFloatingPoint()) t.toFloatArray();
                            else t.toLongArray();
                        }
                    }
                });
    }
}
