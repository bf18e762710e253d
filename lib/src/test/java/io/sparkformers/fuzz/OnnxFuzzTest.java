package io.sparkformers.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sparkformers.convert.OnnxBertImporter;
import io.sparkformers.convert.OnnxModel;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;

/** Fuzzes the ONNX reader (protobuf wire format) and the BERT importer that reads the graph it returns. */
class OnnxFuzzTest {

    private static final String SOURCE = "fuzz.onnx";

    @FuzzTest(maxDuration = "60s")
    void onnxModel(byte[] bytes) throws Exception {
        Outcomes.onlyClearErrors(SOURCE, List.of(IllegalArgumentException.class, UncheckedIOException.class), () -> {
            OnnxModel model = OnnxModel.read(ByteBuffer.wrap(bytes), SOURCE);
            OnnxBertImporter.importModel(model, FuzzSeeds.tokenizerJson(), Optional.empty());
        });
    }
}
