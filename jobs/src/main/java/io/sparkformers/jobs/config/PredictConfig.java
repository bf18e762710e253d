package io.sparkformers.jobs.config;

import io.sparkformers.hub.DidYouMean;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * The YAML job config of {@code predict --config FILE [--set key=value …]}: each key is a predict option's long name in
 * snake_case ({@code --max-tokens-per-batch} is {@code max_tokens_per_batch}); {@code --set} wins over the file and a
 * flag given on the command line wins over both. Unknown keys fail with a did-you-mean.
 */
public final class PredictConfig {
    /** Options that are not job keys. */
    private static final Set<String> NOT_KEYS =
            Set.of("--config", "--set", "--help", "--version", "--verbose", "--json");

    private PredictConfig() {}

    /** Sets every option the command line left out from the file and the {@code --set} overrides. */
    public static void apply(CommandSpec spec, Path file, Map<String, String> overrides) {
        Map<String, Object> values = new LinkedHashMap<>(file == null ? Map.of() : read(file));
        values.putAll(overrides);
        ParseResult parsed = spec.commandLine().getParseResult();
        String where = file == null ? "--set" : file.toString();
        for (Map.Entry<String, Object> e : values.entrySet()) {
            OptionSpec option = option(spec, e.getKey(), where);
            if (parsed.hasMatchedOption(option) || e.getValue() == null) continue;
            option.setValue(convert(option, e.getKey(), e.getValue(), where));
        }
    }

    /** Fails naming the flag and the config key when a required option is still unset. */
    public static void requireSet(CommandSpec spec, Path file, String... names) {
        for (String name : names) {
            if (spec.findOption(name).getValue() == null) {
                throw new picocli.CommandLine.ParameterException(
                        spec.commandLine(),
                        "missing " + name + ": pass " + name + " or set " + key(name)
                                + (file == null ? " in a --config file" : " in " + file));
            }
        }
    }

    private static Map<String, Object> read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("config " + file + " does not exist: check --config");
        }
        try {
            return YamlMappings.read(Files.readString(file));
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "config " + file + " is not a YAML mapping of predict options: "
                            + e.getMessage().lines().findFirst().orElse(""),
                    e);
        }
    }

    private static OptionSpec option(CommandSpec spec, String key, String where) {
        List<String> known = new ArrayList<>();
        for (OptionSpec o : spec.options()) {
            if (NOT_KEYS.contains(o.longestName())) continue;
            String k = key(o.longestName());
            if (k.equals(key)) return o;
            known.add(k);
        }
        String best = DidYouMean.closest(key.replace('-', '_'), known);
        String hint = best != null ? ": did you mean " + best + "?" : " (supported: " + String.join(", ", known) + ")";
        throw new IllegalArgumentException("unknown predict config key '" + key + "' in " + where + hint);
    }

    private static String key(String longName) {
        return longName.replaceFirst("^--", "").replace('-', '_');
    }

    private static Object convert(OptionSpec option, String key, Object value, String where) {
        Class<?> type = option.type();
        String text = value instanceof List<?> l
                ? String.join(",", l.stream().map(String::valueOf).toList())
                : String.valueOf(value);
        try {
            if (type == int.class || type == Integer.class) return Integer.parseInt(text.trim());
            if (type == long.class || type == Long.class) return Long.parseLong(text.trim());
            if (type == double.class || type == Double.class) return Double.parseDouble(text.trim());
            if (type == boolean.class || type == Boolean.class) {
                if (!text.equalsIgnoreCase("true") && !text.equalsIgnoreCase("false")) {
                    throw new NumberFormatException(text);
                }
                return Boolean.parseBoolean(text);
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("config key " + key + " in " + where + " is '" + text + "' but must be "
                    + (type == int.class || type == Integer.class || type == long.class || type == Long.class
                            ? "an integer"
                            : type == double.class || type == Double.class ? "a number" : "true or false"));
        }
        if (List.class.isAssignableFrom(type)) {
            List<String> out = new ArrayList<>();
            for (String s : text.split(",")) if (!s.isBlank()) out.add(s.trim());
            return out;
        }
        if (type == Path.class) return Path.of(text);
        return text;
    }
}
