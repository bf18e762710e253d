package io.sparkformers.jobs.config;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reads the YAML job configs (finetune, predict) as ordered mappings; the library itself knows only JSON. */
public final class YamlMappings {
    private static final YAMLMapper YAML = new YAMLMapper();

    private YamlMappings() {}

    /** The mapping in {@code text}, keys in file order; an empty document is an empty mapping. */
    public static Map<String, Object> read(String text) throws IOException {
        Map<String, Object> m = YAML.readValue(text, new TypeReference<LinkedHashMap<String, Object>>() {});
        return m == null ? Map.of() : m;
    }
}
