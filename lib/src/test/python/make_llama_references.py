"""Reference outputs for the Llama-family parity tests (LlamaForCausalLMParityTest), from Python transformers itself.

Run with transformers 4.57.6 and torch 2.13 CPU (a venv as docs/DESIGN.md describes):

    /tmp/qa-venv/bin/python lib/src/test/python/make_llama_references.py lib/src/test/resources/llama

Each case gets a folder in Hugging Face layout, written by save_pretrained, plus the reference tensors:
    config.json                 the config (model_type llama, mistral or qwen2)
    model.safetensors           seeded random weights (or model-0000N-of-0000M.safetensors + index when sharded)
    reference.safetensors       input_ids / attention_mask / position_ids (B, T) of a left-padded batch of two
                                prompts (lengths 8 and 5), prefill_logits (B, T, V); then for steps 1..3 of
                                incremental decoding with the cache (use_cache=True, past_key_values as HF returns
                                them): step{i}_ids (B, 1) (the greedy token of the step before), step{i}_mask
                                (B, T + i), step{i}_positions (B, 1) and step{i}_logits (B, 1, V).

Cases (all tiny: hidden 32, 2 layers, 4 heads, 2 key/value heads, intermediate 64, vocab 128, eager attention):
    llama             untied head, no rope scaling, float32 weights
    llama3_tied       rope_scaling llama3 (factor 8, low 1, high 4, original 16: one frequency of each kind),
                      tied embeddings, weights saved in bfloat16
    linear_sharded    rope_scaling linear (factor 2, legacy key "type"), weights in shards of at most 20 kB
    dynamic           rope_scaling dynamic (factor 2) with max_position_embeddings 8: decoding passes it, so the
                      NTK base grows at steps 1-3
    mistral_window    mistral with sliding_window 4 (< 11 positions) and an explicit head_dim 16 (!= 32 / 4)
    qwen2_bias        qwen2 (q/k/v biases), use_sliding_window with max_window_layers 1 (layer 0 full, layer 1
                      sliding window 4), weights saved in float16
Every weight is re-drawn (N(0, 0.2), norms 1 + N(0, 0.1), biases N(0, 0.1)) so that parity is not trivial; the
references are computed by the model loaded back from the saved folder in float32, so they see the rounded
bf16/f16 weights exactly as the Java side does.
"""
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import (
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
)

torch.set_num_threads(1)

COMMON = dict(
    vocab_size=128,
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=64,
    rms_norm_eps=1e-6,
    bos_token_id=1,
    eos_token_id=2,
    pad_token_id=0,
)


def cases():
    yield "llama", LlamaConfig(**COMMON, tie_word_embeddings=False), LlamaForCausalLM, torch.float32, None
    yield "llama3_tied", LlamaConfig(
        **COMMON,
        tie_word_embeddings=True,
        rope_scaling={
            "rope_type": "llama3",
            "factor": 8.0,
            "low_freq_factor": 1.0,
            "high_freq_factor": 4.0,
            "original_max_position_embeddings": 16,
        },
    ), LlamaForCausalLM, torch.bfloat16, None
    yield "linear_sharded", LlamaConfig(
        **COMMON, tie_word_embeddings=False, rope_scaling={"type": "linear", "factor": 2.0}
    ), LlamaForCausalLM, torch.float32, "20kB"
    dynamic = dict(COMMON, max_position_embeddings=8)
    yield "dynamic", LlamaConfig(
        **dynamic, tie_word_embeddings=False, rope_scaling={"rope_type": "dynamic", "factor": 2.0}
    ), LlamaForCausalLM, torch.float32, None
    yield "mistral_window", MistralConfig(
        **COMMON, tie_word_embeddings=False, sliding_window=4, head_dim=16
    ), MistralForCausalLM, torch.float32, None
    yield "qwen2_bias", Qwen2Config(
        **COMMON, tie_word_embeddings=False, use_sliding_window=True, sliding_window=4, max_window_layers=1
    ), Qwen2ForCausalLM, torch.float16, None


def reseed(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g)
            if name.endswith("norm.weight"):
                p.copy_(1 + 0.1 * noise)
            elif name.endswith(".bias"):
                p.copy_(0.1 * noise)
            else:
                p.copy_(0.2 * noise)


def main(out_root):
    for seed, (name, config, cls, dtype, shard) in enumerate(cases()):
        torch.manual_seed(seed)
        config._attn_implementation = "eager"
        model = cls(config).eval()
        reseed(model, 1000 + seed)
        folder = os.path.join(out_root, name)
        os.makedirs(folder, exist_ok=True)
        for f in os.listdir(folder):
            os.remove(os.path.join(folder, f))
        saved = model.to(dtype)
        if shard:
            saved.save_pretrained(folder, max_shard_size=shard)
        else:
            saved.save_pretrained(folder)
        model = cls.from_pretrained(folder, torch_dtype=torch.float32, attn_implementation="eager").eval()

        g = torch.Generator().manual_seed(2000 + seed)
        lengths = [8, 5]
        t = max(lengths)
        ids = torch.zeros(len(lengths), t, dtype=torch.long)
        mask = torch.zeros(len(lengths), t, dtype=torch.long)
        for row, n in enumerate(lengths):
            ids[row, t - n :] = torch.randint(3, config.vocab_size, (n,), generator=g)
            mask[row, t - n :] = 1
        positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
        ref = {"input_ids": ids, "attention_mask": mask, "position_ids": positions}
        with torch.no_grad():
            out = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True)
            ref["prefill_logits"] = out.logits.float()
            past = out.past_key_values
            logits = out.logits
            for step in range(1, 4):
                nxt = logits[:, -1, :].argmax(-1, keepdim=True)
                mask = torch.cat([mask, torch.ones_like(nxt)], dim=1)
                positions = positions[:, -1:] + 1
                out = model(
                    input_ids=nxt, attention_mask=mask, position_ids=positions, past_key_values=past, use_cache=True
                )
                past = out.past_key_values
                logits = out.logits
                ref[f"step{step}_ids"] = nxt
                ref[f"step{step}_mask"] = mask
                ref[f"step{step}_positions"] = positions
                ref[f"step{step}_logits"] = logits.float()
        save_file({k: v.contiguous() for k, v in ref.items()}, os.path.join(folder, "reference.safetensors"))
        print(name, sorted(os.listdir(folder)))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "lib/src/test/resources/llama")
