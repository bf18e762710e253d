package io.sparkformers.jobs.bench;

import static io.sparkformers.jobs.bench.Stats.median;

import ai.djl.Device;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.generation.CausalLmScorer;
import io.sparkformers.generation.GenerationConfig;
import io.sparkformers.generation.GenerationOutput;
import io.sparkformers.generation.Generator;
import io.sparkformers.generation.Seq2SeqScorer;
import io.sparkformers.generation.TokenScorer;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.CausalLanguageModel;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Seq2SeqLanguageModel;
import io.sparkformers.nn.Task;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The {@code bench generation} measurement: greedy decoding tokens/s of {@link Generator} over
 * {@link CausalLmScorer} against transformers' {@code generate()} (the peer, in a Python process of its own that
 * stays up across rounds) on the same checkpoint folders, the same prompts, the same thread count. The checkpoints
 * are written here from a config with seeded random weights (N(0, 0.02), as HF initialises them; speed does not
 * depend on the values): a GPT-2-small-shaped one and a small Llama-shaped one with grouped-query attention, and
 * encoder-decoders (a bart-base-shaped one, a tiny BART, a t5-small-shaped one) run as HF runs
 * {@code AutoModelForSeq2SeqLM.generate()}: the 32 prompt ids are the encoder's source row, the decoder starts from
 * {@code decoder_start_token_id} ({@link Seq2SeqScorer}, what Text2TextGenerationPipeline runs). Rounds
 * alternate ours and the peer so that both see the same machine load; medians of each. Not a test: numbers depend
 * on the machine.
 */
public final class GenerationBenchmark {
    private GenerationBenchmark() {}

    /** One measured shape: medians of seconds per generate() call and tokens/s (batch × new tokens / seconds). */
    public record Row(
            String model, int batch, int prompt, int newTokens, int threads, double oursSeconds, double peerSeconds) {
        public double oursTokensPerSecond() {
            return batch * newTokens / oursSeconds;
        }

        public double peerTokensPerSecond() {
            return batch * newTokens / peerSeconds;
        }

        /** Our tokens/s over the peer's: above 1, ours is faster. */
        public double ratio() {
            return peerSeconds / oursSeconds;
        }
    }

    /** The benchmark models: name → config.json. */
    static Map<String, ObjectNode> configs() {
        Map<String, ObjectNode> out = new LinkedHashMap<>();
        out.put(
                "gpt2-small-random",
                Json.MAPPER
                        .createObjectNode()
                        .put("model_type", "gpt2")
                        .put("architectures", "GPT2LMHeadModel")
                        .put("vocab_size", 50257)
                        .put("n_positions", 1024)
                        .put("n_embd", 768)
                        .put("n_layer", 12)
                        .put("n_head", 12)
                        .put("activation_function", "gelu_new")
                        .put("layer_norm_epsilon", 1e-5)
                        .put("bos_token_id", 50256)
                        .put("eos_token_id", 50256)
                        .put("tie_word_embeddings", true));
        out.put(
                "llama-small-random",
                Json.MAPPER
                        .createObjectNode()
                        .put("model_type", "llama")
                        .put("vocab_size", 32000)
                        .put("hidden_size", 512)
                        .put("intermediate_size", 1376)
                        .put("num_hidden_layers", 8)
                        .put("num_attention_heads", 8)
                        .put("num_key_value_heads", 4)
                        .put("max_position_embeddings", 2048)
                        .put("rms_norm_eps", 1e-6)
                        .put("rope_theta", 10000.0)
                        .put("hidden_act", "silu")
                        .put("bos_token_id", 1)
                        .put("eos_token_id", 2)
                        .put("tie_word_embeddings", false));
        // transformers reads "architectures" as a list
        out.values().forEach(c -> {
            if (c.has("architectures")) c.putArray("architectures").add("GPT2LMHeadModel");
            else c.putArray("architectures").add("LlamaForCausalLM");
        });
        out.putAll(encoderDecoderConfigs());
        return out;
    }

    /** The encoder-decoder benchmark models: bart-base's and t5-small's shapes, and tiny ones for tests. */
    static Map<String, ObjectNode> encoderDecoderConfigs() {
        Map<String, ObjectNode> out = new LinkedHashMap<>();
        out.put("bart-base-random", bart(50265, 768, 6, 12, 3072));
        out.put("bart-tiny-random", bart(1000, 32, 2, 4, 64));
        out.put("t5-small-random", t5(32128, 512, 64, 2048, 6, 8));
        out.put("t5-tiny-random", t5(1000, 32, 8, 64, 2, 4));
        return out;
    }

    private static ObjectNode t5(int vocab, int d, int dKv, int ff, int layers, int heads) {
        ObjectNode t5 = Json.MAPPER
                .createObjectNode()
                .put("model_type", "t5")
                .put("vocab_size", vocab)
                .put("d_model", d)
                .put("d_kv", dKv)
                .put("d_ff", ff)
                .put("num_layers", layers)
                .put("num_decoder_layers", layers)
                .put("num_heads", heads)
                .put("relative_attention_num_buckets", 32)
                .put("relative_attention_max_distance", 128)
                .put("feed_forward_proj", "relu")
                .put("layer_norm_epsilon", 1e-6)
                .put("is_encoder_decoder", true)
                .put("tie_word_embeddings", true)
                .put("pad_token_id", 0)
                .put("eos_token_id", 1)
                .put("decoder_start_token_id", 0);
        t5.putArray("architectures").add("T5ForConditionalGeneration");
        return t5;
    }

    private static ObjectNode bart(int vocab, int d, int layers, int heads, int ffn) {
        ObjectNode c = Json.MAPPER
                .createObjectNode()
                .put("model_type", "bart")
                .put("vocab_size", vocab)
                .put("max_position_embeddings", 1024)
                .put("d_model", d)
                .put("encoder_layers", layers)
                .put("decoder_layers", layers)
                .put("encoder_attention_heads", heads)
                .put("decoder_attention_heads", heads)
                .put("encoder_ffn_dim", ffn)
                .put("decoder_ffn_dim", ffn)
                .put("activation_function", "gelu")
                .put("scale_embedding", false)
                .put("is_encoder_decoder", true)
                .put("tie_word_embeddings", true)
                .put("pad_token_id", 1)
                .put("bos_token_id", 0)
                .put("eos_token_id", 2)
                .put("decoder_start_token_id", 2)
                .putNull("forced_eos_token_id");
        c.putArray("architectures").add("BartForConditionalGeneration");
        return c;
    }

    /** Whether a benchmark config is an encoder-decoder (BART, T5). */
    static boolean encoderDecoder(ObjectNode c) {
        String type = c.get("model_type").asText();
        return type.equals("bart") || type.equals("t5");
    }

    /** Whether the benchmark model {@code name} is an encoder-decoder (the latency/memory checks are decoders'). */
    public static boolean encoderDecoder(String name) {
        return encoderDecoderConfigs().containsKey(name);
    }

    /** The tensors of a BART or T5 config in HF's names, without the copies tied to the shared table. */
    private static Map<String, long[]> encoderDecoderTensors(ObjectNode c) {
        Map<String, long[]> t = new LinkedHashMap<>();
        long v = c.get("vocab_size").asLong();
        long h = c.get("d_model").asLong();
        if (c.get("model_type").asText().equals("bart")) {
            long f = c.get("encoder_ffn_dim").asLong();
            t.put("model.shared.weight", new long[] {v, h});
            t.put("final_logits_bias", new long[] {1, v});
            for (String stack : new String[] {"encoder", "decoder"}) {
                String s = "model." + stack + ".";
                t.put(
                        s + "embed_positions.weight",
                        new long[] {c.get("max_position_embeddings").asLong() + 2, h});
                t.put(s + "layernorm_embedding.weight", new long[] {h});
                t.put(s + "layernorm_embedding.bias", new long[] {h});
                for (int i = 0; i < c.get(stack + "_layers").asInt(); i++) {
                    String p = s + "layers." + i + ".";
                    List<String> attns =
                            stack.equals("encoder") ? List.of("self_attn") : List.of("self_attn", "encoder_attn");
                    for (String a : attns) {
                        for (String proj : new String[] {"k_proj", "v_proj", "q_proj", "out_proj"}) {
                            t.put(p + a + "." + proj + ".weight", new long[] {h, h});
                            t.put(p + a + "." + proj + ".bias", new long[] {h});
                        }
                        t.put(p + a + "_layer_norm.weight", new long[] {h});
                        t.put(p + a + "_layer_norm.bias", new long[] {h});
                    }
                    t.put(p + "fc1.weight", new long[] {f, h});
                    t.put(p + "fc1.bias", new long[] {f});
                    t.put(p + "fc2.weight", new long[] {h, f});
                    t.put(p + "fc2.bias", new long[] {h});
                    t.put(p + "final_layer_norm.weight", new long[] {h});
                    t.put(p + "final_layer_norm.bias", new long[] {h});
                }
            }
            return t;
        }
        long inner = c.get("num_heads").asLong() * c.get("d_kv").asLong();
        long f = c.get("d_ff").asLong();
        t.put("shared.weight", new long[] {v, h});
        for (String stack : new String[] {"encoder", "decoder"}) {
            boolean decoder = stack.equals("decoder");
            int layers = c.get(decoder ? "num_decoder_layers" : "num_layers").asInt();
            for (int i = 0; i < layers; i++) {
                String p = stack + ".block." + i + ".layer.";
                List<String> attns =
                        decoder ? List.of("0.SelfAttention", "1.EncDecAttention") : List.of("0.SelfAttention");
                for (String a : attns) {
                    t.put(p + a + ".q.weight", new long[] {inner, h});
                    t.put(p + a + ".k.weight", new long[] {inner, h});
                    t.put(p + a + ".v.weight", new long[] {inner, h});
                    t.put(p + a + ".o.weight", new long[] {h, inner});
                    t.put(p + a.charAt(0) + ".layer_norm.weight", new long[] {h});
                }
                if (i == 0) {
                    t.put(p + "0.SelfAttention.relative_attention_bias.weight", new long[] {
                        c.get("relative_attention_num_buckets").asLong(),
                        c.get("num_heads").asLong()
                    });
                }
                String ff = p + (decoder ? "2" : "1") + ".";
                t.put(ff + "DenseReluDense.wi.weight", new long[] {f, h});
                t.put(ff + "DenseReluDense.wo.weight", new long[] {h, f});
                t.put(ff + "layer_norm.weight", new long[] {h});
            }
            t.put(stack + ".final_layer_norm.weight", new long[] {h});
        }
        return t;
    }

    /** The tensors of a config: name → shape, in HF's names. */
    static Map<String, long[]> tensors(ObjectNode c) {
        if (encoderDecoder(c)) return encoderDecoderTensors(c);
        Map<String, long[]> t = new LinkedHashMap<>();
        long v = c.get("vocab_size").asLong();
        if (c.get("model_type").asText().equals("gpt2")) {
            long h = c.get("n_embd").asLong();
            t.put("transformer.wte.weight", new long[] {v, h});
            t.put("transformer.wpe.weight", new long[] {c.get("n_positions").asLong(), h});
            for (int i = 0; i < c.get("n_layer").asInt(); i++) {
                String p = "transformer.h." + i + ".";
                t.put(p + "ln_1.weight", new long[] {h});
                t.put(p + "ln_1.bias", new long[] {h});
                t.put(p + "attn.c_attn.weight", new long[] {h, 3 * h});
                t.put(p + "attn.c_attn.bias", new long[] {3 * h});
                t.put(p + "attn.c_proj.weight", new long[] {h, h});
                t.put(p + "attn.c_proj.bias", new long[] {h});
                t.put(p + "ln_2.weight", new long[] {h});
                t.put(p + "ln_2.bias", new long[] {h});
                t.put(p + "mlp.c_fc.weight", new long[] {h, 4 * h});
                t.put(p + "mlp.c_fc.bias", new long[] {4 * h});
                t.put(p + "mlp.c_proj.weight", new long[] {4 * h, h});
                t.put(p + "mlp.c_proj.bias", new long[] {h});
            }
            t.put("transformer.ln_f.weight", new long[] {h});
            t.put("transformer.ln_f.bias", new long[] {h});
        } else {
            long h = c.get("hidden_size").asLong();
            long hd = h / c.get("num_attention_heads").asLong();
            long kv = c.get("num_key_value_heads").asLong() * hd;
            long f = c.get("intermediate_size").asLong();
            t.put("model.embed_tokens.weight", new long[] {v, h});
            for (int i = 0; i < c.get("num_hidden_layers").asInt(); i++) {
                String p = "model.layers." + i + ".";
                t.put(p + "self_attn.q_proj.weight", new long[] {h, h});
                t.put(p + "self_attn.k_proj.weight", new long[] {kv, h});
                t.put(p + "self_attn.v_proj.weight", new long[] {kv, h});
                t.put(p + "self_attn.o_proj.weight", new long[] {h, h});
                t.put(p + "mlp.gate_proj.weight", new long[] {f, h});
                t.put(p + "mlp.up_proj.weight", new long[] {f, h});
                t.put(p + "mlp.down_proj.weight", new long[] {h, f});
                t.put(p + "input_layernorm.weight", new long[] {h});
                t.put(p + "post_attention_layernorm.weight", new long[] {h});
            }
            t.put("model.norm.weight", new long[] {h});
            t.put("lm_head.weight", new long[] {v, h});
        }
        return t;
    }

    /**
     * Writes the checkpoint folder {@code dir} (config.json, model.safetensors) unless it is there already: norms'
     * weights 1 and biases 0, everything else seeded N(0, 0.02).
     */
    public static Path ensureCheckpoint(Path dir, ObjectNode config) throws IOException {
        Path weights = dir.resolve("model.safetensors");
        if (Files.isRegularFile(weights) && Files.isRegularFile(dir.resolve("config.json"))) return dir;
        Files.createDirectories(dir);
        Map<String, long[]> tensors = tensors(config);
        ObjectNode header = Json.MAPPER.createObjectNode();
        long offset = 0;
        for (var e : tensors.entrySet()) {
            long n = Arrays.stream(e.getValue()).reduce(1, (a, b) -> a * b);
            ObjectNode t = header.putObject(e.getKey()).put("dtype", "F32");
            var shape = t.putArray("shape");
            for (long d : e.getValue()) shape.add(d);
            t.putArray("data_offsets").add(offset).add(offset + 4 * n);
            offset += 4 * n;
        }
        byte[] json = Json.MAPPER.writeValueAsBytes(header);
        Path tmp = dir.resolve("model.safetensors.tmp");
        SplittableRandom rnd = new SplittableRandom(17);
        try (FileChannel ch = FileChannel.open(
                tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer head = ByteBuffer.allocate(8 + json.length).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(json.length).put(json).flip();
            while (head.hasRemaining()) ch.write(head);
            ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (var e : tensors.entrySet()) {
                long n = Arrays.stream(e.getValue()).reduce(1, (a, b) -> a * b);
                String name = e.getKey();
                boolean norm = name.contains("ln_") || name.contains("norm");
                boolean zero = name.endsWith(".bias") || name.equals("final_logits_bias"); // HF: zeros
                float constant = zero ? 0f : 1f;
                for (long i = 0; i < n; i++) {
                    if (!buf.hasRemaining()) {
                        buf.flip();
                        while (buf.hasRemaining()) ch.write(buf);
                        buf.clear();
                    }
                    buf.putFloat(norm || zero ? constant : (float) (0.02 * gaussian(rnd)));
                }
            }
            buf.flip();
            while (buf.hasRemaining()) ch.write(buf);
        }
        Files.writeString(
                dir.resolve("config.json"),
                Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(config));
        Files.move(tmp, weights, StandardCopyOption.REPLACE_EXISTING);
        return dir;
    }

    private static double gaussian(SplittableRandom r) {
        // Box-Muller, one value per pair of draws: fast enough for 10^8 weights
        return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    /** The prompt ids of row i: the formula the peer script uses too. */
    static long[][] promptIds(int batch, int prompt, int vocab) {
        long[][] ids = new long[batch][prompt];
        for (int i = 0; i < batch; i++) for (int j = 0; j < prompt; j++) ids[i][j] = (31L * i + 17L * j + 5) % vocab;
        return ids;
    }

    /** The peer: transformers in a long-lived Python process, or null when none was given. */
    static final class Peer implements AutoCloseable {
        private final Process process;
        private final BufferedWriter in;
        private final BufferedReader out;

        Peer(String python) throws IOException {
            Path script = Files.createTempFile("sparkformers-generation-peer", ".py");
            script.toFile().deleteOnExit();
            try (InputStream s = GenerationBenchmark.class.getResourceAsStream("generation_peer.py")) {
                Files.copy(s, script, StandardCopyOption.REPLACE_EXISTING);
            }
            process = new ProcessBuilder(python, script.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            OutputStream o = process.getOutputStream();
            in = new BufferedWriter(new OutputStreamWriter(o, StandardCharsets.UTF_8));
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }

        /** Seconds of one generate() call; checks that it made {@code newTokens} tokens. */
        double run(int threads, Path dir, int batch, int prompt, int newTokens) throws IOException {
            in.write(threads + " " + dir + " " + batch + " " + prompt + " " + newTokens + "\n");
            in.flush();
            String line = out.readLine();
            if (line == null) throw new IOException("the transformers peer exited (its error is above)");
            String[] parts = line.trim().split(" ");
            if (Integer.parseInt(parts[1]) != newTokens) {
                throw new IOException("the peer generated " + parts[1] + " tokens, not " + newTokens);
            }
            return Double.parseDouble(parts[0]);
        }

        @Override
        public void close() throws IOException {
            in.close();
            try {
                if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) process.destroy();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroy();
            }
        }
    }

    /**
     * The peer Python: {@code option}, else {@code $SPARKFORMERS_REFERENCE_PYTHON}, else null (no peer). A given one
     * must exist.
     */
    public static String peerPython(String option) {
        String p = option != null ? option : System.getenv("SPARKFORMERS_REFERENCE_PYTHON");
        if (p == null || p.isBlank()) return null;
        if (!Files.isExecutable(Path.of(p))) {
            throw new IllegalArgumentException(
                    "reference Python " + p + " is not an executable file: pass --python with the path of a Python"
                            + " that has torch and transformers, or unset SPARKFORMERS_REFERENCE_PYTHON");
        }
        return p;
    }

    /**
     * Measures every model × batch: a warm-up call of each side, then {@code rounds} rounds of ours and the peer back
     * to back. Progress goes to stderr.
     *
     * @param python the peer's Python, or null to measure ours only (peer seconds NaN)
     */
    public static List<Row> run(
            Path root,
            List<String> models,
            int[] batches,
            int prompt,
            int newTokens,
            int threads,
            int rounds,
            String python)
            throws Exception {
        Map<String, ObjectNode> configs = configs();
        List<Row> rows = new ArrayList<>();
        GenerationConfig config = GenerationConfig.fromJson(
                Json.MAPPER.createObjectNode().put("max_new_tokens", newTokens).put("do_sample", false));
        try (Peer peer = python == null ? null : new Peer(python)) {
            for (String name : models) {
                ObjectNode c = configs.get(name);
                if (c == null) {
                    throw new IllegalArgumentException(
                            "unknown generation benchmark model '" + name + "' (models: " + configs.keySet() + ")");
                }
                System.err.println("bench generation: " + name + " checkpoint in " + root.resolve(name));
                Path dir = ensureCheckpoint(root.resolve(name), c);
                boolean seq2seq = encoderDecoder(c);
                Task task = seq2seq ? Task.SEQ2SEQ_LM : Task.CAUSAL_LM;
                try (HfModel m = HfModel.fromPretrained(HfCheckpoint.open(dir), task, Device.cpu())) {
                    int vocab = seq2seq
                            ? ((Seq2SeqLanguageModel) m.block()).vocabSize()
                            : ((CausalLanguageModel) m.block()).vocabSize();
                    for (int batch : batches) {
                        long[][] ids = promptIds(batch, prompt, vocab);
                        long[][] mask = new long[batch][prompt];
                        for (long[] r : mask) Arrays.fill(r, 1L);
                        // decoders continue the prompt; encoder-decoders read it as the source and start the decoder
                        // from decoder_start_token_id, as AutoModelForSeq2SeqLM.generate() does
                        Generator.ScorerFactory scorers = seq2seq
                                ? Seq2SeqScorer.factory((Seq2SeqLanguageModel) m.block(), ids, mask, Device.cpu())
                                : (x, mk) -> new CausalLmScorer((CausalLanguageModel) m.block(), x, mk, Device.cpu());
                        long[][][] start = seq2seq
                                ? Seq2SeqScorer.decoderPrompt(
                                        batch, c.get("decoder_start_token_id").asLong())
                                : new long[][][] {ids, mask};
                        double[] ours = new double[rounds];
                        double[] theirs = new double[rounds];
                        ours(scorers, start, config, newTokens); // warm-up
                        if (peer != null) peer.run(threads, dir, batch, prompt, newTokens);
                        for (int r = 0; r < rounds; r++) {
                            ours[r] = ours(scorers, start, config, newTokens);
                            theirs[r] = peer == null ? Double.NaN : peer.run(threads, dir, batch, prompt, newTokens);
                            System.err.printf(
                                    "bench generation: %s batch %d round %d/%d: ours %.2f s, transformers %.2f s%n",
                                    name, batch, r + 1, rounds, ours[r], theirs[r]);
                        }
                        rows.add(new Row(name, batch, prompt, newTokens, threads, median(ours), median(theirs)));
                    }
                }
            }
        }
        return rows;
    }

    /** Seconds of one generate() call from {@code start} (ids, mask); checks that it made {@code newTokens}. */
    private static double ours(
            Generator.ScorerFactory scorers, long[][][] start, GenerationConfig config, int newTokens) {
        long t0 = System.nanoTime();
        GenerationOutput out = Generator.generate(scorers, start[0], start[1], config, null);
        double s = (System.nanoTime() - t0) / 1e9;
        int made = out.sequences()[0].length - start[0][0].length;
        if (made != newTokens) throw new IllegalStateException("generated " + made + " tokens, not " + newTokens);
        return s;
    }

    /**
     * The scaling checks on one model at batch 1: per-token latency at two prefix lengths, and peak resident
     * memory against weights + KV cache.
     *
     * @param earlyMs     median milliseconds of the decode steps that make new tokens {@code early - 5 .. early + 5},
     *                    timed alternately with those of {@code lateMs} from a second cache (same background load)
     * @param lateMs      the same around token {@code late}
     * @param weightBytes parameters × 4 (F32)
     * @param kvBytes     keys and values of every layer for prompt + new tokens: 2 × layers × batch × kv heads ×
     *                    head size × positions × 4
     * @param peakBytes   the process's peak resident memory during generation (VmHWM, reset after the load) minus
     *                    its resident memory before the load; -1 where /proc cannot reset the peak
     * @param loadPeakBytes the same during the load (VmHWM reset before it); -1 likewise
     * @param loadedBytes resident memory after the load minus before it
     * @param anonPeakBytes the largest anonymous resident memory (RssAnon: the heap, libtorch's tensors, the cache;
     *                    not the checkpoint's file pages, which the kernel may drop) seen at any decode step, minus
     *                    the anonymous memory before the load; -1 off Linux
     * @param nativePeakBytes the same for the anonymous memory outside the Java heap (RssAnon minus the resident
     *                    pages of the heap's address range in /proc/self/smaps): libtorch's tensors, the KV cache, MKL
     *                    and OpenMP buffers; -1 where the heap's range or smaps cannot be read
     * @param heapPeakBytes the Java heap's resident pages at the end of generation minus before the load: young
     *                    generation pages the collector has touched (DJL allocates ~0.6 MiB of Java objects per decode
     *                    step, so G1's eden fills and every page of it stays resident); -1 likewise
     */
    public record Scaling(
            String model,
            int prompt,
            int newTokens,
            int early,
            int late,
            double earlyMs,
            double lateMs,
            long weightBytes,
            long kvBytes,
            long peakBytes,
            long loadPeakBytes,
            long loadedBytes,
            long anonPeakBytes,
            long nativePeakBytes,
            long heapPeakBytes) {
        /** Token {@code late}'s cost over token {@code early}'s (goal <= 1.5: flat in the prefix length). */
        public double latencyRatio() {
            return lateMs / earlyMs;
        }

        /** Peak anonymous memory outside the Java heap over weights + KV cache (goal <= 1.2). */
        public double memoryRatio() {
            return nativePeakBytes < 0 ? Double.NaN : (double) nativePeakBytes / (weightBytes + kvBytes);
        }

        /** Peak anonymous memory with the Java heap over weights + KV cache. */
        public double anonRatio() {
            return anonPeakBytes < 0 ? Double.NaN : (double) anonPeakBytes / (weightBytes + kvBytes);
        }
    }

    /**
     * Loads {@code name} afresh and generates {@code late + 10} tokens greedily after a prompt of {@code prompt}
     * tokens, timing every decode step (a {@link TokenScorer} wrapper around {@link CausalLmScorer}); the peak
     * resident memory is reset (/proc/self/clear_refs) before the load and again before generating. Run it first in a
     * fresh JVM for a clean baseline.
     */
    public static Scaling scaling(Path root, String name, int prompt, int early, int late) throws Exception {
        ObjectNode c = configs().get(name);
        if (c == null) {
            throw new IllegalArgumentException("unknown generation benchmark model '" + name + "' (models: "
                    + configs().keySet() + ")");
        }
        Path dir = ensureCheckpoint(root.resolve(name), c);
        int newTokens = late + 10;
        try (ai.djl.ndarray.NDManager warm = ai.djl.ndarray.NDManager.newBaseManager()) {
            warm.zeros(new ai.djl.ndarray.types.Shape(1)); // libtorch loaded before the baseline
        }
        System.gc();
        long before = procStatusKb("VmRSS");
        long anonBefore = procStatusKb("RssAnon");
        long[] heapRange = javaHeapRange();
        long heapBefore = residentKb(heapRange);
        long[] anonPeakKb = {-1, -1}; // RssAnon, RssAnon outside the Java heap
        boolean reset = resetPeak();
        long weights = 0;
        for (long[] shape : tensors(c).values())
            weights += 4 * Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        long[] stepNanos = new long[newTokens];
        long loadPeak;
        long loaded;
        try (HfModel m = HfModel.fromPretrained(HfCheckpoint.open(dir), Task.CAUSAL_LM, Device.cpu())) {
            loadPeak = reset ? (procStatusKb("VmHWM") - before) * 1024 : -1;
            System.gc();
            loaded = (procStatusKb("VmRSS") - before) * 1024;
            reset = reset && resetPeak();
            CausalLanguageModel lm = (CausalLanguageModel) m.block();
            long[][] ids = promptIds(1, prompt, lm.vocabSize());
            long[][] mask = new long[1][prompt];
            Arrays.fill(mask[0], 1L);
            GenerationConfig config = GenerationConfig.fromJson(Json.MAPPER
                    .createObjectNode()
                    .put("max_new_tokens", newTokens)
                    .put("do_sample", false));
            GenerationOutput out = Generator.generate(
                    (x, mk) -> new TimedScorer(
                            new CausalLmScorer(lm, x, mk, Device.cpu()), stepNanos, anonPeakKb, heapRange),
                    ids,
                    mask,
                    config,
                    null);
            int made = out.sequences()[0].length - prompt;
            if (made != newTokens) throw new IllegalStateException("generated " + made + " tokens, not " + newTokens);
            interleaved(lm, ids, mask, early, late, stepNanos);
        }
        long heapAfter = residentKb(heapRange);
        long peak = reset ? (procStatusKb("VmHWM") - before) * 1024 : -1;
        boolean gpt2 = c.get("model_type").asText().equals("gpt2");
        long layers =
                gpt2 ? c.get("n_layer").asLong() : c.get("num_hidden_layers").asLong();
        long kvWidth = gpt2
                ? c.get("n_embd").asLong()
                : c.get("num_key_value_heads").asLong()
                        * (c.get("hidden_size").asLong()
                                / c.get("num_attention_heads").asLong());
        long kv = 2 * layers * kvWidth * (prompt + newTokens) * 4;
        return new Scaling(
                name,
                prompt,
                newTokens,
                early,
                late,
                stepMs(stepNanos, early),
                stepMs(stepNanos, late),
                weights,
                kv,
                peak,
                loadPeak,
                loaded,
                anonPeakKb[0] < 0 || anonBefore < 0 ? -1 : (anonPeakKb[0] - anonBefore) * 1024,
                anonPeakKb[1] < 0 || heapBefore < 0 ? -1 : (anonPeakKb[1] - (anonBefore - heapBefore)) * 1024,
                heapAfter < 0 || heapBefore < 0 ? -1 : (heapAfter - heapBefore) * 1024);
    }

    /**
     * The Java heap's reserved address range [from, to) as the collector prints it ({@code GC.heap_info}: "... used
     * 24576K [0x0000000680000000, 0x0000000800000000)"), or null where it cannot be read.
     */
    static long[] javaHeapRange() {
        try {
            Object info = java.lang.management.ManagementFactory.getPlatformMBeanServer()
                    .invoke(
                            new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"),
                            "gcHeapInfo",
                            new Object[] {new String[0]},
                            new String[] {String[].class.getName()});
            var m = java.util.regex.Pattern.compile("\\[0x([0-9a-f]+), 0x([0-9a-f]+)\\)")
                    .matcher(String.valueOf(info));
            return m.find()
                    ? new long[] {Long.parseUnsignedLong(m.group(1), 16), Long.parseUnsignedLong(m.group(2), 16)}
                    : null;
        } catch (Exception | LinkageError e) {
            return null;
        }
    }

    /**
     * Resident kB of the mappings inside {@code range} (/proc/self/smaps), or -1 where the range or smaps is missing.
     */
    static long residentKb(long[] range) {
        if (range == null) return -1;
        try (BufferedReader r = Files.newBufferedReader(Path.of("/proc/self/smaps"))) {
            long kb = 0;
            boolean inside = false;
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                int dash = line.indexOf('-');
                int space = line.indexOf(' ');
                if (dash > 0 && space > dash) {
                    long from = Long.parseUnsignedLong(line, 0, dash, 16);
                    long to = Long.parseUnsignedLong(line, dash + 1, space, 16);
                    inside = from >= range[0] && to <= range[1];
                } else if (inside && line.startsWith("Rss:")) {
                    kb += Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
            return kb;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * Per-token latency robust to a loaded machine: two greedy decodes of the same prompt, one advanced to token
     * {@code late - 6}, the other to {@code early - 6} (untimed), then 11 steps of each, alternating, so both prefix
     * lengths see the same background load; their step times replace {@code stepNanos} around the two tokens.
     */
    private static void interleaved(
            CausalLanguageModel lm, long[][] ids, long[][] mask, int early, int late, long[] stepNanos) {
        try (TokenScorer a = new CausalLmScorer(lm, ids, mask, Device.cpu());
                TokenScorer b = new CausalLmScorer(lm, ids, mask, Device.cpu())) {
            long[] ta = {argmax(a.next(null)[0])}; // the prefill makes token 1
            long[] tb = {argmax(b.next(null)[0])};
            for (int t = 1; t < late - 6; t++) tb[0] = argmax(b.next(tb)[0]); // step t - 1 makes token t + 1
            for (int t = 1; t < early - 6; t++) ta[0] = argmax(a.next(ta)[0]);
            for (int i = 0; i < 11; i++) {
                long t0 = System.nanoTime();
                ta[0] = argmax(a.next(ta)[0]);
                long t1 = System.nanoTime();
                tb[0] = argmax(b.next(tb)[0]);
                stepNanos[early - 6 + i] = t1 - t0;
                stepNanos[late - 6 + i] = System.nanoTime() - t1;
            }
        }
    }

    private static int argmax(float[] row) {
        int best = 0;
        for (int i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    /**
     * Median milliseconds of the steps making new tokens {@code token - 5 .. token + 5}: step {@code i} (0-based, the
     * prefill excluded) reads a prefix of prompt + i tokens and makes token i + 1... so token t comes from step t - 1.
     */
    private static double stepMs(long[] stepNanos, int token) {
        double[] w = new double[11];
        for (int i = 0; i < w.length; i++) w[i] = stepNanos[token - 6 + i] / 1e6;
        return median(w);
    }

    /** Records the wall time of every decode step (index = steps after the prefill, 0-based) of a scorer. */
    private static final class TimedScorer implements TokenScorer {
        private final TokenScorer inner;
        private final long[] stepNanos;
        private int step = -1;

        private final long[] anonPeakKb;
        private final long[] heapRange;

        TimedScorer(TokenScorer inner, long[] stepNanos, long[] anonPeakKb, long[] heapRange) {
            this.inner = inner;
            this.stepNanos = stepNanos;
            this.anonPeakKb = anonPeakKb;
            this.heapRange = heapRange;
        }

        @Override
        public float[][] next(long[] tokens) {
            long t0 = System.nanoTime();
            float[][] logits = inner.next(tokens);
            if (step >= 0 && step < stepNanos.length) stepNanos[step] = System.nanoTime() - t0;
            step++;
            long anon = procStatusKb("RssAnon"); // outside the timed span
            long heap = residentKb(heapRange);
            anonPeakKb[0] = Math.max(anonPeakKb[0], anon);
            if (anon >= 0 && heap >= 0) anonPeakKb[1] = Math.max(anonPeakKb[1], anon - heap);
            return logits;
        }

        @Override
        public void reorder(int[] rows) {
            inner.reorder(rows);
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    /** A field of /proc/self/status in kB, or -1 off Linux. */
    static long procStatusKb(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /** Resets the process's peak resident memory (VmHWM) to the current one: "5" into /proc/self/clear_refs. */
    private static boolean resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | SecurityException e) {
            return false;
        }
    }
}
