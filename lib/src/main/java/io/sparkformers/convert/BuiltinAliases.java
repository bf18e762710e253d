package io.sparkformers.convert;

import io.sparkformers.hub.ModelAliases;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Registers {@link BuiltinModels} with {@link io.sparkformers.hub.ModelResolver} (a {@link java.util.ServiceLoader} provider). */
public final class BuiltinAliases implements ModelAliases {

    @Override
    public List<String> names() {
        return List.copyOf(BuiltinModels.ALL.keySet());
    }

    @Override
    public Optional<Path> resolve(String name) throws IOException {
        Optional<BuiltinModels.Builtin> b = BuiltinModels.find(name);
        return b.isPresent() ? Optional.of(BuiltinModels.resolve(b.get())) : Optional.empty();
    }

    @Override
    public Map<String, Path> available() {
        Map<String, Path> out = new LinkedHashMap<>();
        for (BuiltinModels.Builtin b : BuiltinModels.ALL.values()) {
            if (BuiltinModels.isImported(b)) out.put(b.alias(), BuiltinModels.folder(b));
        }
        return out;
    }
}
