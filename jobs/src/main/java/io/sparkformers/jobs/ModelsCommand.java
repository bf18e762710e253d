package io.sparkformers.jobs;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.hub.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code sparkformers models …}: the built-in models and importing model files into HF checkpoint folders. */
@Command(name = "models", mixinStandardHelpOptions = true,
        description = "List built-in models and import model files into Hugging Face checkpoint folders.",
        subcommands = {ModelsCommand.ListModels.class, ModelsCommand.ImportModel.class})
public final class ModelsCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the built-in model aliases.")
    static final class ListModels implements Callable<Integer> {
        @Mixin
        CommonOptions common;

        @Override
        public Integer call() throws Exception {
            ArrayNode out = Json.MAPPER.createArrayNode();
            for (BuiltinModels.Builtin b : BuiltinModels.ALL.values()) {
                boolean imported = BuiltinModels.isImported(b);
                out.addObject().put("alias", b.alias()).put("artifact", b.coordinates().toString())
                        .put("imported", imported).put("folder", BuiltinModels.folder(b).toString())
                        .put("description", b.description());
            }
            if (common.json) {
                System.out.println(Json.MAPPER.writeValueAsString(out));
            } else {
                System.out.printf("%-20s %-9s %s%n", "ALIAS", "IMPORTED", "DESCRIPTION");
                for (var n : out) {
                    System.out.printf("%-20s %-9s %s%n", n.get("alias").asText(), n.get("imported").asBoolean() ? "yes" : "no",
                            n.get("description").asText());
                }
            }
            return 0;
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true,
            description = "Import a built-in alias, a model .jar or a .onnx file (with tokenizer.json beside it) into "
                    + "a Hugging Face checkpoint folder (config.json, model.safetensors, tokenizer.json).")
    static final class ImportModel implements Callable<Integer> {
        @Mixin
        CommonOptions common;

        @Parameters(paramLabel = "MODEL", description = "An alias (see `models list`), a model .jar or a .onnx file.")
        String model;

        @Option(names = "--out", paramLabel = "DIR",
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
                System.out.println(Json.MAPPER.createObjectNode().put("model", model).put("folder", written.toString())
                        .put("seconds", seconds));
            } else {
                System.out.printf("%s -> %s (%.1f s)%n", model, written, seconds);
            }
            return 0;
        }
    }
}
