package io.sparkformers.hub;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * A provider of model aliases (short names such as {@code all-MiniLM-L6-v2}) for {@link ModelResolver}, found with
 * {@link ServiceLoader}. The hook exists because the built-in aliases live in {@code io.sparkformers.convert}, which
 * depends on {@code hub}: the resolver cannot name that package without a dependency cycle, so {@code convert}
 * registers itself here ({@code META-INF/services/io.sparkformers.hub.ModelAliases}).
 */
public interface ModelAliases {

    /** Every alias this provider knows, in display order. */
    List<String> names();

    /** The alias's checkpoint folder, fetched or imported first if needed; empty when {@code name} is not ours. */
    Optional<Path> resolve(String name) throws IOException;

    /** The aliases already on this machine and their folders (for listing; never fetches). */
    Map<String, Path> available();

    /** True when {@code name} is one of {@link #names()}, compared case-insensitively. */
    default boolean knows(String name) {
        return names().stream().anyMatch(n -> n.equalsIgnoreCase(name));
    }

    /** The providers on the class path. */
    static List<ModelAliases> installed() {
        List<ModelAliases> all = new ArrayList<>();
        ServiceLoader.load(ModelAliases.class, ModelAliases.class.getClassLoader())
                .forEach(all::add);
        return List.copyOf(all);
    }
}
