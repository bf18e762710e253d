package io.sparkformers.jobs.bench;

import static io.sparkformers.jobs.bench.Stats.median;

import ai.djl.Device;
import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.jobs.recipes.SpamLanguageModelRecipe;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.ParameterNames;
import io.sparkformers.nn.Task;
import io.sparkformers.train.AdamW;
import io.sparkformers.train.DataCollatorWithPadding;
import io.sparkformers.train.ParamGroup;
import io.sparkformers.train.ParamRef;
import io.sparkformers.train.TrainStep;
import io.sparkformers.train.TrainingLoss;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Fine-tuning throughput of a sequence classifier (every parameter trains, AdamW, clipping at 1.0): the time of one
 * optimizer step split into forward (with loss), backward and optimizer (clip + AdamW + zero grads), and the process's
 * resident memory ({@code VmRSS}) after warm-up, half-way and at the end, to show native memory does not grow.
 *
 * <p>With the reference Python at hand ({@link PythonPeer}) the same step runs in PyTorch eager with
 * {@code transformers} ({@code peers/torch_training.py}: the same checkpoint folder, batch, token ids, labels and
 * thread count, torch.optim.AdamW over HF's groups, clip_grad_norm_ 1.0), in rounds interleaved with ours; the
 * figures of both are medians over the rounds.
 */
public final class TrainingBenchmark {

    /** One measured run; times are medians over rounds of the per-step means. */
    public record Result(
            String model,
            int batch,
            int seqLength,
            int threads,
            int steps,
            double forwardMs,
            double backwardMs,
            double optimizerMs,
            long rssAfterWarmupKb,
            long rssMidKb,
            long rssEndKb,
            Split peer,
            String peerEngine) {
        public double stepMs() {
            return forwardMs + backwardMs + optimizerMs;
        }

        public double samplesPerSecond() {
            return batch * 1000.0 / stepMs();
        }

        public double tokensPerSecond() {
            return samplesPerSecond() * seqLength;
        }

        /** Our samples/s over the peer's, or NaN without a peer. */
        public double ratioToPeer() {
            return peer == null ? Double.NaN : peer.stepMs() / stepMs();
        }

        /** RSS growth over the timed steps, in MiB. */
        public double rssGrowthMib() {
            return (rssEndKb - rssAfterWarmupKb) / 1024.0;
        }
    }

    /** Median per-step times (ms) of the PyTorch peer over the rounds. */
    public record Split(double forwardMs, double backwardMs, double optimizerMs) {
        public double stepMs() {
            return forwardMs + backwardMs + optimizerMs;
        }
    }

    /** Timed steps per round at most; ours and the peer's rounds alternate, at least 5 rounds when steps allow. */
    static final int STEPS_PER_ROUND = 10;

    private TrainingBenchmark() {}

    /** @param fusedOptimizer AdamW's fused one-pass update (the default) or its op-by-op form */
    public static Result run(
            String alias, int batch, int seqLength, int threads, int warmup, int steps, boolean fusedOptimizer)
            throws IOException {
        Path dir = BuiltinModels.resolve(BuiltinModels.get(alias));
        long[] ids = ForwardBenchmark.randomIds(batch, seqLength);
        DataCollatorWithPadding.Batch b = classificationBatch(ids, batch, seqLength);
        try (HfModel model = sequenceClassifier(dir);
                AdamW adamw = new AdamW(ParamGroup.hfDefaults(5e-5, 0.01)).setFused(fusedOptimizer)) {
            List<ParamRef> params = everyParameter(model);
            TrainStep step = new TrainStep(
                    model.block(), model.manager(), DataCollatorWithPadding.LabelKind.SINGLE_LABEL, 0.0, false, params);
            for (int i = 0; i < warmup; i++) {
                step.forwardBackward(b, 1.0, i);
                step.applyUpdate(adamw, 1.0, 1.0);
            }
            PythonPeer peer = startPeer(dir, threads, ids, batch, seqLength, b.labelIds(), "sequence-classification");
            return measure(alias, batch, seqLength, threads, warmup, steps, step, adamw, b, peer);
        }
    }

    /**
     * Causal-LM training throughput (HF {@code run_clm.py}'s step: labels = input ids, shifted in the loss, every
     * parameter trains, AdamW over HF's decay groups, clipping at 1.0) of a GPT-2 built from its config at HF's
     * initialisation (GPT-2's 50,257-token vocabulary, {@code seqLength} positions), against the same random checkpoint
     * in PyTorch eager ({@code peers/torch_training.py causal-lm}) with the same token ids and threads.
     */
    public static Result runCausalLm(
            int nEmbd, int nLayer, int nHead, int batch, int seqLength, int threads, int warmup, int steps)
            throws IOException {
        Path dir = Files.createTempDirectory("sparkformers-bench-clm");
        try {
            var config = SpamLanguageModelRecipe.gpt2Config(seqLength, nEmbd, nLayer, nHead);
            SpamLanguageModelRecipe.writeInitialCheckpoint(config, null, 0, dir);
            long[] ids = ForwardBenchmark.randomIds(batch, seqLength);
            DataCollatorWithPadding.Batch b = causalLmBatch(ids, batch, seqLength);
            String name = "gpt2 " + nLayer + "x" + nEmbd + " (random, vocab " + config.path("vocab_size") + ")";
            try (HfModel model = HfModel.fromPretrained(HfCheckpoint.open(dir), Task.CAUSAL_LM, Device.cpu(), c -> c);
                    AdamW adamw = new AdamW(ParamGroup.hfDefaults(5e-5, 0.01))) {
                TrainStep step = new TrainStep(
                        model.block(),
                        model.manager(),
                        TrainingLoss.causalLanguageModeling(),
                        false,
                        everyParameter(model));
                for (int i = 0; i < warmup; i++) {
                    step.forwardBackward(b, 1.0, i);
                    step.applyUpdate(adamw, 1.0, 1.0);
                }
                PythonPeer peer = startPeer(dir, threads, ids, batch, seqLength, ids, "causal-lm");
                return measure(name, batch, seqLength, threads, warmup, steps, step, adamw, b, peer);
            }
        } finally {
            try (var walk = Files.walk(dir)) {
                for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
            }
        }
    }

    /**
     * A full-length sequence-classification batch of {@code batch} rows of {@code seqLength} tokens: no padding, token
     * type 0, labels alternating 0, 1 (HF's single-label classification).
     */
    static DataCollatorWithPadding.Batch classificationBatch(long[] ids, int batch, int seqLength) {
        long[] labels = new long[batch];
        for (int i = 0; i < batch; i++) labels[i] = i % 2;
        return unpadded(
                ids,
                batch,
                seqLength,
                new long[ids.length],
                DataCollatorWithPadding.LabelKind.SINGLE_LABEL,
                labels,
                new long[] {batch});
    }

    /**
     * A full-length causal-LM batch (HF {@code run_clm.py}): labels = input ids (shifted in the loss), no padding,
     * the third input the position ids, which GPT-2 reads there.
     */
    static DataCollatorWithPadding.Batch causalLmBatch(long[] ids, int batch, int seqLength) {
        long[] positions = new long[ids.length];
        for (int i = 0; i < positions.length; i++) positions[i] = i % seqLength;
        return unpadded(ids, batch, seqLength, positions, DataCollatorWithPadding.LabelKind.TOKEN, ids, new long[] {
            batch, seqLength
        });
    }

    private static DataCollatorWithPadding.Batch unpadded(
            long[] ids,
            int batch,
            int seqLength,
            long[] thirdInput,
            DataCollatorWithPadding.LabelKind kind,
            long[] labels,
            long[] labelShape) {
        long[] mask = new long[ids.length];
        Arrays.fill(mask, 1);
        int[] lengths = new int[batch];
        Arrays.fill(lengths, seqLength);
        return new DataCollatorWithPadding.Batch(
                batch, seqLength, ids, mask, thirdInput, lengths, kind, labels, new float[0], labelShape);
    }

    /** The checkpoint in {@code dir} as a single-label sequence classifier on the CPU. */
    static HfModel sequenceClassifier(Path dir) throws IOException {
        return HfModel.fromPretrained(
                HfCheckpoint.open(dir),
                Task.SEQUENCE_CLASSIFICATION,
                Device.cpu(),
                c -> c.put("problem_type", "single_label_classification"));
    }

    /** Every parameter of the model, by its checkpoint name: full fine-tuning. */
    static List<ParamRef> everyParameter(HfModel model) {
        List<ParamRef> params = new ArrayList<>();
        for (ParameterNames.Entry e : ParameterNames.of(model.block()).values()) {
            params.add(new ParamRef(e.name(), e.parameter().getArray()));
        }
        return params;
    }

    /** Timed rounds of ours and the peer's steps, interleaved; medians over the rounds. Closes the peer. */
    private static Result measure(
            String alias,
            int batch,
            int seqLength,
            int threads,
            int warmup,
            int steps,
            TrainStep step,
            AdamW adamw,
            DataCollatorWithPadding.Batch b,
            PythonPeer peer)
            throws IOException {
        try {
            if (peer != null) peer.request(stepsRequest(warmup));
            long rss0 = vmRssKb();
            long rssMid = rss0;
            int perRound = Math.max(1, Math.min(STEPS_PER_ROUND, steps / 5));
            int rounds = (steps + perRound - 1) / perRound;
            double[][] ours = new double[3][rounds];
            double[][] theirs = new double[3][rounds];
            int done = 0;
            for (int round = 0; round < rounds; round++) {
                int n = Math.min(perRound, steps - done);
                long fwd = 0;
                long bwd = 0;
                long opt = 0;
                for (int i = 0; i < n; i++) {
                    TrainStep.MicroResult r = step.forwardBackward(b, 1.0, warmup + done + i);
                    fwd += r.forwardNanos();
                    bwd += r.backwardNanos();
                    long t0 = System.nanoTime();
                    step.applyUpdate(adamw, 1.0, 1.0);
                    opt += System.nanoTime() - t0;
                    if (done + i == steps / 2) rssMid = vmRssKb();
                }
                ours[0][round] = fwd / 1e6 / n;
                ours[1][round] = bwd / 1e6 / n;
                ours[2][round] = opt / 1e6 / n;
                if (peer != null) {
                    var p = peer.request(stepsRequest(n));
                    theirs[0][round] = p.get("forward_ms").asDouble();
                    theirs[1][round] = p.get("backward_ms").asDouble();
                    theirs[2][round] = p.get("optimizer_ms").asDouble();
                }
                done += n;
                System.err.printf("training %s: round %d/%d done%n", alias, round + 1, rounds);
            }
            long rssEnd = vmRssKb();
            return new Result(
                    alias,
                    batch,
                    seqLength,
                    threads,
                    steps,
                    median(ours[0]),
                    median(ours[1]),
                    median(ours[2]),
                    rss0,
                    rssMid,
                    rssEnd,
                    peer == null ? null : new Split(median(theirs[0]), median(theirs[1]), median(theirs[2])),
                    peer == null ? null : "PyTorch eager + transformers (torch.optim.AdamW)");
        } finally {
            if (peer != null) peer.close();
        }
    }

    /** The PyTorch peer holding the same batch, or null (with the one skip line) without a reference Python. */
    private static PythonPeer startPeer(
            Path dir, int threads, long[] ids, int batch, int seqLength, long[] labels, String task)
            throws IOException {
        var python = PythonPeer.referencePython();
        if (python.isEmpty()) {
            System.err.println(PythonPeer.skipLine("training: PyTorch eager"));
            return null;
        }
        PythonPeer peer = PythonPeer.start(
                python.get(), "torch_training.py", List.of(dir.toString(), Integer.toString(threads), task));
        var req = io.sparkformers.hub.Json.MAPPER.createObjectNode();
        var rows = req.putArray("ids");
        for (int i = 0; i < batch; i++) {
            var row = rows.addArray();
            for (int j = 0; j < seqLength; j++) row.add(ids[i * seqLength + j]);
        }
        if (!task.equals("causal-lm")) { // causal LM: the labels are the ids
            var ls = req.putArray("labels");
            for (long l : labels) ls.add(l);
        }
        peer.request(req);
        return peer;
    }

    private static com.fasterxml.jackson.databind.node.ObjectNode stepsRequest(int n) {
        return io.sparkformers.hub.Json.MAPPER.createObjectNode().put("steps", n);
    }

    /** This process's resident set size from /proc/self/status (kB), or -1 where there is no /proc. */
    static long vmRssKb() throws IOException {
        return procStatusKb("VmRSS:");
    }

    /** A kB figure of /proc/self/status ({@code VmRSS:}, {@code VmHWM:}), or -1 where there is no /proc. */
    static long procStatusKb(String key) throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) return -1;
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith(key)) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        return -1;
    }
}
