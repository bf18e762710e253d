package io.sparkformers.nn;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.List;

/**
 * An encoder-decoder language model run as HF's {@code generate()} runs {@code *ForConditionalGeneration}: the
 * encoder once per input, then the decoder one position at a time over a {@link Cache} that holds every layer's
 * self-attention keys and values (growing by one position per step) and its cross-attention keys and values
 * (computed once from the encoder states, as HF's {@code EncoderDecoderCache}). The contract summarization and
 * translation run on, whatever the architecture (BART, T5).
 *
 * <p>Memory: outputs are attached to the manager of the ids passed in (the caller's per-step scope); the cache holds
 * its arrays in a manager of its own, freed by {@link Cache#close()}.
 */
public interface Seq2SeqLanguageModel {

    /**
     * The encoder, without gradients and without dropout.
     *
     * @param inputIds      (B, S) int64, right-padded
     * @param attentionMask (B, S) int64: 1 for tokens, 0 for padding
     * @return encoder last hidden state (B, S, H)
     */
    NDArray encode(NDArray inputIds, NDArray attentionMask);

    /**
     * A cache for decoding against {@code encoderStates}: each decoder layer's cross-attention keys and values are
     * computed here, once.
     *
     * @param encoderStates (B, S, H) from {@link #encode}
     * @param attentionMask (B, S) int64, the encoder's mask
     */
    Cache startDecoding(NDArray encoderStates, NDArray attentionMask);

    /**
     * One decoder forward pass after the cache's P positions, without gradients and without dropout.
     *
     * @param decoderInputIds (B, T) int64: the new decoder tokens (causal among themselves and after the cache)
     * @param cache           grown by T positions
     * @return logits (B, T, vocab) float32
     */
    NDArray decode(NDArray decoderInputIds, Cache cache);

    /** Size of the output distribution (HF {@code vocab_size}). */
    int vocabSize();

    /**
     * The decoder's additive causal mask for T queries after P cached positions: 0 where key j may be seen by query
     * i (j ≤ P + i), the float32 minimum elsewhere. (1, 1, T, P + T) float32.
     */
    static NDArray causalMask(NDManager manager, long p, long t) {
        NDArray keyPos = manager.arange(0, (int) (p + t), 1, ai.djl.ndarray.types.DataType.INT64)
                .reshape(1, p + t); // (1, P + T)
        NDArray queryPos = manager.arange((int) p, (int) (p + t), 1, ai.djl.ndarray.types.DataType.INT64)
                .reshape(t, 1); // (T, 1)
        return keyPos.lte(queryPos)
                .toType(ai.djl.ndarray.types.DataType.FLOAT32, false)
                .sub(1f)
                .mul(Float.MAX_VALUE)
                .reshape(1, 1, t, p + t); // (T, P + T) -> (1, 1, T, P + T)
    }

    /**
     * Per decoder layer, self-attention keys and values (B, nh, P, hd) and cross-attention keys and values (B, nh,
     * S, hd), plus the encoder's additive mask (B, 1, 1, S). {@link #select} reorders all of them (HF
     * {@code _reorder_cache}).
     */
    final class Cache implements AutoCloseable {

        private final Device device;
        private NDManager manager;
        private final NDArray[][] self;
        private final NDArray[][] cross;
        private NDArray encoderMask;
        private int length;

        /**
         * @param cross       per layer {key, value} (B, nh, S, hd); moved into the cache
         * @param encoderMask additive (B, 1, 1, S); moved into the cache
         */
        public Cache(Device device, NDArray[][] cross, NDArray encoderMask) {
            this.device = device;
            this.manager = NDManager.newBaseManager(device);
            this.cross = cross;
            this.self = new NDArray[cross.length][2];
            this.encoderMask = encoderMask;
            for (NDArray[] kv : cross) for (NDArray a : kv) a.attach(manager);
            encoderMask.attach(manager);
        }

        /** Positions decoded so far (P). */
        public int length() {
            return length;
        }

        /** Layer {@code layer}'s cached self-attention {key, value} (B, nh, P, hd), or nulls before the first step. */
        public NDArray[] self(int layer) {
            return self[layer].clone();
        }

        /** Layer {@code layer}'s cross-attention {key, value} (B, nh, S, hd). */
        public NDArray[] cross(int layer) {
            return cross[layer].clone();
        }

        /** The encoder's additive mask (B, 1, 1, S): 0 over tokens, the float32 minimum over padding. */
        public NDArray encoderMask() {
            return encoderMask;
        }

        /**
         * One decoder step over this cache, for a model's {@link Seq2SeqLanguageModel#decode}: {@code body} runs
         * without gradients in a sub-scope of the ids' manager, over per-layer arrays it may grow (self) or read
         * (cross, mask); the grown self-attention arrays move into the cache, the previous ones are freed, and so is
         * everything else the step made except the returned logits, which join the ids' manager.
         */
        public NDArray step(NDArray decoderInputIds, DecoderStep body) {
            int layers = self.length;
            NDArray[][] grown = new NDArray[layers][];
            NDArray[][] crossKv = new NDArray[layers][];
            List<NDArray> old = new ArrayList<>();
            for (int i = 0; i < layers; i++) {
                grown[i] = self[i].clone();
                crossKv[i] = cross[i].clone();
                for (NDArray a : self[i]) if (a != null) old.add(a);
            }
            NDManager caller = decoderInputIds.getManager();
            NDArray logits;
            try (NoGrad g = NoGrad.enter();
                    NDManager scope = caller.newSubManager()) {
                decoderInputIds.tempAttach(scope);
                for (NDArray a : old) a.tempAttach(scope);
                for (NDArray[] kv : cross) for (NDArray a : kv) a.tempAttach(scope);
                encoderMask.tempAttach(scope);
                long t = decoderInputIds.getShape().get(1);
                logits = body.run(new ParameterStore(scope, false), length, grown, crossKv, encoderMask);
                logits.attach(caller);
                for (int i = 0; i < layers; i++) {
                    for (int j = 0; j < 2; j++) {
                        grown[i][j].attach(manager);
                        self[i][j] = grown[i][j];
                    }
                }
                length += (int) t;
            }
            for (NDArray a : old) a.close();
            return logits;
        }

        /** The decoder forward a model runs in {@link #step}. */
        @FunctionalInterface
        public interface DecoderStep {
            /**
             * @param past        positions already cached (P)
             * @param self        per layer {k, v} (B, nh, P, hd) or nulls; replace with the grown (P + T) arrays
             * @param cross       per layer encoder {k, v} (B, nh, S, hd)
             * @param encoderMask additive (B, 1, 1, S)
             * @return logits (B, T, V)
             */
            NDArray run(ParameterStore ps, int past, NDArray[][] self, NDArray[][] cross, NDArray encoderMask);
        }

        /**
         * Keeps rows {@code rows} of every cached array, in that order (a row may be taken several times).
         *
         * @param rows (B') int64 row indices into the batch
         */
        public void select(NDArray rows) {
            NDManager chosen = NDManager.newBaseManager(device);
            NDIndex index = new NDIndex("{}", rows);
            for (NDArray[][] table : List.of(self, cross)) {
                for (NDArray[] kv : table) {
                    for (int j = 0; j < 2; j++) {
                        if (kv[j] == null) continue;
                        kv[j] = kv[j].get(index); // (B, nh, L, hd) -> (B', nh, L, hd)
                        kv[j].attach(chosen);
                    }
                }
            }
            encoderMask = encoderMask.get(index);
            encoderMask.attach(chosen);
            manager.close();
            manager = chosen;
        }

        @Override
        public void close() {
            manager.close();
        }
    }
}
