package io.sparkformers.nn.vision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.safetensors.SafetensorsFile;
import io.sparkformers.safetensors.Tensor;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The torchvision reference folders under {@code src/test/resources/vision} (written by
 * {@code src/test/python/make_vision_references.py}): config.json, model.safetensors, reference.safetensors.
 */
public final class VisionReferences {

    private VisionReferences() {}

    public static Path dir(String name) {
        try {
            return Path.of(VisionReferences.class
                            .getResource("/vision/" + name + "/config.json")
                            .toURI())
                    .getParent();
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException(
                    "reference folder vision/" + name + " is missing from the test resources; "
                            + "regenerate with lib/src/test/python/make_vision_references.py",
                    e);
        }
    }

    public static ObjectNode config(String name) throws IOException {
        return Json.readObject(dir(name).resolve("config.json"));
    }

    public static Map<String, Tensor> weights(String name) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(dir(name).resolve("model.safetensors"))) {
            return copy(f.readAll());
        }
    }

    public static Map<String, Tensor> outputs(String name) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(dir(name).resolve("reference.safetensors"))) {
            return copy(f.readAll());
        }
    }

    /** Heap copies, so nothing refers to the mapped file after it is closed. */
    private static Map<String, Tensor> copy(Map<String, Tensor> in) {
        Map<String, Tensor> out = new java.util.LinkedHashMap<>();
        in.forEach((k, t) -> {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(t.data().remaining());
            b.put(t.data()).flip();
            out.put(k, new Tensor(t.dtype(), t.shape(), b));
        });
        return out;
    }

    public static NDArray array(NDManager m, Tensor t) {
        return m.create(t.toFloatArray(), new Shape(t.shape()));
    }

    /** max |a - b| over all elements. */
    public static double maxAbsDiff(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getFloat();
    }
}
