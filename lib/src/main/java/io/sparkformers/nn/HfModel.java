package io.sparkformers.nn;

import ai.djl.Device;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.HfCheckpointWriter;
import io.sparkformers.hub.Json;
import io.sparkformers.hub.SentencePooling;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.runtime.GemmPath;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * HF's {@code AutoModelFor….from_pretrained(dir)} and {@code save_pretrained(dir)}: a checkpoint folder + a task → an
 * initialised block with the checkpoint's weights, on one device, owning the native memory of its parameters
 * (freed by {@link #close()}). Loading follows HF: weights the head needs but the checkpoint lacks are newly
 * initialised and listed in {@link #loadReport()}; a shape mismatch fails with every disagreement named.
 */
public final class HfModel implements AutoCloseable {
    private final HfCheckpoint checkpoint;
    private final Task task;
    private final PretrainedModel block;
    private final NDManager manager;
    private final LoadReport loadReport;

    private HfModel(HfCheckpoint checkpoint, Task task, PretrainedModel block, NDManager manager, LoadReport report) {
        this.checkpoint = checkpoint;
        this.task = task;
        this.block = block;
        this.manager = manager;
        this.loadReport = report;
    }

    /** Loads a checkpoint folder on the CPU. */
    public static HfModel fromPretrained(Path dir, Task task) throws IOException {
        return fromPretrained(HfCheckpoint.open(dir), task, Device.cpu());
    }

    /** Loads a checkpoint for a task onto a device; sentence embeddings pool as the checkpoint's modules.json says. */
    public static HfModel fromPretrained(HfCheckpoint checkpoint, Task task, Device device) throws IOException {
        return fromPretrained(checkpoint, task, device, c -> c);
    }

    /**
     * Loads a checkpoint for inference in {@code dtype} ({@link ComputeDtype}: bf16, fp32, or auto for BF16 where
     * the device and the model family support it); {@link #dtype()} tells what was chosen.
     */
    public static HfModel fromPretrained(HfCheckpoint checkpoint, Task task, Device device, ComputeDtype dtype)
            throws IOException {
        HfModel m = fromPretrained(checkpoint, task, device, c -> c);
        try {
            m.block.setComputeDtype(dtype.resolve(m.block, device));
            return m;
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /**
     * Loads with the checkpoint's config.json changed by {@code editConfig} first, as HF's {@code from_pretrained(dir,
     * num_labels=…, id2label=…)} does: a new classification head gets the labels of the data it is trained on.
     */
    public static HfModel fromPretrained(
            HfCheckpoint checkpoint, Task task, Device device, UnaryOperator<ObjectNode> editConfig)
            throws IOException {
        ObjectNode config = editConfig.apply(checkpoint.config().deepCopy());
        PretrainedModel block = task == Task.SENTENCE_EMBEDDING
                ? AutoModels.sentenceEmbedding(config, checkpoint.pooling().orElse(SentencePooling.DEFAULT))
                : AutoModels.fromConfig(config, task);
        GemmPath.apply(); // before the first GEMM: MKL's fast path on AMD
        NDManager manager = NDManager.newBaseManager(device);
        try (SafetensorsCheckpoint weights = checkpoint.openWeights()) {
            Path configFile = checkpoint.dir().resolve("config.json");
            block.initialize(
                    manager,
                    StateDict.shapeCheck(block, weights, configFile)
                            .andThen(StateDict.sizeLimit(configFile, StateDict.physicalMemory())));
            // a decoder has no task head to initialise: every weight must come from the checkpoint
            StateDict.Options options =
                    task == Task.CAUSAL_LM || task == Task.SEQ2SEQ_LM ? StateDict.Options.STRICT : StateDict.Options.HF;
            LoadReport report = StateDict.load(block, weights.readAll(), options);
            return new HfModel(checkpoint, task, block, manager, report);
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * PEFT's {@code PeftModel.from_pretrained(base, adapter).merge_and_unload()}: a LoRA adapter folder
     * ({@code adapter_config.json}, {@code adapter_model.safetensors}) loaded onto its base and merged into the
     * weights, giving a plain model every pipeline and stage runs at the base's cost (and {@link #savePretrained}
     * writes as a plain checkpoint).
     *
     * <p>Which base: {@code base} when given, as {@code PeftModel.from_pretrained(base, dir)} takes it — the adapter's
     * {@code base_model_name_or_path} is then not consulted (one base is often named by a Hub id in one place and by a
     * folder in another), and a base of the wrong shape fails naming every tensor that does not fit; null: the
     * adapter's {@code base_model_name_or_path} as {@code AutoPeftModel} reads it, which must be a folder here
     * ({@link io.sparkformers.nn.lora.LoraConfig#baseReference}: relative names resolve beside the adapter folder).
     */
    public static HfModel fromAdapter(Path adapterDir, HfCheckpoint base, Task task, Device device) throws IOException {
        return fromAdapter(adapterDir, base, task, device, ComputeDtype.FP32);
    }

    /**
     * {@link #fromAdapter(Path, HfCheckpoint, Task, Device)} for inference in {@code dtype}: merged in FP32 first,
     * then the BF16 copies (if any) are derived from the merged weights.
     */
    public static HfModel fromAdapter(Path adapterDir, HfCheckpoint base, Task task, Device device, ComputeDtype dtype)
            throws IOException {
        if (base == null)
            base = HfCheckpoint.open(Path.of(io.sparkformers.nn.lora.LoraConfig.baseReference(adapterDir)));
        HfModel m = fromPretrained(base, task, device, c -> c);
        try {
            io.sparkformers.nn.lora.LoraModel lora = io.sparkformers.nn.lora.LoraModel.load(m.block, adapterDir);
            lora.mergeAndUnload();
            m.block.setComputeDtype(dtype.resolve(m.block, device));
            LoadReport r = m.loadReport;
            List<String> fresh = new ArrayList<>(r.newlyInitialized());
            fresh.removeAll(lora.loadedInFull()); // a head the adapter carries (modules_to_save) is trained
            return new HfModel(
                    m.checkpoint,
                    m.task,
                    m.block,
                    m.manager,
                    new LoadReport(r.missing(), r.unexpected(), r.mismatched(), fresh, r.ignored()));
        } catch (IOException | RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /** The precision inference runs in: FP32 or BF16 (see {@link ComputeDtype}). */
    public ComputeDtype dtype() {
        return block.inferenceType() == ai.djl.ndarray.types.DataType.BFLOAT16 ? ComputeDtype.BF16 : ComputeDtype.FP32;
    }

    public PretrainedModel block() {
        return block;
    }

    public Task task() {
        return task;
    }

    public HfCheckpoint checkpoint() {
        return checkpoint;
    }

    public LoadReport loadReport() {
        return loadReport;
    }

    public NDManager manager() {
        return manager;
    }

    /** Inference: dropout off, no autograd. Outputs belong to the inputs' manager. */
    public NDList predict(NDList inputs) {
        return block.predict(inputs);
    }

    /** The checkpoint's tokenizer, truncating at {@code maxLength} (capped by the checkpoint's own limit). */
    public TextTokenizer tokenizer(int maxLength) throws IOException {
        return TextTokenizer.load(checkpoint, maxLength);
    }

    /**
     * Writes the model as an HF checkpoint folder: config.json (architectures set to this block's class), weights,
     * the source's tokenizer files, and sentence-transformers pooling for the models that embed sentences (a sentence
     * embedding, or a bare encoder from a sentence-transformers folder); a classifier or other head drops it, as
     * HF's {@code save_pretrained} writes none. A source folder without tokenizer.json gives config.json and weights
     * only.
     */
    public void savePretrained(Path dir) throws IOException {
        savePretrained(dir, StateDict.of(block));
    }

    /** {@link #savePretrained(Path)} with these weights instead of the block's own (a LoRA model's merged state). */
    public void savePretrained(Path dir, java.util.Map<String, io.sparkformers.safetensors.Tensor> weights)
            throws IOException {
        ObjectNode config = block.configJson();
        PretrainedModel named = block instanceof SentenceEmbedding se ? se.encoder() : block;
        config.putArray("architectures").add(named.architecture());
        Optional<SentencePooling> pooling = block instanceof SentenceEmbedding se
                ? Optional.of(se.pooling())
                : task == Task.BASE ? checkpoint.pooling() : Optional.empty();
        if (!Files.isRegularFile(checkpoint.dir().resolve(HfCheckpoint.TOKENIZER))) {
            // a model fed token ids (decoder tests, checkpoints without a tokenizer): config and weights only
            Files.createDirectories(dir);
            Json.write(dir.resolve(HfCheckpoint.CONFIG), config);
            SafetensorsWriter.write(dir.resolve(HfCheckpoint.WEIGHTS), StateDict.of(block), Map.of("format", "pt"));
            copyGenerationConfig(dir);
            return;
        }
        HfCheckpointWriter.write(
                dir,
                config,
                weights,
                Files.readAllBytes(checkpoint.tokenizerJson()),
                checkpoint.tokenizerConfig(),
                pooling);
        copyGenerationConfig(dir);
    }

    /** The source's generation_config.json (decoding defaults such as BART's forced_bos_token_id), when it has one. */
    private void copyGenerationConfig(Path dir) throws IOException {
        Path generation = checkpoint.dir().resolve("generation_config.json");
        if (Files.isRegularFile(generation)) {
            Files.copy(generation, dir.resolve("generation_config.json"), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
