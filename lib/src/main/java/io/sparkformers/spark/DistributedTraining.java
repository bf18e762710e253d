package io.sparkformers.spark;

import io.sparkformers.distributed.Collective;
import io.sparkformers.distributed.CollectiveDataParallel;
import io.sparkformers.distributed.CollectiveOptions;
import io.sparkformers.distributed.Secrets;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.Task;
import io.sparkformers.nn.lora.LoraConfig;
import io.sparkformers.nn.lora.LoraModel;
import io.sparkformers.train.CheckpointManager;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import io.sparkformers.train.DataSharding;
import io.sparkformers.train.ImageDataset;
import io.sparkformers.train.ProgressPrinter;
import io.sparkformers.train.TextDataset;
import io.sparkformers.train.Trainer;
import io.sparkformers.train.TrainerCallback;
import io.sparkformers.train.TrainerControl;
import io.sparkformers.train.TrainerState;
import io.sparkformers.train.TrainingArguments;
import io.sparkformers.train.TrainingDataset;
import io.sparkformers.train.TrainingPlan;
import io.sparkformers.train.TrainingTask;
import io.sparkformers.train.TransferMode;
import io.sparkformers.vision.ImageProcessor;
import io.sparkformers.vision.ImageProcessorConfig;
import io.sparkformers.vision.RgbImage;
import java.io.IOException;
import java.io.Serializable;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.HashPartitioner;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

/**
 * The data-parallel fit behind the training Estimators: one Spark barrier stage of {@code numWorkers} long-lived tasks,
 * each a {@link Trainer} replica of the spec's {@link TrainingTask} (text or image classification) joined to the others
 * by a {@link Collective} ring (PyTorch DDP semantics; for images also DDP's {@code broadcast_buffers}: every step runs
 * with rank 0's BatchNorm statistics).
 *
 * <p><b>Data.</b> Training rows get a global index ({@code zipWithIndex}; the input must be deterministic, as for any
 * Spark lineage that may be recomputed). The driver computes, from (n, seed, batch sizes, epochs) alone, the
 * {@link DataSharding} order every replica will follow, and from it a bit mask per row of the ranks whose micro-batches
 * read that row during the run (a {@code long} per row, broadcast). One shuffle keyed by rank sends each row only to
 * those ranks: with one epoch every row travels to exactly one worker; with E epochs a row reaches up to
 * {@code min(E, W)} workers, since the shuffle order changes per epoch (the trade-off against re-shuffling each epoch:
 * one long-lived task per worker, and no stage boundary inside training). Evaluation rows go to rank
 * {@code j mod W}; their metric states are merged exactly. A global step therefore reads the same global batch for any
 * worker count.
 *
 * <p><b>Rendezvous and security.</b> Each task listens on its executor's address (127.0.0.1 under a {@code local}
 * master) and publishes {@code host:port} through {@code BarrierTaskContext.allGather}. A fresh secret per fit
 * ({@link Secrets#newJobSecret()}) authenticates every ring connection; it travels to the tasks inside Spark's task
 * serialization, which {@code spark.authenticate} and {@code spark.network.crypto.enabled} protect when enabled.
 * Gradients and weights travel AES-GCM encrypted whenever Spark encrypts its own traffic
 * ({@code spark.network.crypto.enabled}, {@code spark.ssl.enabled}, {@code spark.ssl.rpc.enabled}) or when
 * {@code spark.sparkformers.collective.encrypt} is true (read from each executor's Spark conf).
 *
 * <p><b>Locks.</b> Replicas sharing a JVM (local mode) take turns on {@code TrainingLock} per micro-batch; every
 * collective runs outside it. On clusters, run one training task per executor ({@code spark.task.cpus} = executor
 * cores); a task that holds a Spark GPU trains on it ({@link Devices}).
 *
 * <p><b>Checkpoints and faults.</b> Rank 0 writes the Trainer's checkpoints into output_dir (a local folder directly;
 * any other Hadoop file system through a local staging folder, each checkpoint uploaded under a temporary name and
 * renamed). A barrier result stage is not retried by Spark after an executor loss, so the driver retries: on a failed
 * job it logs {@code resuming from checkpoint-N} and reruns the stage from the latest complete checkpoint, up to
 * {@code maxAttempts}; at most save_steps of work is lost. Replicas are compared every
 * {@code checkConsistencyEverySteps} steps.
 */
final class DistributedTraining {
    private static final Logger LOG = LoggerFactory.getLogger(DistributedTraining.class);

    private DistributedTraining() {}

    /**
     * Everything a fit needs, as plain serializable values (closures never capture a stage).
     *
     * @param args      HF training arguments by HF name (output_dir is the user's, any Hadoop path)
     * @param model     the source checkpoint reference (folder, Hadoop URI, alias)
     * @param labels    class names in id order (empty for regression)
     * @param mode      transfer mode config name; {@code unfreezeLastLayers} for partial
     * @param images    image classification ({@link TrainingTask#imageClassification}; rows carry decoded images)
     *                  instead of text
     * @param fromScratch images only: {@code model} is a folder whose config.json (and optional
     *                  preprocessor_config.json) define a model trained from its initialisation, not from weights
     * @param callbacks each replica's own extra callbacks ({@link TrainerCallbackFactory})
     * @param options   the task's own options: LoRA, language modelling, question answering (text only; null:
     *                  {@link TaskOptions#DEFAULTS})
     */
    record Spec(
            Map<String, Object> args,
            String model,
            Task task,
            LabelKind labelKind,
            List<String> labels,
            String mode,
            int unfreezeLastLayers,
            int maxLength,
            int numWorkers,
            int maxAttempts,
            int checkConsistencyEverySteps,
            String device,
            boolean images,
            boolean fromScratch,
            List<TrainerCallbackFactory> callbacks,
            TaskOptions options)
            implements Serializable {
        private static final long serialVersionUID = 1L;

        Spec {
            options = options == null ? TaskOptions.DEFAULTS : options;
        }

        /** This spec with the task options {@code o}. */
        Spec withOptions(TaskOptions o) {
            return with(model, o);
        }

        TrainingArguments trainingArguments() {
            return TrainingArguments.fromMap(args);
        }

        /** This spec with the model reference the executors load (see {@link ModelRefs#forExecutors}). */
        Spec withModel(String executorRef) {
            return with(executorRef, options);
        }

        /** This spec with the components the with-ers change: their one copy path. */
        private Spec with(String modelRef, TaskOptions o) {
            return new Spec(
                    args,
                    modelRef,
                    task,
                    labelKind,
                    labels,
                    mode,
                    unfreezeLastLayers,
                    maxLength,
                    numWorkers,
                    maxAttempts,
                    checkConsistencyEverySteps,
                    device,
                    images,
                    fromScratch,
                    callbacks,
                    o);
        }

        /** The task each replica trains, its model read from the local {@code folder}. */
        TrainingTask trainingTask(java.nio.file.Path folder) throws IOException {
            if (!images) {
                TaskOptions o = options;
                switch (task) {
                    case QUESTION_ANSWERING -> {
                        return TrainingTask.questionAnswering(folder, maxLength, o.docStride(), o.maxAnswerLength());
                    }
                    case MASKED_LM -> {
                        return TrainingTask.maskedLanguageModeling(
                                folder, maxLength, o.groupTexts(), o.mlmProbability(), o.wholeWordMask(), o.lora());
                    }
                    case CAUSAL_LM -> {
                        // run_clm.py's objective: no prompt masking (see TaskOptions on instruction tuning)
                        return TrainingTask.causalLanguageModeling(folder, maxLength, o.groupTexts(), false, o.lora());
                    }
                    case SEQ2SEQ_LM -> {
                        Seq2SeqOptions q = o.seq2seq() == null ? Seq2SeqOptions.DEFAULTS : o.seq2seq();
                        return TrainingTask.seq2seqLanguageModeling(
                                folder,
                                maxLength,
                                q.maxTargetLength(),
                                q.sourcePrefix(),
                                q.predictWithGenerate(),
                                q.generationMaxLength(),
                                q.generationNumBeams());
                    }
                    default -> {}
                }
                return TrainingTask.textClassification(
                        folder,
                        task,
                        labelKind,
                        labelKind == LabelKind.REGRESSION ? null : labels,
                        maxLength,
                        options.lora());
            }
            if (!fromScratch) return TrainingTask.imageClassification(folder, null);
            java.nio.file.Path pre = folder.resolve(ImageProcessor.CONFIG_FILE);
            return TrainingTask.imageClassificationFromScratch(
                    Json.readObject(folder.resolve("config.json")),
                    Files.isRegularFile(pre) ? ImageProcessorConfig.fromJson(Json.readObject(pre)) : null);
        }

        TransferMode transferMode() {
            return switch (TransferMode.kindOf(mode)) {
                case FINE_TUNE -> TransferMode.fineTune();
                case FEATURE_EXTRACTION -> TransferMode.featureExtraction();
                case PARTIAL -> TransferMode.partial(unfreezeLastLayers, List.of());
            };
        }
    }

    /**
     * What a text task takes besides the shared Params: a LoRA adapter, and the options of HF {@code run_mlm.py},
     * {@code run_clm.py}, {@code run_qa.py}, {@code run_summarization.py}.
     *
     * <p>No instruction-tuning option: the distributed causal LM is {@code run_clm.py}'s objective (every token a
     * label), which has none. Masking the prompt out of the loss is supervised fine-tuning on prompt / response pairs
     * ({@link TrainingTask#instructionTuning}, TRL's completion-only loss), which only the driver's Trainer runs
     * ({@code finetune --workers 1} with {@code objective.instruction} or {@code objective.chat}; {@code --workers > 1}
     * refuses both before any job), and no Estimator Param asks for it, so a field here was never set.
     *
     * @param lora            the LoRA adapter to train instead of the model's weights (null: none; text
     *                        classification)
     * @param docStride       QA: context tokens shared by consecutive windows (HF {@code doc_stride})
     * @param maxAnswerLength QA: most tokens in a predicted answer (HF {@code max_answer_length})
     * @param groupTexts      LM: concatenate the texts and cut blocks of maxLength (HF {@code group_texts}; per replica)
     * @param mlmProbability  masked LM: share of tokens chosen (HF {@code mlm_probability})
     * @param wholeWordMask   masked LM: choose whole words (HF {@code whole_word_mask})
     * @param seq2seq         seq2seq: HF {@code run_summarization.py}'s options (null: {@link Seq2SeqOptions#DEFAULTS})
     */
    record TaskOptions(
            LoraConfig lora,
            int docStride,
            int maxAnswerLength,
            boolean groupTexts,
            double mlmProbability,
            boolean wholeWordMask,
            Seq2SeqOptions seq2seq)
            implements Serializable {
        private static final long serialVersionUID = 1L;

        /** These options with seq2seq training's. */
        TaskOptions withSeq2Seq(Seq2SeqOptions q) {
            return new TaskOptions(lora, docStride, maxAnswerLength, groupTexts, mlmProbability, wholeWordMask, q);
        }

        /**
         * No adapter; HF's script defaults: doc_stride 128, max_answer_length 30, line by line, 0.15, no whole words;
         * no seq2seq options.
         */
        static final TaskOptions DEFAULTS = new TaskOptions(null, 128, 30, false, 0.15, false, null);

        /** These options training the LoRA adapter {@code adapter} (null: none). */
        TaskOptions withLora(LoraConfig adapter) {
            return new TaskOptions(
                    adapter, docStride, maxAnswerLength, groupTexts, mlmProbability, wholeWordMask, seq2seq);
        }

        /**
         * These options for language modelling (LoRA and the QA options kept; no seq2seq options): HF's
         * {@code group_texts}, and the masking of {@code run_mlm.py}.
         */
        TaskOptions withLanguageModeling(boolean group, double mlm, boolean wholeWords) {
            return new TaskOptions(lora, docStride, maxAnswerLength, group, mlm, wholeWords, null);
        }

        /** These options with question answering's windows and answer length. */
        TaskOptions withQuestionAnswering(int stride, int answerLength) {
            return new TaskOptions(lora, stride, answerLength, groupTexts, mlmProbability, wholeWordMask, seq2seq);
        }
    }

    /**
     * Seq2seq training's options (HF {@code run_summarization.py} / {@code Seq2SeqTrainingArguments}); the source
     * length is the Spec's maxLength.
     *
     * @param maxTargetLength     target tokens kept (HF {@code max_target_length})
     * @param sourcePrefix        text put before every source (HF {@code source_prefix})
     * @param predictWithGenerate generate at evaluation and report ROUGE/BLEU (HF {@code predict_with_generate})
     * @param generationMaxLength new tokens generated per source at evaluation (HF {@code generation_max_length})
     * @param generationNumBeams  beams at evaluation (HF {@code generation_num_beams}; 1: greedy)
     */
    record Seq2SeqOptions(
            int maxTargetLength,
            String sourcePrefix,
            boolean predictWithGenerate,
            int generationMaxLength,
            int generationNumBeams)
            implements Serializable {
        private static final long serialVersionUID = 1L;

        /** HF's script defaults: 128 target tokens, no prefix, no generation at evaluation, 128 new tokens, greedy. */
        static final Seq2SeqOptions DEFAULTS = new Seq2SeqOptions(128, "", false, 128, 1);
    }

    /**
     * One labelled row on its way to a worker — text (and pair) or a decoded RGB image — with its label as text;
     * {@code eval} rows are indexed separately. A class, not a record: rows and results travel through
     * {@code spark.serializer}, and Kryo cannot build records.
     */
    static final class Example implements Serializable {
        private static final long serialVersionUID = 1L;
        private final boolean eval;
        private final int index;
        private final String text;
        private final String pair;
        private final String label;
        private final int width;
        private final int height;
        private final byte[] rgb;

        private Example(
                boolean eval, int index, String text, String pair, String label, int width, int height, byte[] rgb) {
            this.eval = eval;
            this.index = index;
            this.text = text;
            this.pair = pair;
            this.label = label;
            this.width = width;
            this.height = height;
            this.rgb = rgb;
        }

        static Example text(boolean eval, String text, String pair, String label) {
            return new Example(eval, -1, text, pair, label, 0, 0, null);
        }

        static Example image(boolean eval, RgbImage image, String label) {
            return new Example(eval, -1, null, null, label, image.width(), image.height(), image.pixels());
        }

        /** This example as row {@code i} of its (training or evaluation) set. */
        Example withIndex(long i) {
            return new Example(eval, Math.toIntExact(i), text, pair, label, width, height, rgb);
        }

        boolean eval() {
            return eval;
        }

        int index() {
            return index;
        }

        String text() {
            return text;
        }

        String pair() {
            return pair;
        }

        String label() {
            return label;
        }

        RgbImage image() {
            return new RgbImage(width, height, rgb);
        }
    }

    /** What each worker reports back (a class for Kryo, as {@link Example}). */
    static final class WorkerResult implements Serializable {
        private static final long serialVersionUID = 1L;
        private final int rank;
        private final String host;
        private final long pid;
        private final long globalStep;
        private final double seconds;
        private final LinkedHashMap<String, Object> trainMetrics;
        private final LinkedHashMap<String, Double> evalMetrics;
        private final String resumedFrom;
        private boolean ringEncrypted;

        WorkerResult(
                int rank,
                String host,
                long pid,
                long globalStep,
                double seconds,
                LinkedHashMap<String, Object> trainMetrics,
                LinkedHashMap<String, Double> evalMetrics,
                String resumedFrom) {
            this.rank = rank;
            this.host = host;
            this.pid = pid;
            this.globalStep = globalStep;
            this.seconds = seconds;
            this.trainMetrics = trainMetrics;
            this.evalMetrics = evalMetrics;
            this.resumedFrom = resumedFrom;
        }

        int rank() {
            return rank;
        }

        /** Whether this replica's ring traffic was encrypted (AES-GCM frames). */
        boolean ringEncrypted() {
            return ringEncrypted;
        }

        WorkerResult withRingEncrypted(boolean encrypted) {
            this.ringEncrypted = encrypted;
            return this;
        }

        String host() {
            return host;
        }

        long pid() {
            return pid;
        }

        long globalStep() {
            return globalStep;
        }

        double seconds() {
            return seconds;
        }

        LinkedHashMap<String, Object> trainMetrics() {
            return trainMetrics;
        }

        LinkedHashMap<String, Double> evalMetrics() {
            return evalMetrics;
        }

        String resumedFrom() {
            return resumedFrom;
        }
    }

    /**
     * A finished fit.
     *
     * @param attempts          barrier jobs run (1 without failures)
     * @param resumedFrom       the checkpoint each retry resumed from, in order
     * @param secretFingerprint first 8 bytes of SHA-256 of this fit's job secret, hex (the secret itself stays hidden)
     * @param workers           per-rank results of the successful attempt, by rank
     */
    record Summary(
            String outputDir,
            int attempts,
            List<String> resumedFrom,
            String secretFingerprint,
            Map<String, Object> trainMetrics,
            Map<String, Double> evalMetrics,
            List<WorkerResult> workers)
            implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /**
     * Runs a text fit.
     *
     * @param rows columns (text, pair, label, isEval): string, string or null, label as text, boolean
     */
    static Summary run(Dataset<Row> rows, Spec spec) throws IOException {
        JavaRDD<Example> examples = rows.toJavaRDD()
                .map(r -> Example.text(
                        r.getBoolean(3),
                        r.getString(0),
                        r.isNullAt(1) ? null : r.getString(1),
                        r.isNullAt(2) ? null : r.getString(2)));
        return run(rows.sparkSession().sparkContext(), examples, spec);
    }

    /** Runs a fit on labelled examples (text or images, as {@code spec} says), training and evaluation rows mixed. */
    static Summary run(SparkContext sc, JavaRDD<Example> rows, Spec given) throws IOException {
        requireTaskSlots(sc, given.numWorkers());
        ModelSource source = ModelRefs.forExecutors(sc, given.model(), ModelRefs.Needs.FOLDER);
        Spec spec = given.withModel(source.ref());
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(sc);
        TrainingArguments args = spec.trainingArguments();
        int w = spec.numWorkers();
        if (w > 64) throw new IllegalArgumentException("numWorkers must be <= 64 but was " + w);
        OutputStore out = new OutputStore(args.outputDir());
        boolean userResume = args.resumeFromCheckpoint() != null;
        if (!userResume && !args.overwriteOutputDir() && out.existsNonEmpty()) {
            throw new IllegalArgumentException("outputDir " + out.uri() + " already exists and is not empty: set "
                    + "overwriteOutputDir true, or use another folder");
        }

        JavaRDD<Example> train = rows.filter(e -> !e.eval()).zipWithIndex().map(t -> t._1().withIndex(t._2()));
        JavaRDD<Example> eval = rows.filter(Example::eval).zipWithIndex().map(t -> t._1().withIndex(t._2()));
        train.persist(StorageLevel.MEMORY_AND_DISK());
        eval.persist(StorageLevel.MEMORY_AND_DISK());
        try {
            long n = train.count();
            if (n == 0)
                throw new IllegalArgumentException(
                        "no training rows: the dataset is empty or every row is " + "marked by validationIndicatorCol");
            if (n > Integer.MAX_VALUE) throw new IllegalArgumentException(n + " training rows exceed 2^31 - 1");
            boolean needsEval = !"no".equals(args.evalStrategy()) || args.loadBestModelAtEnd();
            boolean hasEval = eval.count() > 0;
            if (needsEval && !hasEval) {
                throw new IllegalArgumentException("evalStrategy '" + args.evalStrategy() + "' needs evaluation rows: "
                        + "mark some with validationIndicatorCol, or set evalStrategy to 'no'");
            }
            Broadcast<long[]> masks = jsc.broadcast(workerMasks(args, (int) n, w));
            JavaRDD<Example> shuffled = train.flatMapToPair(e -> {
                        long mask = masks.value()[e.index()];
                        List<Tuple2<Integer, Example>> o = new ArrayList<>(Long.bitCount(mask));
                        for (int r = 0; r < 64; r++) if ((mask & (1L << r)) != 0) o.add(new Tuple2<>(r, e));
                        return o.iterator();
                    })
                    .union(
                            hasEval
                                    ? eval.mapToPair(e -> new Tuple2<>(e.index() % w, e))
                                    : jsc.<Tuple2<Integer, Example>>emptyRDD().mapToPair(t -> t))
                    .partitionBy(new HashPartitioner(w))
                    .values();
            return attempts(
                    sc, shuffled, spec, source, out, (int) n, hasEval, userResume ? args.resumeFromCheckpoint() : null);
        } finally {
            train.unpersist(false);
            eval.unpersist(false);
        }
    }

    /** Bit r of mask[i]: rank r reads example i in some step of the run ({@link DataSharding}'s order). */
    static long[] workerMasks(TrainingArguments args, int n, int w) {
        TrainingPlan plan = args.plan(n, w);
        DataSharding sharding = new DataSharding(
                n,
                args.perDeviceTrainBatchSize(),
                args.gradientAccumulationSteps() * w,
                args.dataloaderDropLast(),
                args.effectiveDataSeed(),
                null);
        long[] masks = new long[n];
        long step = 0;
        for (long epoch = 0; epoch < plan.numTrainEpochs() && step < plan.maxSteps(); epoch++) {
            for (DataSharding.Step s : sharding.steps(epoch)) {
                if (step++ >= plan.maxSteps()) break;
                List<int[]> micro = s.microBatches();
                for (int m = 0; m < micro.size(); m++) {
                    for (int i : micro.get(m)) masks[i] |= 1L << (m % w);
                }
            }
        }
        return masks;
    }

    private static Summary attempts(
            SparkContext sc,
            JavaRDD<Example> data,
            Spec spec,
            ModelSource source,
            OutputStore out,
            int n,
            boolean hasEval,
            String userResume)
            throws IOException {
        byte[] secret = Secrets.newJobSecret();
        String fingerprint = fingerprint(secret);
        boolean local = sc.master().startsWith("local[") || sc.master().equals("local");
        List<String> resumed = new ArrayList<>();
        String resume = userResume;
        if ("true".equalsIgnoreCase(userResume)) {
            String latest = out.latestCheckpoint()
                    .orElseThrow(() -> new IllegalArgumentException("resumeFromCheckpoint true but " + out
                            + " holds no complete checkpoint-<step> folder: unset it " + "to start fresh"));
            resume = out.uri() + "/" + latest;
        }
        Exception last = null;
        ProgressPrinter printer = ProgressPrinter.forConsole(); // rank 0's progress, relayed to the driver
        for (int attempt = 1; attempt <= spec.maxAttempts(); attempt++) {
            if (attempt > 1) {
                String latest = out.latestCheckpoint().orElse(null);
                resume = latest == null ? null : out.uri() + "/" + latest;
                if (latest != null) {
                    LOG.warn(
                            "distributed fit attempt {} of {}: resuming from {} ({})",
                            attempt,
                            spec.maxAttempts(),
                            latest,
                            resume);
                    resumed.add(latest);
                } else {
                    LOG.warn(
                            "distributed fit attempt {} of {}: no complete checkpoint in {} yet, restarting from the "
                                    + "first step",
                            attempt,
                            spec.maxAttempts(),
                            out);
                }
            }
            TrainingProgress.Relay progress = new TrainingProgress.Relay(sc, printer);
            ReplicaTask task =
                    new ReplicaTask(spec, source, secret, n, hasEval, local, resume, attempt, progress.events());
            RDD<WorkerResult> barrier =
                    data.rdd().barrier().mapPartitions(task, false, ClassTag$.MODULE$.apply(WorkerResult.class));
            sc.setJobDescription("Sparkformers distributed fit: " + spec.numWorkers() + " workers, attempt " + attempt);
            try {
                Object collected = barrier.collect();
                List<WorkerResult> results = new ArrayList<>();
                for (Object o : (Object[]) collected) results.add((WorkerResult) o);
                results.sort(Comparator.comparingInt(WorkerResult::rank));
                WorkerResult main = results.get(0);
                return new Summary(
                        out.uri(),
                        attempt,
                        List.copyOf(resumed),
                        fingerprint,
                        main.trainMetrics(),
                        main.evalMetrics(),
                        List.copyOf(results));
            } catch (Exception e) { // SparkException is checked, though Scala throws it
                last = e;
                java.util.Optional<String> badInput = TaskFailures.badInput(e);
                if (badInput.isPresent()) throw new IllegalArgumentException("distributed fit: " + badInput.get(), e);
                LOG.warn(
                        "distributed fit attempt {} of {} failed: {}",
                        attempt,
                        spec.maxAttempts(),
                        TaskFailures.firstLine(e.getMessage()));
            } finally {
                progress.close();
                sc.setJobDescription(null);
            }
        }
        throw new IllegalStateException(
                "the distributed fit failed " + spec.maxAttempts() + " times (maxAttempts); "
                        + "the last failure: " + TaskFailures.firstLine(last.getMessage())
                        + ". Checkpoints so far are in " + out
                        + "; fix the cause and fit again with resumeFromCheckpoint true",
                last);
    }

    /**
     * Fails before any job when the session cannot run {@code workers} tasks at once. Spark's own check runs when the
     * barrier stage is submitted and retries for {@code maxConcurrentTasksCheck.interval} × {@code .maxFailures}
     * (15 s × 40: ten minutes) before it gives up with a message that names neither the Param nor the fix. A
     * {@code local[N]} master's slots are fixed, so its answer is immediate; a cluster's executors may still be
     * registering, so it is asked again for up to {@code spark.scheduler.maxRegisteredResourcesWaitingTime} (the
     * time Spark itself waits for executors, default 30 s). Slots are what Spark's barrier check counts:
     * executor cores / {@code spark.task.cpus} of the default resource profile.
     */
    static void requireTaskSlots(SparkContext sc, int workers) {
        boolean local = sc.master().startsWith("local[") || sc.master().equals("local"); // not local-cluster
        long waitMs = local ? 0 : sc.getConf().getTimeAsMs("spark.scheduler.maxRegisteredResourcesWaitingTime", "30s");
        long deadline = System.currentTimeMillis() + waitMs;
        int slots = taskSlots(sc);
        while (slots < workers && System.currentTimeMillis() < deadline) {
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            slots = taskSlots(sc);
        }
        if (slots < workers) {
            throw new IllegalArgumentException("numWorkers " + workers + " asks for " + workers + " concurrent "
                    + "tasks but the Spark session has " + slots + " task slot" + (slots == 1 ? "" : "s")
                    + " (master " + sc.master() + ", spark.task.cpus "
                    + sc.getConf().get("spark.task.cpus", "1")
                    + "): set numWorkers to at most " + slots + ", or give the session more executor cores");
        }
    }

    /** The tasks the session can run at once: what Spark's barrier stage check compares the partition count with. */
    static int taskSlots(SparkContext sc) {
        return sc.maxNumConcurrentTasks(sc.resourceProfileManager().defaultResourceProfile());
    }

    /** Conf key: encrypt the replicas' ring traffic even where Spark's own network encryption and SSL are off. */
    static final String ENCRYPT_COLLECTIVE = "spark.sparkformers.collective.encrypt";

    /** Ring settings: frames encrypted whenever Spark encrypts its own traffic (RPC crypto or SSL) or on request. */
    static CollectiveOptions collectiveOptions(SparkConf conf) {
        boolean encrypt = conf.getBoolean(ENCRYPT_COLLECTIVE, false)
                || conf.getBoolean("spark.network.crypto.enabled", false)
                || conf.getBoolean("spark.ssl.enabled", false)
                || conf.getBoolean("spark.ssl.rpc.enabled", false);
        return CollectiveOptions.defaults().withEncryption(encrypt);
    }

    static String fingerprint(byte[] secret) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(secret);
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The barrier task: one Trainer replica per partition (rank = partition id). */
    static final class ReplicaTask
            extends AbstractFunction1<scala.collection.Iterator<Example>, scala.collection.Iterator<WorkerResult>>
            implements Serializable {
        private static final long serialVersionUID = 1L;

        private final Spec spec;
        private final ModelSource source;
        private final byte[] secret;
        private final int numExamples;
        private final boolean hasEval;
        private final boolean localMaster;
        private final String resume;
        private final int attempt;
        private final TrainingProgress.Events progress;

        ReplicaTask(
                Spec spec,
                ModelSource source,
                byte[] secret,
                int numExamples,
                boolean hasEval,
                boolean localMaster,
                String resume,
                int attempt,
                TrainingProgress.Events progress) {
            this.spec = spec;
            this.source = source;
            this.secret = secret;
            this.numExamples = numExamples;
            this.hasEval = hasEval;
            this.localMaster = localMaster;
            this.resume = resume;
            this.attempt = attempt;
            this.progress = progress;
        }

        @Override
        public scala.collection.Iterator<WorkerResult> apply(scala.collection.Iterator<Example> rows) {
            try {
                // Iterator.single: the same in Scala 2.12 and 2.13 (no collection converters)
                return scala.collection.Iterator$.MODULE$.single(train(rows));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        private WorkerResult train(scala.collection.Iterator<Example> it) throws IOException {
            BarrierTaskContext ctx = BarrierTaskContext.get();
            int rank = ctx.partitionId();
            source.use(); // spec.model() is source.ref()
            int w = spec.numWorkers();
            List<Example> trainRows = new ArrayList<>();
            List<Example> evalRows = new ArrayList<>();
            while (it.hasNext()) {
                Example e = it.next();
                (e.eval() ? evalRows : trainRows).add(e);
            }
            trainRows.sort(Comparator.comparingInt(Example::index));
            evalRows.sort(Comparator.comparingInt(Example::index));

            String host = localMaster ? "127.0.0.1" : hostOf(ctx.getTaskInfos()[rank].address());
            java.nio.file.Path scratch = Files.createTempDirectory("sparkformers-train-r" + rank + "-");
            CollectiveOptions ring = collectiveOptions(SparkEnv.get().conf());
            try (Collective.Listener listener = Collective.listen(InetAddress.getByName(host), ring)) {
                InetSocketAddress mine = listener.address();
                String[] all = ctx.allGather(mine.getHostString() + ":" + mine.getPort());
                List<InetSocketAddress> peers = new ArrayList<>();
                for (String a : all) {
                    int c = a.lastIndexOf(':');
                    peers.add(new InetSocketAddress(a.substring(0, c), Integer.parseInt(a.substring(c + 1))));
                }
                try (Collective collective = listener.join(rank, w, peers, secret);
                        CollectiveDataParallel dp = new CollectiveDataParallel(collective)) {
                    return run(ctx, rank, host, dp, trainRows, evalRows, scratch)
                            .withRingEncrypted(ring.encrypt());
                }
            } finally {
                ModelRefs.deleteTree(scratch);
            }
        }

        private WorkerResult run(
                BarrierTaskContext ctx,
                int rank,
                String host,
                CollectiveDataParallel dp,
                List<Example> trainRows,
                List<Example> evalRows,
                java.nio.file.Path scratch)
                throws IOException {
            Map<String, Object> a = new LinkedHashMap<>(spec.args());
            OutputStore store = new OutputStore((String) a.get("output_dir"));
            boolean direct = rank == 0 && store.isLocal();
            java.nio.file.Path outDir = direct ? store.localPath() : scratch.resolve("output");
            String resumePath = null;
            if (resume != null) {
                OutputStore from = new OutputStore(resume.substring(0, resume.lastIndexOf('/')));
                String name = resume.substring(resume.lastIndexOf('/') + 1);
                if (from.isLocal()) {
                    resumePath = from.localPath().resolve(name).toString();
                } else {
                    Files.createDirectories(outDir);
                    from.download(name, outDir.resolve(name));
                    resumePath = outDir.resolve(name).toString();
                }
            }
            a.put("output_dir", outDir.toString());
            a.put("overwrite_output_dir", true);
            a.put("resume_from_checkpoint", resumePath);
            TrainingArguments args = TrainingArguments.fromMap(a);
            List<TrainerCallback> hooks = new ArrayList<>();
            if (rank == 0 && !direct) hooks.add(new Uploader(store, outDir));
            if (rank == 0) hooks.add(TrainingProgress.reporter(progress, spec.numWorkers()));
            for (TrainerCallbackFactory f : spec.callbacks()) {
                TrainerCallback c = f.create(rank, attempt);
                if (c != null) hooks.add(c);
            }
            int[] idx = new int[trainRows.size()];
            for (int k = 0; k < idx.length; k++) idx[k] = trainRows.get(k).index();
            long t0 = System.nanoTime();
            Trainer.Builder b = Trainer.builder(args, spec.trainingTask(ModelRefs.localFolder(spec.model())))
                    .mode(spec.transferMode())
                    .device(Devices.forTask(ctx, spec.device()))
                    .dataParallel(dp)
                    .checkConsistencyEverySteps(spec.checkConsistencyEverySteps());
            hooks.forEach(b::callback);
            String kind = spec.images() ? "images" : "rows";
            TrainingDataset evalSet = hasEval // the same on every rank: some may hold no eval row
                    ? dataset("evaluation " + kind + " of rank " + rank, evalRows, true)
                    : null;
            TrainingDataset trainSet = dataset(
                    "training " + kind + " of rank " + rank + " (" + idx.length + " of " + numExamples + ")",
                    trainRows,
                    false);
            Trainer.TrainOutput o = b.build().train(new Trainer.Shard(trainSet, idx, numExamples), evalSet);
            if (rank == 0 && !direct) uploadFinal(store, outDir);
            return new WorkerResult(
                    rank,
                    host,
                    ProcessHandle.current().pid(),
                    o.globalStep(),
                    (System.nanoTime() - t0) / 1e9,
                    new LinkedHashMap<>(o.trainMetrics()),
                    new LinkedHashMap<>(o.evalMetrics()),
                    resumePath);
        }

        /** The rows as the dataset the spec's task reads: texts, or decoded images with class ids. */
        private TrainingDataset dataset(String description, List<Example> rows, boolean eval) {
            if (!spec.images()) {
                List<TextDataset.Row> text = new ArrayList<>(rows.size());
                for (Example e : rows) {
                    String id = eval ? "eval " + e.index() : Integer.toString(e.index());
                    text.add(new TextDataset.Row(id, e.text(), e.pair(), e.label()));
                }
                return new TextDataset(description, text);
            }
            List<RgbImage> images = new ArrayList<>(rows.size());
            List<Integer> ids = new ArrayList<>(rows.size());
            for (Example e : rows) {
                int id = spec.labels().indexOf(e.label());
                if (id < 0) {
                    throw new IllegalArgumentException("image row " + e.index() + " has label '" + e.label()
                            + "', not one of the classes " + spec.labels());
                }
                images.add(e.image());
                ids.add(id);
            }
            return ImageDataset.of(description, images, ids, spec.labels());
        }

        private static String hostOf(String address) {
            int c = address.lastIndexOf(':');
            return c > 0 && address.indexOf(':') == c ? address.substring(0, c) : address;
        }

        /** Uploads the top-level files of the staging folder (the final model and reports) and a LoRA adapter. */
        private static void uploadFinal(OutputStore store, java.nio.file.Path outDir) throws IOException {
            try (var files = Files.list(outDir)) {
                for (java.nio.file.Path f : files.toList()) {
                    String name = f.getFileName().toString();
                    if (Files.isRegularFile(f) || name.equals(LoraModel.FIT_FOLDER)) store.upload(f, name);
                }
            }
        }
    }

    /** Rank 0, remote output_dir: uploads each checkpoint as it is saved and mirrors the rotation. */
    private record Uploader(OutputStore store, java.nio.file.Path outDir) implements TrainerCallback {
        @Override
        public void onSave(TrainingArguments args, TrainerState state, TrainerControl control) {
            try {
                String name = CheckpointManager.folderName(state.globalStep);
                store.upload(outDir.resolve(name), name);
                List<String> keep = new ArrayList<>();
                for (java.nio.file.Path p : new CheckpointManager(outDir).checkpoints()) {
                    keep.add(p.getFileName().toString());
                }
                store.deleteCheckpointsExcept(keep);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(
                        "rank 0: cannot copy checkpoint-" + state.globalStep + " to " + store + ": " + e.getMessage(),
                        e);
            }
        }
    }
}
