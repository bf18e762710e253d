package io.sparkformers.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.GradientCheckpointing;
import io.sparkformers.nn.NativeArrays;
import io.sparkformers.runtime.Settings;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * One {@link Trainer#train} call: HF's {@code _inner_training_loop} over {@link DataSharding}'s steps,
 * {@code _maybe_log_save_evaluate}, checkpoints and their rotation, exact resumption, {@code load_best_model_at_end},
 * the result files, and the data-parallel seams ({@link DataParallel}: each rank runs micro-batches
 * {@code m ≡ rank (mod world)} of every step, gradients are summed before the update, evaluations merge every rank's
 * metric state, rank 0 alone writes {@code output_dir}). The same loop for every task: the {@link TrainingTask}'s
 * {@link TaskFit} brings the model, the collator, the loss and the evaluation partial. Closed at the fit's end.
 */
final class TrainingRun implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(TrainingRun.class.getName());

    /** Loss and real tokens (or images) of one micro-batch. */
    record Micro(double loss, long tokens) {}

    final TrainingArguments args;
    final DataParallel dp;
    final boolean main;
    final int world;
    final Path outputDir;
    final CheckpointManager checkpoints;
    final TrainerControl control = new TrainerControl();
    private final Trainer trainer;
    private final Trainer.Shard shard;
    private final TrainingDataset evalRows;
    private TaskFit fit;
    /**
     * The fit's embedding tables, by identity: the all-reduce sends only their touched rows
     * ({@code sparkformers.sparseEmbeddingGradients=false}, a {@link Settings} switch, sends them whole, for
     * before/after measurements).
     */
    private final Set<NDArray> lookupTables = Collections.newSetFromMap(new IdentityHashMap<>());

    TrainingPlan plan;
    LrSchedule schedule;
    DataSharding sharding;
    TrainerState state;
    CallbackHandler handler;
    Optimizer optimizer;
    Path resumeFrom;
    EarlyStoppingCallback earlyStopping;
    long evalExamples;
    private long computeNanos;
    private long commNanos;
    private double trLoss;
    private double totalLoss;
    private long lastLoggedStep;
    private double lastGradNorm = Double.NaN;
    /** Whether each rank updates only its share of the parameters ({@link DataParallel#reduceScatterUpdate}). */
    private boolean shardedUpdates;
    /** The parameters of the last sharded step: the layout its optimizer state is sharded by. */
    private List<ParamRef> shardedRefs;

    TrainingRun(Trainer trainer, Trainer.Shard train, TrainingDataset eval) {
        this.trainer = trainer;
        this.args = trainer.args();
        this.dp = trainer.dataParallel();
        this.main = dp.isMain();
        this.world = dp.worldSize();
        this.outputDir = Path.of(args.outputDir());
        this.checkpoints = new CheckpointManager(outputDir);
        this.shard = train;
        this.evalRows = eval;
    }

    /** A trainer's checkConsistencyEverySteps, checked when the trainer is built. */
    static int requireConsistencyInterval(int steps) {
        if (steps < 0) {
            throw new IllegalArgumentException("checkConsistencyEverySteps must be >= 0 (0 = never) but was " + steps);
        }
        return steps;
    }

    /** The transfer mode of this fit. */
    TransferMode mode() {
        return trainer.mode();
    }

    /** The device the model trains on. */
    Device device() {
        return trainer.device();
    }

    // ------------------------------------------------------------------------------------------------ the task's part

    /** Checks every input, loads the data, the model (the task) and the optimizer; everything that can fail on bad input. */
    private void prepare() throws IOException {
        if (shard == null) throw new IllegalArgumentException("no training dataset given");
        fit = trainer.task().start(this, shard, evalRows);
        if (Settings.enabled("sparkformers.sparseEmbeddingGradients")) lookupTables.addAll(fit.lookupTables());
        optimizer = Optimizers.create(args, mode().headLrMultiplier(), fit.isHead(), resumeFrom, device());
        shardedUpdates = world > 1
                && dp.shardsUpdates()
                && Settings.enabled("sparkformers.shardedOptimizerStep")
                && optimizer.updatesShares(trainable());
        startState(trainer.callbacks(), trainer.progress());
    }

    /** Forward + loss + backward of one micro-batch ({@code examples}: global indices); gradients of scale × loss add up. */
    private Micro forwardBackward(int[] examples, double scale, long dropoutSeed) {
        try (TrainingLock.Held lock = TrainingLock.acquire();
                NDManager scope = fit.manager().newSubManager()) {
            ModelBatch batch = fit.collate(scope, examples, state.globalStep);
            TrainStep.seedTorch(dropoutSeed);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector();
                    GradientCheckpointing tape =
                            args.gradientCheckpointing() ? GradientCheckpointing.begin(scope, dropoutSeed) : null) {
                NDArray outputs = fit.forward(new ParameterStore(scope, false), batch.inputs());
                NDArray loss = fit.loss().compute(outputs, batch.labels());
                double value = loss.getFloat();
                gc.backward(scale == 1.0 ? loss : NativeArrays.mul(loss, scale));
                if (tape != null) tape.backward(); // the layers' recompute, from the top down
                return new Micro(value, batch.count());
            }
        }
    }

    private List<ParamRef> trainable() {
        return fit.trainable();
    }

    /** What must be equal on every rank: broadcast from rank 0 at the start and after loading the best model. */
    private List<NDArray> replicated() {
        List<NDArray> out = new ArrayList<>();
        for (ParamRef p : trainable()) out.add(p.value());
        return out;
    }

    /**
     * Makes the replicas' non-trainable state equal (e.g. rank 0's BatchNorm statistics, DDP's broadcast_buffers);
     * called before every optimizer step and every evaluation when world &gt; 1, outside the training lock.
     */
    private void broadcastBuffers() throws IOException {
        List<NDArray> buffers = fit.buffers();
        if (!buffers.isEmpty()) dp.broadcastFromMain(buffers);
    }

    private int numExamples() {
        return shard.numExamples();
    }

    // ------------------------------------------------------------------------------------------------ shared steps

    /**
     * The checks before anything loads: arguments on {@code device}, evaluation data when the strategy needs it,
     * early stopping, resume_from_checkpoint, and an output_dir that would be overwritten.
     */
    void checkArguments(boolean haveEvalData) throws IOException {
        args.validateFor(device());
        boolean needsEval = !"no".equals(args.evalStrategy()) || args.loadBestModelAtEnd();
        if (needsEval && !haveEvalData) {
            throw new IllegalArgumentException("eval_strategy '" + args.evalStrategy() + "'"
                    + (args.loadBestModelAtEnd() ? " with load_best_model_at_end" : "")
                    + " needs an evaluation dataset: pass one or set eval_strategy to 'no'");
        }
        if (trainer.earlyStoppingPatience() != null) {
            earlyStopping =
                    new EarlyStoppingCallback(trainer.earlyStoppingPatience(), trainer.earlyStoppingThreshold());
            earlyStopping.checkArguments(args);
        }
        resumeFrom = CheckpointManager.resolveResume(args).orElse(null);
        if (main && resumeFrom == null && !args.overwriteOutputDir() && Files.isDirectory(outputDir)) {
            try (Stream<Path> s = Files.list(outputDir)) {
                if (s.findAny().isPresent()) {
                    throw new IllegalArgumentException("output_dir " + outputDir + " already exists and is not "
                            + "empty: set overwrite_output_dir true, resume_from_checkpoint true, or use another "
                            + "folder");
                }
            }
        }
    }

    /** The step plan, the data order and the schedule for {@code n} examples ({@code lengths} for group_by_length). */
    void planSteps(int n, int[] lengths) {
        plan = args.plan(n, world);
        sharding = new DataSharding(
                n,
                args.perDeviceTrainBatchSize(),
                args.gradientAccumulationSteps() * world,
                args.dataloaderDropLast(),
                args.effectiveDataSeed(),
                lengths);
        long microPerEpoch = args.dataloaderDropLast()
                ? n / args.perDeviceTrainBatchSize()
                : (n + args.perDeviceTrainBatchSize() - 1) / args.perDeviceTrainBatchSize();
        if (microPerEpoch < world) {
            throw new IllegalArgumentException(n + " training examples make " + microPerEpoch + " batches of "
                    + args.perDeviceTrainBatchSize() + ", fewer than the " + world + " workers (each needs one per "
                    + "step): lower per_device_train_batch_size or the number of workers");
        }
        schedule = args.schedule(plan.maxSteps());
    }

    /** The trainer state (fresh or resumed) and the callbacks, after the model and optimizer are built. */
    private void startState(List<TrainerCallback> userCallbacks, boolean progress) throws IOException {
        if (world > 1) dp.broadcastFromMain(replicated()); // replicas start identical, new heads included
        state = TrainerState.start(args, plan);
        if (resumeFrom != null) resumeState();
        List<TrainerCallback> all = new ArrayList<>();
        all.add(new DefaultFlowCallback());
        if (main && args.reportTo().contains("jsonl")) all.add(new JsonlReporter(outputDir));
        if (main && progress) all.add(ProgressReporter.forConsole(world));
        if (earlyStopping != null) all.add(earlyStopping);
        all.addAll(userCallbacks);
        handler = new CallbackHandler(all);
    }

    private void resumeState() throws IOException {
        TrainerState loaded = TrainerState.load(resumeFrom.resolve(CheckpointManager.TRAINER_STATE_NAME));
        if (loaded.trainBatchSize != null && loaded.trainBatchSize != args.perDeviceTrainBatchSize()) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "resuming with per_device_train_batch_size " + args.perDeviceTrainBatchSize()
                            + " but the checkpoint used " + loaded.trainBatchSize);
        }
        loaded.maxSteps = plan.maxSteps();
        loaded.numTrainEpochs = plan.numTrainEpochs();
        loaded.loggingSteps = plan.loggingSteps();
        loaded.evalSteps = plan.evalSteps();
        loaded.saveSteps = plan.saveSteps();
        state = loaded;
        if (earlyStopping != null && state.statefulCallbacks.get("EarlyStoppingCallback") instanceof Map<?, ?> m) {
            @SuppressWarnings("unchecked")
            Map<String, Object> es = (Map<String, Object>) m;
            earlyStopping = EarlyStoppingCallback.fromState(es);
        }
        lastLoggedStep = state.globalStep;
    }

    Trainer.TrainOutput execute(boolean evalBeforeTraining) throws IOException {
        prepare();
        Map<String, Double> initial = Map.of();
        if (evalBeforeTraining && fit.hasEvalData()) initial = evaluate(false);
        long start = System.nanoTime();
        long startStep = state.globalStep;
        loop();
        return finish((System.nanoTime() - start) / 1e9, startStep, initial);
    }

    private void loop() throws IOException {
        handler.onTrainBegin(args, state, control);
        int stepsPerEpoch = sharding.stepsPerEpoch();
        long startEpoch = state.globalStep / stepsPerEpoch;
        long skip = state.globalStep % stepsPerEpoch;
        int rank = dp.rank();
        for (long epoch = startEpoch; epoch < plan.numTrainEpochs() && state.globalStep < plan.maxSteps(); epoch++) {
            List<DataSharding.Step> steps = sharding.steps(epoch);
            handler.onEpochBegin(args, state, control);
            for (int s = (int) (epoch == startEpoch ? skip : 0); s < steps.size(); s++) {
                handler.onStepBegin(args, state, control);
                long c0 = System.nanoTime();
                if (world > 1) broadcastBuffers();
                List<int[]> micro = steps.get(s).microBatches();
                double stepLoss = 0;
                long tokens = 0;
                long t0 = System.nanoTime();
                for (int m = rank; m < micro.size(); m += world) { // this rank's micro-batches
                    long seed = DataSharding.mix(DataSharding.mix(args.seed(), state.globalStep), m);
                    Micro r = forwardBackward(micro.get(m), 1.0 / micro.size(), seed);
                    stepLoss += r.loss() / micro.size();
                    tokens += r.tokens();
                }
                long t1 = System.nanoTime();
                if (world > 1) {
                    double[] sums = dp.sum(new double[] {stepLoss, tokens});
                    stepLoss = sums[0];
                    tokens = (long) sums[1];
                }
                // the summed loss and the all-reduced gradients are equal on every rank: all ranks stop together
                if (!Double.isFinite(stepLoss)) throw nonFinite("loss", stepLoss);
                state.numInputTokensSeen += tokens;
                double lrMultiplier = schedule.multiplier(state.globalStep);
                long updateNanos;
                if (shardedUpdates) {
                    updateNanos = shardedUpdate(lrMultiplier);
                } else {
                    if (world > 1) TrainStep.withGradients(trainable(), this::allReduceSum);
                    long t2 = System.nanoTime();
                    lastGradNorm =
                            TrainStep.applyUpdate(trainable(), optimizer, lrMultiplier, args.maxGradNorm(), norm -> {
                                if (!Double.isFinite(norm)) throw nonFinite("gradient norm", norm);
                            });
                    updateNanos = System.nanoTime() - t2;
                }
                long t3 = System.nanoTime();
                computeNanos += (t1 - t0) + updateNanos;
                commNanos += (t3 - t1 - updateNanos) + (t0 - c0);
                trLoss += stepLoss;
                state.globalStep++;
                state.epoch = epoch + (s + 1) / (double) stepsPerEpoch;
                int every = trainer.checkConsistencyEverySteps();
                if (world > 1 && every > 0 && state.globalStep % every == 0) {
                    long k0 = System.nanoTime();
                    dp.requireSame(replicated(), "the trainable weights after step " + state.globalStep);
                    commNanos += System.nanoTime() - k0;
                }
                handler.onStepEnd(args, state, control);
                maybeLogSaveEvaluate(epoch, s + 1);
                if (control.shouldEpochStop || control.shouldTrainingStop) break;
            }
            handler.onEpochEnd(args, state, control);
            maybeLogSaveEvaluate(epoch + 1, 0);
            if (control.shouldTrainingStop) break;
        }
    }

    /** The stop at a non-finite loss or gradient norm of the coming step (see {@link NonFiniteLossException}). */
    private NonFiniteLossException nonFinite(String what, double value) {
        String last = "rank 0's checkpoints stay loadable"; // rank 0 alone writes them
        if (main) {
            try {
                last = CheckpointManager.latestCheckpoint(outputDir)
                        .map(c -> "the last checkpoint " + c + " stays loadable")
                        .orElse("no checkpoint was written before it");
            } catch (IOException e) {
                last = null; // the stop itself must not fail
            }
        }
        return new NonFiniteLossException(state.globalStep + 1, what, value, args.learningRate(), last);
    }

    private void allReduceSum(List<ParamRef> params, List<NDArray> grads) {
        try {
            dp.allReduceSum(grads, tableFlags(params));
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "rank " + dp.rank() + ": gradient all-reduce at step " + state.globalStep + " failed: "
                            + e.getMessage(),
                    e);
        }
    }

    /** Which of {@code params} are embedding tables whose gradients may travel as touched rows. */
    private BitSet tableFlags(List<ParamRef> params) {
        BitSet tables = new BitSet();
        for (int i = 0; i < params.size(); i++) {
            if (lookupTables.contains(params.get(i).value())) tables.set(i);
        }
        return tables;
    }

    /**
     * The sum and update of a step with the update split over the ranks ({@link DataParallel#reduceScatterUpdate}):
     * the global norm from each rank's shares (float32 norms per share, squares summed in double, then over the ranks;
     * the tables, summed whole, once), the same check and clipping coefficient as {@link TrainStep#applyUpdate}, the
     * coefficient applied as the shares are updated. Returns the nanoseconds spent updating (the rest is
     * communication).
     */
    private long shardedUpdate(double lrMultiplier) {
        long[] updating = {0};
        TrainStep.withGradients(trainable(), (refs, grads) -> {
            BitSet tables = tableFlags(refs);
            List<NDArray> params = new ArrayList<>();
            for (ParamRef p : refs) params.add(p.value());
            try {
                dp.reduceScatterUpdate(grads, tables, params, (mine, whole) -> {
                    long u0 = System.nanoTime();
                    double mySquares;
                    double wholeSquares;
                    List<NDArray> wholeGrads = new ArrayList<>();
                    List<ParamRef> wholeRefs = new ArrayList<>();
                    for (int i = whole.nextSetBit(0); i >= 0; i = whole.nextSetBit(i + 1)) {
                        wholeGrads.add(grads.get(i));
                        wholeRefs.add(refs.get(i));
                    }
                    try (TrainingLock.Held lock = TrainingLock.acquire()) {
                        List<NDArray> sums = new ArrayList<>();
                        for (DataParallel.Share s : mine) sums.add(s.gradientSum());
                        mySquares = GradientClipping.sumOfSquares(sums);
                        wholeSquares = GradientClipping.sumOfSquares(wholeGrads);
                    }
                    long u1 = System.nanoTime();
                    double norm = Math.sqrt(dp.sum(new double[] {mySquares})[0] + wholeSquares);
                    long u2 = System.nanoTime();
                    if (!Double.isFinite(norm)) throw nonFinite("gradient norm", norm);
                    double maxNorm = args.maxGradNorm();
                    try (TrainingLock.Held lock = TrainingLock.acquire();
                            Autograd.AutoCloseableNoThrow noGrad = Autograd.noGrad()) {
                        double coef = GradientClipping.coefficient(maxNorm, norm);
                        if (coef != 1.0) GradientClipping.scale(wholeGrads, coef);
                        optimizer.setLrMultiplier(lrMultiplier);
                        // torch's g.mul_(coef) on float32 rounds coef so
                        optimizer.stepShares(refs, mine, whole, (float) coef);
                    }
                    lastGradNorm = maxNorm > 0 ? norm : Double.NaN;
                    updating[0] += (u1 - u0) + (System.nanoTime() - u2);
                    return () -> { // while the updated shares travel
                        long w0 = System.nanoTime();
                        try (TrainingLock.Held lock = TrainingLock.acquire()) {
                            optimizer.step(wholeRefs);
                        }
                        updating[0] += System.nanoTime() - w0;
                    };
                });
            } catch (IOException e) {
                throw new UncheckedIOException(
                        "rank " + dp.rank() + ": sharded gradient sum at step " + state.globalStep + " failed: "
                                + e.getMessage(),
                        e);
            }
            shardedRefs = List.copyOf(refs);
        });
        try (TrainingLock.Held lock = TrainingLock.acquire()) {
            Optimizer.zeroGrad(trainable());
        }
        return updating[0];
    }

    /**
     * Makes the optimizer state of a sharded run whole on every rank (each rank updated only its shares of it), so
     * that rank 0's checkpoint holds the state of an unsharded run. Called on every rank at the same step.
     */
    private void gatherShardedState() throws IOException {
        if (shardedRefs == null) return; // no sharded step yet: the state is whole (fresh or resumed)
        BitSet tables = tableFlags(shardedRefs);
        for (String slot : optimizer.slotNames()) {
            List<NDArray> arrays = new ArrayList<>();
            for (ParamRef p : shardedRefs) arrays.add(optimizer.stateArray(p.name(), slot));
            dp.allGatherShares(arrays, tables);
        }
    }

    /** HF {@code _maybe_log_save_evaluate}. */
    private void maybeLogSaveEvaluate(long epoch, long stepInEpoch) throws IOException {
        if (control.shouldLog && state.globalStep > lastLoggedStep) {
            Map<String, Object> logs = new LinkedHashMap<>();
            logs.put("loss", Evaluation.round4(trLoss / (state.globalStep - lastLoggedStep)));
            if (!Double.isNaN(lastGradNorm)) logs.put("grad_norm", lastGradNorm);
            logs.put("learning_rate", args.learningRate() * schedule.multiplier(state.globalStep));
            totalLoss += trLoss;
            trLoss = 0;
            lastLoggedStep = state.globalStep;
            handler.onLog(args, state, control, state.log(logs));
        }
        if (control.shouldEvaluate) {
            Map<String, Double> metrics = evaluate(true);
            boolean newBest = state.updateBestMetric(args, metrics, outputDir);
            if ("best".equals(args.saveStrategy())) control.shouldSave = newBest;
        }
        if (control.shouldSave) {
            if (shardedUpdates) gatherShardedState();
            if (main) saveCheckpoint(epoch, stepInEpoch);
            handler.onSave(args, state, control);
        }
    }

    /** Evaluates on every rank's eval share, merged; with {@code duringTraining}, logs and calls on_evaluate as HF. */
    Map<String, Double> evaluate(boolean duringTraining) throws IOException {
        if (world > 1) broadcastBuffers();
        Evaluation.Partial mine = fit.evaluatePartial(args.perDeviceEvalBatchSize());
        List<Evaluation.Partial> all = world == 1 ? List.of(mine) : gatherPartials(mine);
        evalExamples = 0;
        for (Evaluation.Partial p : all) evalExamples += p.examples();
        Map<String, Double> metrics = Evaluation.metrics(all);
        if (duringTraining) {
            handler.onLog(args, state, control, state.log(metrics));
            handler.onEvaluate(args, state, control, metrics);
        }
        return metrics;
    }

    /** Every rank's evaluation partial, in rank order (Java serialization of the small metric states). */
    private List<Evaluation.Partial> gatherPartials(Evaluation.Partial mine) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(mine);
        }
        List<Evaluation.Partial> all = new ArrayList<>();
        for (byte[] b : dp.allGather(bytes.toByteArray())) {
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(b))) {
                all.add((Evaluation.Partial) in.readObject());
            } catch (ClassNotFoundException e) {
                throw new IOException("cannot read an evaluation partial: " + e.getMessage(), e);
            }
        }
        return all;
    }

    private void saveCheckpoint(long epoch, long stepInEpoch) throws IOException {
        state.statefulCallbacks.put("TrainerControl", control.state());
        if (earlyStopping != null) state.statefulCallbacks.put("EarlyStoppingCallback", earlyStopping.state());
        RngState rng = new RngState(
                args.seed(), args.effectiveDataSeed(), epoch, stepInEpoch, Map.of("dropout_step", state.globalStep));
        checkpoints.save(state.globalStep, dir -> {
            fit.saveModel(dir);
            Trainer.writeCheckpointFiles(dir, optimizer, schedule, state, rng, args);
        });
        checkpoints.rotate(args.saveTotalLimit(), state.bestModelCheckpoint);
    }

    private Trainer.TrainOutput finish(double runtime, long startStep, Map<String, Double> initial) throws IOException {
        if (args.loadBestModelAtEnd() && state.bestModelCheckpoint != null) {
            if (main) loadBest();
            if (world > 1) dp.broadcastFromMain(replicated()); // rank 0 alone reads its checkpoints
        }
        totalLoss += trLoss;
        long stepsThisRun = Math.max(state.globalStep - startStep, 1);
        double trainLoss = totalLoss / stepsThisRun;
        long numSamples = args.maxSteps() > 0
                ? plan.maxSteps() * plan.totalTrainBatchSize()
                : (long) (numExamples() * args.numTrainEpochs());
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("train_runtime", Evaluation.round4(runtime));
        metrics.put("train_samples_per_second", Math.round(numSamples / runtime * 1000) / 1000.0);
        metrics.put("train_steps_per_second", Math.round(plan.maxSteps() / runtime * 1000) / 1000.0);
        metrics.put("total_flos", state.totalFlos);
        metrics.put("train_loss", trainLoss);
        if (world > 1) {
            metrics.put("train_world_size", world);
            metrics.put("train_optimizer_shards", shardedUpdates ? world : 1);
            metrics.put("train_compute_seconds", Evaluation.round4(computeNanos / 1e9));
            metrics.put("train_communication_seconds", Evaluation.round4(commNanos / 1e9));
        }
        handler.onLog(args, state, control, state.log(metrics));
        if (main && state.bestModelCheckpoint != null && Integer.valueOf(1).equals(args.saveTotalLimit())) {
            Path best = Path.of(state.bestModelCheckpoint).toAbsolutePath().normalize();
            for (Path c : checkpoints.checkpoints()) {
                if (!c.toAbsolutePath().normalize().equals(best)) CheckpointManager.deleteRecursively(c);
            }
        }
        handler.onTrainEnd(args, state, control);

        // run_glue.py after trainer.train(): save_model, train metrics, save_state, evaluate, eval metrics
        if (main) fit.saveModel(outputDir);
        if (main) args.writeJson(outputDir.resolve(CheckpointManager.TRAINING_ARGS_NAME));
        Map<String, Object> train = new LinkedHashMap<>(metrics);
        train.put("epoch", state.epoch);
        train.put("train_samples", numExamples());
        fit.addTrainResults(train);
        Map<String, Object> all = new LinkedHashMap<>(train);
        if (main) writeJson(outputDir.resolve("train_results.json"), train);
        if (main) state.save(outputDir.resolve(CheckpointManager.TRAINER_STATE_NAME));
        Map<String, Double> eval = new LinkedHashMap<>();
        if (fit.hasEvalData()) {
            eval.putAll(evaluate(true));
            eval.put("eval_samples", (double) evalExamples);
            Map<String, Object> evalOut = new LinkedHashMap<>(eval);
            evalOut.put("epoch", state.epoch);
            if (main) writeJson(outputDir.resolve("eval_results.json"), evalOut);
            all.putAll(evalOut);
        }
        if (main) {
            writeJson(outputDir.resolve("all_results.json"), all);
            writeProvenance(initial);
            TrainingCurves.write(outputDir.resolve(Trainer.CURVES), state.logHistory, fit.curveMetric());
        }
        return new Trainer.TrainOutput(
                state.globalStep, trainLoss, train, eval, initial, outputDir, state.bestModelCheckpoint);
    }

    private void loadBest() throws IOException {
        Path best = Path.of(state.bestModelCheckpoint);
        if (!Files.isDirectory(best)) {
            LOG.log(System.Logger.Level.WARNING, "best checkpoint " + best + " is gone; keeping the last weights");
            return;
        }
        LOG.log(System.Logger.Level.INFO, "loading best model from " + best + " (score: " + state.bestMetric + ")");
        fit.loadWeights(best);
    }

    private void writeProvenance(Map<String, Double> initial) throws IOException {
        Map<String, Object> p = new LinkedHashMap<>();
        String version = io.sparkformers.Sparkformers.version();
        p.put("library", "sparkformers");
        p.put("library_version", version);
        p.put("created", Instant.now().toString());
        p.put("resumed_from", resumeFrom == null ? null : resumeFrom.toString());
        p.putAll(fit.provenance(initial, evalExamples));
        p.put("seed", args.seed());
        p.put("data_seed", args.effectiveDataSeed());
        if (world > 1) p.put("world_size", world);
        p.put("training_args", args.toMap());
        writeJson(outputDir.resolve(Trainer.PROVENANCE), p);
    }

    static void writeJson(Path file, Map<String, ?> m) throws IOException {
        Files.createDirectories(file.getParent());
        Json.write(file, Json.MAPPER.valueToTree(m));
    }

    /** Parameter count (elements) of {@code params}. */
    static long elements(List<ParamRef> params) {
        long n = 0;
        for (ParamRef p : params) n += p.value().size();
        return n;
    }

    @Override
    public void close() {
        if (optimizer != null) optimizer.close();
        if (fit != null) fit.close();
    }
}
