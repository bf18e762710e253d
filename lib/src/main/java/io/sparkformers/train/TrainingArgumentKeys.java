package io.sparkformers.train;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.sparkformers.hub.DidYouMean;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The key table behind {@link TrainingArguments}, derived from its record components (HF name = the component's name in
 * snake_case, type = the component's type, default = its {@link Default}); the Jackson binding of the record by those
 * names; typed parsing for {@code --set key=value}; the HF keys we know and ignore; did-you-mean suggestions for keys
 * nobody knows.
 */
final class TrainingArgumentKeys {

    enum Type {
        STRING,
        BOOL,
        INT,
        LONG,
        DOUBLE,
        STRING_LIST
    }

    /** One key: HF name, type, whether null is allowed, HF default. */
    record Key(String name, Type type, boolean nullable, Object defaultValue) {

        /** Converts a loaded or Java value (numbers of any width, numeric strings from YAML) to this key's type. */
        Object coerce(Object v) {
            if (v == null) {
                if (nullable) return null;
                throw new IllegalArgumentException(name + " must not be null");
            }
            if (v instanceof String s && type != Type.STRING && type != Type.STRING_LIST) return parse(s);
            switch (type) {
                case STRING -> {
                    if (v instanceof String s) return s;
                    if (v instanceof Boolean || v instanceof Number) return String.valueOf(v);
                }
                case BOOL -> {
                    if (v instanceof Boolean b) return b;
                }
                case INT -> {
                    Long l = integral(v);
                    if (l != null && l == l.intValue()) return l.intValue();
                }
                case LONG -> {
                    Long l = integral(v);
                    if (l != null) return l;
                }
                case DOUBLE -> {
                    if (v instanceof Number n) return n.doubleValue();
                }
                case STRING_LIST -> {
                    if (v instanceof String s) return parse(s);
                    if (v instanceof List<?> list) {
                        List<String> out = new ArrayList<>();
                        for (Object o : list) out.add(String.valueOf(o));
                        return List.copyOf(out);
                    }
                }
                default -> throw new AssertionError(type);
            }
            throw new IllegalArgumentException(name + " expects " + describe() + " but got " + v + " ("
                    + v.getClass().getSimpleName() + ")");
        }

        /** Parses the text of {@code --set name=text}; {@code null} or {@code None} clears a nullable key. */
        Object parse(String text) {
            String t = text.strip();
            if (nullable && (t.equals("null") || t.equals("None"))) return null;
            try {
                return switch (type) {
                    case STRING -> text;
                    case BOOL ->
                        switch (t.toLowerCase(Locale.ROOT)) {
                            case "true" -> Boolean.TRUE;
                            case "false" -> Boolean.FALSE;
                            default -> throw new NumberFormatException();
                        };
                    case INT -> Math.toIntExact(parseIntegral(t));
                    case LONG -> parseIntegral(t);
                    case DOUBLE -> Double.parseDouble(t);
                    case STRING_LIST -> {
                        String inner = t.startsWith("[") && t.endsWith("]") ? t.substring(1, t.length() - 1) : t;
                        List<String> out = new ArrayList<>();
                        for (String part : inner.split(",")) {
                            String p = part.strip().replaceAll("^[\"']|[\"']$", "");
                            if (!p.isEmpty()) out.add(p);
                        }
                        yield List.copyOf(out);
                    }
                };
            } catch (NumberFormatException | ArithmeticException e) {
                throw new IllegalArgumentException(name + " expects " + describe() + " but got '" + text + "'");
            }
        }

        private static long parseIntegral(String t) {
            try {
                return Long.parseLong(t);
            } catch (NumberFormatException e) {
                double d = Double.parseDouble(t); // "1e3" and "8.0" are integers too
                if (d != Math.rint(d) || Math.abs(d) > 9.0e15) throw new NumberFormatException(t);
                return (long) d;
            }
        }

        private static Long integral(Object v) {
            if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
                return ((Number) v).longValue();
            }
            if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) return n.longValue();
            return null;
        }

        private String describe() {
            String d = switch (type) {
                case STRING -> "a string";
                case BOOL -> "true or false";
                case INT, LONG -> "an integer";
                case DOUBLE -> "a number";
                case STRING_LIST -> "a list of strings";
            };
            return nullable ? d + " or null" : d;
        }
    }

    /**
     * The default of a training argument, in the text {@code --set} takes (parsed by the key's type); a component
     * without one defaults to null.
     */
    @Retention(RetentionPolicy.RUNTIME)
    @Target({ElementType.RECORD_COMPONENT, ElementType.PARAMETER, ElementType.FIELD, ElementType.METHOD})
    @interface Default {
        String value();
    }

    /** Jackson's view of the record: components by HF (snake_case) name, all written, unknown names refused. */
    private static final ObjectMapper BINDING = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .serializationInclusion(JsonInclude.Include.ALWAYS)
            .build();

    /** The keys, derived from {@link TrainingArguments}' record components in their order (HF's field order). */
    static final Map<String, Key> KEYS = new LinkedHashMap<>();

    static {
        for (RecordComponent c : TrainingArguments.class.getRecordComponents()) {
            String name = PropertyNamingStrategies.SnakeCaseStrategy.INSTANCE.translate(c.getName());
            Class<?> t = c.getType();
            Type type = t == String.class
                    ? Type.STRING
                    : t == boolean.class || t == Boolean.class
                            ? Type.BOOL
                            : t == int.class || t == Integer.class
                                    ? Type.INT
                                    : t == long.class || t == Long.class
                                            ? Type.LONG
                                            : t == double.class || t == Double.class
                                                    ? Type.DOUBLE
                                                    : t == List.class ? Type.STRING_LIST : null;
            if (type == null) throw new AssertionError("no key type for " + c);
            Key key = new Key(name, type, !t.isPrimitive(), null);
            Default d = c.getAnnotation(Default.class);
            KEYS.put(name, d == null ? key : new Key(name, type, key.nullable(), key.parse(d.value())));
        }
    }

    /** Binds values by HF name (complete and typed, as {@link #defaults()} starts them) onto the record. */
    static TrainingArguments bind(Map<String, Object> values) {
        try {
            return BINDING.convertValue(values, TrainingArguments.class);
        } catch (IllegalArgumentException e) {
            // the canonical constructor's report of every violation, wrapped by Jackson
            Throwable cause = e;
            while (cause.getCause() != null) cause = cause.getCause();
            if (cause instanceof IllegalArgumentException invalid) throw invalid;
            throw e;
        }
    }

    /**
     * The record by HF name, as Jackson writes it; a step interval that may be a ratio ({@code *_steps} held as a
     * double) is written as an integer when it is one, as HF writes it.
     */
    static Map<String, Object> toMap(TrainingArguments args) {
        Map<String, Object> m = BINDING.convertValue(args, new TypeReference<LinkedHashMap<String, Object>>() {});
        for (Map.Entry<String, Object> e : m.entrySet()) {
            boolean interval =
                    KEYS.get(e.getKey()).type() == Type.DOUBLE && e.getKey().endsWith("_steps");
            if (interval
                    && e.getValue() instanceof Number n
                    && n.doubleValue() >= 1
                    && n.doubleValue() == Math.rint(n.doubleValue())) {
                e.setValue(n.longValue());
            }
        }
        return m;
    }

    /** Stands for HF defaults that depend on the run (paths, ranks, tokens): never worth a warning. */
    private static final Object ANY = new Object();

    /** HF TrainingArguments fields we do not implement, with HF's default: a value other than it earns a warning. */
    private static final Map<String, Object> IGNORED_HF_KEYS = new LinkedHashMap<>();

    static {
        Object[] pairs = {
            "do_train",
            false,
            "do_eval",
            false,
            "do_predict",
            false,
            "prediction_loss_only",
            false,
            "per_gpu_train_batch_size",
            null,
            "per_gpu_eval_batch_size",
            null,
            "eval_accumulation_steps",
            null,
            "eval_delay",
            0,
            "torch_empty_cache_steps",
            null,
            "lr_scheduler_kwargs",
            ANY,
            "log_level",
            "passive",
            "log_level_replica",
            "warning",
            "log_on_each_node",
            true,
            "logging_dir",
            ANY,
            "logging_nan_inf_filter",
            true,
            "save_safetensors",
            true,
            "save_on_each_node",
            false,
            "save_only_model",
            false,
            "restore_callback_states_from_checkpoint",
            false,
            "no_cuda",
            false,
            "use_cpu",
            false,
            "use_mps_device",
            false,
            "jit_mode_eval",
            false,
            "use_ipex",
            false,
            "bf16",
            false,
            "fp16_opt_level",
            "O1",
            "half_precision_backend",
            "auto",
            "bf16_full_eval",
            false,
            "fp16_full_eval",
            false,
            "tf32",
            null,
            "local_rank",
            ANY,
            "ddp_backend",
            null,
            "tpu_num_cores",
            null,
            "tpu_metrics_debug",
            false,
            "debug",
            ANY,
            "dataloader_num_workers",
            0,
            "dataloader_prefetch_factor",
            null,
            "past_index",
            -1,
            "run_name",
            ANY,
            "disable_tqdm",
            ANY,
            "remove_unused_columns",
            true,
            "label_names",
            null,
            "ignore_data_skip",
            false,
            "fsdp",
            ANY,
            "fsdp_min_num_params",
            0,
            "fsdp_config",
            ANY,
            "fsdp_transformer_layer_cls_to_wrap",
            null,
            "accelerator_config",
            ANY,
            "deepspeed",
            null,
            "optim_args",
            null,
            "adafactor",
            false,
            "length_column_name",
            "length",
            "ddp_find_unused_parameters",
            null,
            "ddp_bucket_cap_mb",
            null,
            "ddp_broadcast_buffers",
            null,
            "dataloader_pin_memory",
            true,
            "dataloader_persistent_workers",
            false,
            "skip_memory_metrics",
            true,
            "use_legacy_prediction_loop",
            false,
            "push_to_hub",
            false,
            "hub_model_id",
            null,
            "hub_strategy",
            "every_save",
            "hub_token",
            ANY,
            "hub_private_repo",
            ANY,
            "hub_always_push",
            false,
            "hub_revision",
            null,
            "gradient_checkpointing",
            false,
            "gradient_checkpointing_kwargs",
            null,
            "include_inputs_for_metrics",
            false,
            "include_for_metrics",
            ANY,
            "eval_do_concat_batches",
            true,
            "fp16_backend",
            "auto",
            "push_to_hub_model_id",
            null,
            "push_to_hub_organization",
            null,
            "push_to_hub_token",
            ANY,
            "mp_parameters",
            "",
            "auto_find_batch_size",
            false,
            "full_determinism",
            false,
            "torchdynamo",
            null,
            "ray_scope",
            "last",
            "ddp_timeout",
            1800,
            "torch_compile",
            false,
            "torch_compile_backend",
            null,
            "torch_compile_mode",
            null,
            "dispatch_batches",
            null,
            "split_batches",
            null,
            "include_tokens_per_second",
            false,
            "include_num_input_tokens_seen",
            false,
            "neftune_noise_alpha",
            null,
            "optim_target_modules",
            null,
            "batch_eval_metrics",
            false,
            "eval_on_start",
            false,
            "use_liger_kernel",
            false,
            "liger_kernel_config",
            null,
            "eval_use_gather_object",
            false,
            "average_tokens_across_devices",
            ANY,
            "tp_size",
            ANY,
            "project",
            ANY,
            "trackio_space_id",
            ANY,
            "parallelism_config",
            null,
            "evaluate_during_training",
            false,
        };
        for (int i = 0; i < pairs.length; i += 2) IGNORED_HF_KEYS.put((String) pairs[i], pairs[i + 1]);
    }

    /** HF {@code report_to} integrations: read as our jsonl log with a warning rather than failing an HF config. */
    private static final Set<String> HF_INTEGRATIONS = Set.of(
            "azure_ml",
            "clearml",
            "codecarbon",
            "comet_ml",
            "dagshub",
            "dvclive",
            "flyte",
            "mlflow",
            "neptune",
            "tensorboard",
            "wandb",
            "swanlab",
            "trackio");

    private TrainingArgumentKeys() {}

    static Map<String, Object> defaults() {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Key k : KEYS.values()) m.put(k.name(), k.defaultValue());
        return m;
    }

    /** The key named {@code name}; an error with a did-you-mean otherwise (also for HF keys we ignore). */
    static Key require(String name) {
        Key k = KEYS.get(name);
        if (k != null) return k;
        if (IGNORED_HF_KEYS.containsKey(name)) {
            throw new IllegalArgumentException("training argument '" + name + "' is an HF key Sparkformers does not "
                    + "implement (supported: " + KEYS.keySet() + ")");
        }
        throw new IllegalArgumentException(unknownKeyMessage(name));
    }

    /**
     * For a key we do not implement: null if HF does not know it either, "" if it holds HF's default (nothing to
     * say), else the warning.
     */
    static String ignoredHfKeyWarning(String name, Object value) {
        if (!IGNORED_HF_KEYS.containsKey(name)) return null;
        Object def = IGNORED_HF_KEYS.get(name);
        if (def == ANY || sameValue(def, value)) return "";
        return "ignoring HF training argument " + name + "=" + value + ": Sparkformers does not implement it";
    }

    private static boolean sameValue(Object def, Object value) {
        if (def == null) return value == null || (value instanceof List<?> l && l.isEmpty());
        if (def instanceof Number d && value instanceof Number v) return d.doubleValue() == v.doubleValue();
        return def.equals(value);
    }

    static String unknownKeyMessage(String name) {
        List<String> candidates = new ArrayList<>(KEYS.keySet());
        candidates.add("evaluation_strategy");
        candidates.addAll(IGNORED_HF_KEYS.keySet());
        String best = DidYouMean.closest(name, candidates);
        if (best != null) return "unknown training argument '" + name + "': did you mean " + best + "?";
        return "unknown training argument '" + name + "' (supported: " + KEYS.keySet() + ")";
    }

    /**
     * HF {@code report_to} as loaded: "none" is no reporting, "all" and HF's integrations become our jsonl log (with a
     * warning for the integrations), anything else is kept so validation rejects it by name.
     */
    static Object readReportTo(Object value, List<String> warnings) {
        List<String> in = new ArrayList<>();
        if (value == null) return List.of();
        if (value instanceof List<?> l) {
            for (Object o : l) in.add(String.valueOf(o));
        } else {
            in.add(String.valueOf(value));
        }
        List<String> out = new ArrayList<>();
        for (String r : in) {
            String mapped = r;
            if (r.equals("none")) continue;
            if (r.equals("all")) mapped = "jsonl";
            if (HF_INTEGRATIONS.contains(r)) {
                warnings.add("report_to '" + r + "' is not available here: logging to log_history.jsonl instead");
                mapped = "jsonl";
            }
            if (!out.contains(mapped)) out.add(mapped);
        }
        return out;
    }
}
