package io.sparkformers.jobs.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The suite's encoder-inference table prints every timing the {@code bench inference} report holds, BF16 included,
 * and "—" where a figure was not measured (no ONNX export, no native BF16: NaN, which the report file holds as the
 * string "NaN").
 */
class BenchSuiteMarkdownTest {

    @Test
    void theInferenceTableHasTheBf16ColumnsAndDashesWhatWasNotMeasured() throws Exception {
        ObjectNode inference = Json.MAPPER.createObjectNode().put("threads", 2).put("iterations", 5);
        inference
                .putArray("rows")
                .add(new InferenceGrid.Row("all-MiniLM-L6-v2", 8, 128, 2.0, 10.0, 12.5, 4.0, 400).toJson())
                .add(new InferenceGrid.Row("bert-base-uncased", 1, 32, 1.0, 20.0, Double.NaN, Double.NaN, 400)
                        .toJson());
        ObjectNode suite = Json.MAPPER.createObjectNode();
        suite.set("machine", Json.MAPPER.createObjectNode());
        suite.set("inference", inference);
        // as the suite reads a child's report: written to JSON text and parsed back
        JsonNode report = Json.MAPPER.readTree(Json.MAPPER.writeValueAsString(suite));

        List<String> table = BenchSuite.markdown(report)
                .lines()
                .filter(l -> l.startsWith("| model |") || l.contains(" × "))
                .toList();
        assertEquals(
                "| model | batch × seq | ours ms | ours tokens/s | ONNX Runtime ms | ours / ORT speed | ours BF16 ms "
                        + "| BF16 / ORT speed | ours GFLOP/s | GEMM peak GFLOP/s | of peak |",
                table.get(0));
        // 2 GFLOP in 10 ms = 200 GFLOP/s, half of the 400 GFLOP/s GEMM; ORT 12.5 ms: 1.25x; BF16 4 ms: 3.13x ORT
        assertEquals(
                "| all-MiniLM-L6-v2 | 8 × 128 | 10.0 | 102,400 | 12.5 | **1.25×** | 4.0 | **3.13×** | 200 | 400 | 50% |",
                table.get(1));
        assertEquals("| bert-base-uncased | 1 × 32 | 20.0 | 1,600 | — | — | — | — | 50 | 400 | 13% |", table.get(2));
        assertTrue(report.path("inference").path("rows").get(1).path("bf16Ms").isTextual(), "NaN travels as text");
    }
}
