package io.sparkformers.nn.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * PEFT's {@code LoraConfig} as {@code adapter_config.json} holds it (same keys on disk). What PEFT offers beyond
 * plain LoRA and rsLoRA on Linear layers and GPT-2's Conv1D (DoRA, rank/alpha patterns, layers_to_transform,
 * exclude_modules, target_parameters) is refused when a file asks for it, not ignored. {@code fan_in_fan_out} is
 * read and decided by the layer, as PEFT decides it: PEFT sets it true for a Conv1D (weight stored (in, out)) and
 * false for a Linear whatever the file says, with a warning, and lora_A / lora_B have the same shapes either way.
 *
 * @param r                 rank of the update (PEFT {@code r}, default 8; > 0)
 * @param loraAlpha         scale numerator: the update is multiplied by {@code lora_alpha / r} (default 8)
 * @param loraDropout       dropout on the adapter's input (PEFT {@code lora_dropout}, default 0; in [0, 1))
 * @param targetModules     module names a Linear's path must equal or end with after a dot; null when
 *                          {@code targetRegex} is given (PEFT {@code target_modules} as a list)
 * @param targetRegex       a regex the whole module path must match (PEFT {@code target_modules} as a string), or null
 * @param bias              which biases train and are saved with the adapter (PEFT {@code bias}, default none)
 * @param modulesToSave     modules trained in full and saved with the adapter, e.g. a new classifier (PEFT
 *                          {@code modules_to_save}; matched as names the module path ends with)
 * @param taskType          PEFT {@code task_type} ({@code SEQ_CLS}, {@code TOKEN_CLS}, …) or null
 * @param baseModelNameOrPath the base checkpoint the adapter belongs to (PEFT {@code base_model_name_or_path}), or null
 * @param useRslora         rank-stabilised LoRA: the update is scaled by {@code lora_alpha / sqrt(r)} instead of
 *                          {@code lora_alpha / r} (PEFT {@code use_rslora}, default false)
 */
public record LoraConfig(
        int r,
        double loraAlpha,
        double loraDropout,
        List<String> targetModules,
        String targetRegex,
        Bias bias,
        List<String> modulesToSave,
        String taskType,
        String baseModelNameOrPath,
        boolean useRslora)
        implements java.io.Serializable {

    /** PEFT {@code bias}: none trains no bias, all trains every bias, lora_only the biases of adapted layers. */
    public enum Bias {
        NONE,
        ALL,
        LORA_ONLY;

        /** The name PEFT writes ({@code "lora_only"}). */
        public String peftName() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Bias of(String name) {
            for (Bias b : values()) if (b.peftName().equals(name)) return b;
            throw new IllegalArgumentException("LoRA bias must be one of none, all, lora_only but was '" + name + "'");
        }
    }

    /** The module names BERT-family encoders adapt by default: attention projections and both feed-forward layers. */
    public static final List<String> BERT_TARGETS = List.of("query", "key", "value", "dense");

    public LoraConfig {
        if (r <= 0) throw new IllegalArgumentException("LoRA r must be > 0 but was " + r);
        if (!(loraAlpha > 0)) throw new IllegalArgumentException("lora_alpha must be > 0 but was " + loraAlpha);
        if (!(loraDropout >= 0 && loraDropout < 1)) {
            throw new IllegalArgumentException("lora_dropout must be in [0, 1) but was " + loraDropout);
        }
        if ((targetModules == null) == (targetRegex == null)) {
            throw new IllegalArgumentException("give target_modules either as a list of names or as one regex");
        }
        if (targetModules != null && targetModules.isEmpty()) {
            throw new IllegalArgumentException("target_modules is empty: name the Linear modules to adapt");
        }
        if (targetRegex != null) Pattern.compile(targetRegex); // fails early with the regex error
        targetModules = targetModules == null ? null : List.copyOf(targetModules);
        bias = Objects.requireNonNull(bias, "bias");
        modulesToSave = modulesToSave == null ? List.of() : List.copyOf(modulesToSave);
    }

    /** A config with PEFT's defaults for the rest: dropout 0, bias none, no modules to save. */
    public static LoraConfig of(int r, double loraAlpha, List<String> targetModules) {
        return new LoraConfig(r, loraAlpha, 0.0, targetModules, null, Bias.NONE, List.of(), null, null, false);
    }

    /** The factor of B·A: {@code lora_alpha / r}, or {@code lora_alpha / sqrt(r)} with {@code use_rslora}. */
    public double scaling() {
        return useRslora ? loraAlpha / Math.sqrt(r) : loraAlpha / r;
    }

    /**
     * Whether a module is targeted, as PEFT's {@code check_target_module_exists}: a regex must match the whole path;
     * a name must equal the path or be its last dotted components.
     */
    public boolean targets(String modulePath) {
        if (targetRegex != null)
            return Pattern.compile(targetRegex).matcher(modulePath).matches();
        return targetModules.stream().anyMatch(t -> modulePath.equals(t) || modulePath.endsWith("." + t));
    }

    /** Whether a module is one of {@code modules_to_save} (its path ends with one of the names). */
    public boolean saves(String modulePath) {
        return modulesToSave.stream().anyMatch(t -> modulePath.equals(t) || modulePath.endsWith("." + t));
    }

    /**
     * Whether a module is one of {@code modules_to_save} or lies inside one: PEFT never adapts those (a module trained
     * in full needs no adapter), whatever the targets say.
     */
    public boolean insideSaved(String modulePath) {
        String dotted = "." + modulePath + ".";
        return modulesToSave.stream().anyMatch(t -> dotted.contains("." + t + "."));
    }

    /** This config with another {@code lora_dropout}. */
    public LoraConfig withLoraDropout(double p) {
        return with(json -> json.put("lora_dropout", p));
    }

    /** This config with other {@code modules_to_save} (null or empty: none). */
    public LoraConfig withModulesToSave(List<String> modules) {
        return with(json -> {
            ArrayNode a = json.putArray("modules_to_save");
            if (modules != null) modules.forEach(a::add);
        });
    }

    /** This config naming another base checkpoint ({@code base_model_name_or_path}). */
    public LoraConfig withBaseModel(String nameOrPath) {
        return with(json -> json.put("base_model_name_or_path", nameOrPath));
    }

    /** This config with another {@code task_type} ({@code SEQ_CLS}, {@code CAUSAL_LM}, …, or null). */
    public LoraConfig withTaskType(String type) {
        return with(json -> json.put("task_type", type));
    }

    /**
     * The one copy path of the with…() methods, as PEFT copies a config with {@code dataclasses.replace}: this
     * config's {@link #toJson} with one PEFT key changed, read back by {@link #fromJson} (the two are inverse on every
     * field, LoraConfigTest checks it), so a new field needs no change here and every copy is validated again.
     */
    private LoraConfig with(Consumer<ObjectNode> edit) {
        ObjectNode json = toJson();
        edit.accept(json);
        return fromJson(json, "LoraConfig");
    }

    /** Reads {@code adapter_config.json} from an adapter folder (or the file itself). */
    public static LoraConfig read(Path dirOrFile) throws IOException {
        Path file = Files.isDirectory(dirOrFile) ? dirOrFile.resolve(LoraModel.CONFIG_FILE) : dirOrFile;
        if (!Files.isRegularFile(file)) {
            throw new IOException(dirOrFile + " holds no " + LoraModel.CONFIG_FILE + ": not a PEFT adapter folder");
        }
        return fromJson(Json.readObject(file), file.toString());
    }

    /**
     * The base an adapter folder names (PEFT {@code base_model_name_or_path}), as AutoPeftModel reads it when no base
     * is given: a name that is a folder beside the adapter folder becomes that folder's absolute path (PEFT writes
     * whatever path the base was loaded from); anything else (an alias, a Hub id, an absolute folder) is returned
     * as written, for the caller's model resolver.
     *
     * @throws IOException when the folder holds no adapter_config.json or it names no base
     */
    public static String baseReference(Path adapterDir) throws IOException {
        String named = read(adapterDir).baseModelNameOrPath();
        if (named == null || named.isBlank()) {
            throw new IOException(adapterDir + "/" + LoraModel.CONFIG_FILE + " names no base_model_name_or_path: give "
                    + "the base model as well (--model, the model Param)");
        }
        Path parent = adapterDir.toAbsolutePath().getParent();
        if (parent != null && !Path.of(named).isAbsolute()) {
            Path sibling = parent.resolve(named);
            if (Files.isDirectory(sibling)) return sibling.toString();
        }
        return named;
    }

    /** PEFT keys {@link #fromJson} refuses when true: the variants not supported (plain LoRA only). */
    private static final List<String> REFUSED_IF_SET = List.of("use_dora", "use_qalora", "lora_bias");

    /** PEFT keys {@link #fromJson} refuses when non-empty. */
    private static final List<String> REFUSED_IF_PRESENT = List.of(
            "rank_pattern",
            "alpha_pattern",
            "layers_to_transform",
            "layers_pattern",
            "exclude_modules",
            "target_parameters",
            "layer_replication",
            "trainable_token_indices");

    /**
     * Every PEFT LoraConfig key {@link #fromJson} reads or refuses by name; a key outside it is one it would pass over
     * (a hand-written config can refuse those as unknown).
     */
    public static final List<String> PEFT_KEYS = java.util.stream.Stream.of(
                    List.of(
                            "peft_type",
                            "task_type",
                            "base_model_name_or_path",
                            "inference_mode",
                            "r",
                            "lora_alpha",
                            "lora_dropout",
                            "target_modules",
                            "bias",
                            "modules_to_save",
                            "use_rslora",
                            "fan_in_fan_out"),
                    REFUSED_IF_SET,
                    REFUSED_IF_PRESENT)
            .flatMap(List::stream)
            .toList();

    /** Parses PEFT's JSON; {@code source} names it in errors. */
    public static LoraConfig fromJson(ObjectNode json, String source) {
        String type = json.path("peft_type").asText("LORA");
        if (!"LORA".equals(type)) {
            throw new IllegalArgumentException(source + " is a " + type + " adapter; only LORA adapters load");
        }
        refuseIfSet(json, source, REFUSED_IF_SET);
        refuseIfPresent(json, source, REFUSED_IF_PRESENT);
        requireNumbers(json, source, "r", "lora_alpha", "lora_dropout");
        JsonNode rslora = json.path("use_rslora");
        if (!rslora.isMissingNode() && !rslora.isNull() && !rslora.isBoolean()) {
            throw new IllegalArgumentException(source + ": use_rslora must be true or false but was " + rslora);
        }
        boolean useRslora = rslora.asBoolean(false);
        JsonNode fanInFanOut = json.path("fan_in_fan_out");
        if (!fanInFanOut.isMissingNode() && !fanInFanOut.isNull() && !fanInFanOut.isBoolean()) {
            throw new IllegalArgumentException(
                    source + ": fan_in_fan_out must be true or false but was " + fanInFanOut);
        }
        JsonNode targets = json.path("target_modules");
        List<String> names = null;
        String regex = null;
        if (targets.isTextual()) {
            regex = targets.asText();
        } else if (targets.isArray()) {
            names = new ArrayList<>();
            for (JsonNode t : targets) names.add(t.asText());
        } else {
            throw new IllegalArgumentException(source + ": target_modules must be a list of names or a regex");
        }
        List<String> save = new ArrayList<>();
        for (JsonNode m : json.path("modules_to_save")) if (!save.contains(m.asText())) save.add(m.asText());
        return new LoraConfig(
                json.path("r").asInt(8),
                json.path("lora_alpha").asDouble(8),
                json.path("lora_dropout").asDouble(0),
                names,
                regex,
                Bias.of(json.path("bias").asText("none")),
                save,
                json.path("task_type").isTextual() ? json.path("task_type").asText() : null,
                json.path("base_model_name_or_path").isTextual()
                        ? json.path("base_model_name_or_path").asText()
                        : null,
                useRslora);
    }

    /** {@code adapter_config.json} as PEFT writes it (the keys this config has; PEFT fills the rest with defaults). */
    public ObjectNode toJson() {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("base_model_name_or_path", baseModelNameOrPath);
        o.put("bias", bias.peftName());
        o.put("fan_in_fan_out", false); // LoraModel.saveAdapter writes true when the adapted layers are Conv1D
        o.put("inference_mode", true);
        o.put("init_lora_weights", true);
        if (loraAlpha == Math.rint(loraAlpha)) {
            o.put("lora_alpha", (int) loraAlpha); // as PEFT writes an int alpha (a ternary would promote it)
        } else {
            o.put("lora_alpha", loraAlpha);
        }
        o.put("lora_dropout", loraDropout);
        if (modulesToSave.isEmpty()) {
            o.putNull("modules_to_save");
        } else {
            modulesToSave.forEach(o.putArray("modules_to_save")::add);
        }
        o.put("peft_type", "LORA");
        o.put("r", r);
        if (targetRegex != null) {
            o.put("target_modules", targetRegex);
        } else {
            ArrayNode t = o.putArray("target_modules");
            targetModules.forEach(t::add);
        }
        o.put("task_type", taskType);
        o.put("use_dora", false);
        o.put("use_rslora", useRslora);
        return o;
    }

    /** A number given as text or of the wrong kind would otherwise read as the default (Jackson's asInt). */
    private static void requireNumbers(ObjectNode json, String source, String... keys) {
        for (String k : keys) {
            JsonNode v = json.path(k);
            if (v.isMissingNode() || v.isNull()) continue;
            if (!v.isNumber() || (k.equals("r") && !v.canConvertToExactIntegral())) {
                throw new IllegalArgumentException(
                        source + ": " + k + " must be a" + (k.equals("r") ? "n integer" : " number") + " but was " + v);
            }
        }
    }

    private static void refuseIfSet(ObjectNode json, String source, List<String> keys) {
        for (String k : keys) {
            if (json.path(k).asBoolean(false)) {
                throw new IllegalArgumentException(
                        source + " sets " + k + ", which is not supported (plain LoRA only)");
            }
        }
    }

    private static void refuseIfPresent(ObjectNode json, String source, List<String> keys) {
        for (String k : keys) {
            JsonNode v = json.path(k);
            boolean empty = v.isMissingNode() || v.isNull() || (v.isContainerNode() && v.isEmpty());
            if (!empty) {
                throw new IllegalArgumentException(source + " sets " + k + " = " + v + ", which is not supported");
            }
        }
    }

    /** For messages: the targets as PEFT prints them. */
    String targetsDescription() {
        return targetRegex != null ? "'" + targetRegex + "'" : targetModules.toString();
    }
}
