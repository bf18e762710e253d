package io.sparkformers.jobs;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.hub.CachedModel;
import io.sparkformers.hub.Json;
import io.sparkformers.hub.ModelInfo;
import io.sparkformers.hub.ModelResolver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code sparkformers models …}: the built-in models and importing model files into HF checkpoint folders. */
@Command(
        name = "models",
        mixinStandardHelpOptions = true,
        description = "List built-in models and import model files into Hugging Face checkpoint folders.",
        subcommands = {
            ModelsCommand.ListModels.class,
            ModelsCommand.ImportModel.class,
            ModelsCommand.Download.class,
            ModelsCommand.Inspect.class
        })
public final class ModelsCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description =
                    "List the built-in model aliases and the models cached on this machine (Hub cache, executor cache).")
    static final class ListModels implements Callable<Integer> {
        @Mixin
        CommonOptions common;

        @Override
        public Integer call() throws Exception {
            ArrayNode out = Json.MAPPER.createArrayNode();
            for (BuiltinModels.Builtin b : BuiltinModels.ALL.values()) {
                boolean imported = BuiltinModels.isImported(b);
                out.addObject()
                        .put("alias", b.alias())
                        .put("artifact", b.coordinates().toString())
                        .put("imported", imported)
                        .put("folder", BuiltinModels.folder(b).toString())
                        .put("description", b.description());
            }
            ArrayNode cached = Json.MAPPER.createArrayNode();
            for (CachedModel c : ModelResolver.defaults().listCached()) {
                if (c.kind() == CachedModel.Kind.ALIAS) continue; // already in the alias table
                cached.addObject()
                        .put("kind", c.kind().name().toLowerCase(java.util.Locale.ROOT))
                        .put("name", c.name())
                        .put("detail", c.detail())
                        .put("folder", c.dir().toString())
                        .put("bytes", c.bytes());
            }
            if (common.json) {
                var root = Json.MAPPER.createObjectNode();
                root.set("aliases", out);
                root.set("cached", cached);
                System.out.println(Json.MAPPER.writeValueAsString(root));
            } else {
                System.out.printf("%-20s %-9s %s%n", "ALIAS", "IMPORTED", "DESCRIPTION");
                for (var n : out) {
                    System.out.printf(
                            "%-20s %-9s %s%n",
                            n.get("alias").asText(),
                            n.get("imported").asBoolean() ? "yes" : "no",
                            n.get("description").asText());
                }
                if (!cached.isEmpty()) {
                    System.out.printf("%n%-15s %-40s %10s  %s%n", "CACHED", "NAME", "MB", "FOLDER");
                    for (var n : cached) {
                        System.out.printf(
                                "%-15s %-40s %10.1f  %s%n",
                                n.get("kind").asText(),
                                n.get("name").asText(),
                                n.get("bytes").asLong() / 1e6,
                                n.get("folder").asText());
                    }
                }
            }
            return 0;
        }
    }

    @Command(
            name = "download",
            mixinStandardHelpOptions = true,
            description = "Fetch a model reference (folder, Hadoop URI, alias, Hub id org/name[@revision]) into the "
                    + "local cache, or copy it into --out.")
    static final class Download implements Callable<Integer> {
        @Mixin
        CommonOptions common;

        @Parameters(paramLabel = "REF", description = "A model reference.")
        String ref;

        @Option(names = "--out", paramLabel = "DIR", description = "Copy the checkpoint into this new or empty folder.")
        Path out;

        @Override
        public Integer call() throws Exception {
            Path dir = ModelResolver.defaults().download(ref, java.util.Optional.ofNullable(out));
            if (common.json) {
                System.out.println(
                        Json.MAPPER.createObjectNode().put("model", ref).put("folder", dir.toString()));
            } else {
                System.out.println(ref + " -> " + dir);
            }
            return 0;
        }
    }

    @Command(
            name = "inspect",
            mixinStandardHelpOptions = true,
            description =
                    "Architecture, parameter count, dtypes, labels, files and size of a model (weights are not loaded).")
    static final class Inspect implements Callable<Integer> {
        @Mixin
        CommonOptions common;

        @Parameters(paramLabel = "REF", description = "A model reference.")
        String ref;

        @Override
        public Integer call() throws Exception {
            ModelInfo info = ModelResolver.defaults().inspect(ref);
            if (common.json) {
                System.out.println(Json.MAPPER.writeValueAsString(Json.MAPPER.valueToTree(info)));
            } else {
                System.out.printf(
                        "folder        %s%narchitecture  %s (model_type %s)%nparameters    %,d %s%n",
                        info.dir(),
                        info.architecture(),
                        info.modelType(),
                        info.parameterCount(),
                        info.parametersByDtype());
                if (!info.labels().isEmpty()) System.out.printf("labels        %s%n", info.labels());
                System.out.printf("size          %.1f MB%n", info.totalBytes() / 1e6);
                info.files().forEach((f, b) -> System.out.printf("  %-40s %,14d%n", f, b));
            }
            return 0;
        }
    }

    @Command(
            name = "import",
            mixinStandardHelpOptions = true,
            description = "Import a built-in alias, a model .jar or a .onnx file (with tokenizer.json beside it) into "
                    + "a Hugging Face checkpoint folder (config.json, model.safetensors, tokenizer.json).")
    static final class ImportModel implements Callable<Integer> {
        @Mixin
        CommonOptions common;

        @Parameters(paramLabel = "MODEL", description = "An alias (see `models list`), a model .jar or a .onnx file.")
        String model;

        @Option(
                names = "--out",
                paramLabel = "DIR",
                description = "Folder to write; for an alias, default: its place in the Sparkformers home.")
        Path out;

        @Override
        public Integer call() throws Exception {
            long t0 = System.nanoTime();
            Path written;
            var builtin = BuiltinModels.find(model);
            if (builtin.isPresent()) {
                if (out == null) {
                    written = BuiltinModels.resolve(builtin.get());
                } else {
                    BuiltinModels.importTo(builtin.get(), out);
                    written = out;
                }
            } else {
                Path file = Path.of(model);
                if (!Files.isRegularFile(file)) {
                    throw new IllegalArgumentException("'" + model + "' is neither a built-in alias ("
                            + String.join(", ", BuiltinModels.ALL.keySet()) + ") nor a model file");
                }
                if (out == null) throw new IllegalArgumentException("importing a file needs --out DIR");
                BuiltinModels.importFile(file, out);
                written = out;
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (common.json) {
                System.out.println(Json.MAPPER
                        .createObjectNode()
                        .put("model", model)
                        .put("folder", written.toString())
                        .put("seconds", seconds));
            } else {
                System.out.printf("%s -> %s (%.1f s)%n", model, written, seconds);
            }
            return 0;
        }
    }
}
