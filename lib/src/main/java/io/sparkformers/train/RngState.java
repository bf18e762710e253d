package io.sparkformers.train;

import com.fasterxml.jackson.core.type.TypeReference;
import io.sparkformers.hub.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code rng_state.json}: what a resume needs to replay randomness exactly, in our own format. HF saves the raw
 * generator states of Python, NumPy and torch ({@code rng_state.pth}); Java's generators are not torch's, so we
 * save seeds and counters instead and every random stream is re-derived from them: the shuffle of epoch e is
 * seeded from (data seed, e), dropout from (seed, counter). Format tag {@value #FORMAT}.
 *
 * @param seed        HF {@code seed}
 * @param dataSeed    the data-order seed (HF {@code data_seed}, else seed)
 * @param epoch       the epoch in progress (0-based)
 * @param stepInEpoch batches of that epoch already consumed
 * @param counters    named draw counters (e.g. "dropout"), so a stream resumes where it stopped
 */
public record RngState(long seed, long dataSeed, long epoch, long stepInEpoch, Map<String, Long> counters) {

    public static final String FORMAT = "sparkformers-rng-v1";

    public RngState {
        counters = Map.copyOf(counters);
    }

    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("seed", seed);
        m.put("data_seed", dataSeed);
        m.put("epoch", epoch);
        m.put("step_in_epoch", stepInEpoch);
        m.put("counters", new TreeMap<>(counters));
        try {
            return Json.MAPPER.writeValueAsString(m) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static RngState fromJson(String json) {
        Map<String, Object> m;
        try {
            m = Json.MAPPER.readValue(json, new TypeReference<LinkedHashMap<String, Object>>() {});
        } catch (IOException e) {
            throw new IllegalArgumentException("rng_state.json is not valid JSON: " + e.getMessage(), e);
        }
        if (!FORMAT.equals(m.get("format"))) {
            throw new IllegalArgumentException("rng_state.json has format " + m.get("format") + ", expected " + FORMAT
                    + " (HF's rng_state.pth cannot be replayed in Java)");
        }
        Map<String, Long> counters = new LinkedHashMap<>();
        if (m.get("counters") instanceof Map<?, ?> c)
            c.forEach((k, v) -> counters.put((String) k, ((Number) v).longValue()));
        return new RngState(
                ((Number) m.get("seed")).longValue(),
                ((Number) m.get("data_seed")).longValue(),
                ((Number) m.get("epoch")).longValue(),
                ((Number) m.get("step_in_epoch")).longValue(),
                counters);
    }

    public void save(Path file) throws IOException {
        Files.writeString(file, toJson());
    }

    public static RngState load(Path file) throws IOException {
        return fromJson(Files.readString(file));
    }
}
