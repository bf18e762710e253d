"""generate() references for the Llama family (LlamaGenerationParityTest), from Python transformers' own generate().

Run after make_llama_references.py (it reads the seeded checkpoints that script writes), with transformers 4.57.6
and torch 2.13 CPU (a venv as docs/DESIGN.md describes):

    /tmp/qa-venv/bin/python lib/src/test/python/make_llama_generation_references.py lib/src/test/resources/llama

Writes llama/generation.json: for each checkpoint folder (llama, llama3_tied, linear_sharded, dynamic,
mistral_window, qwen2_bias) a list of generate() cases on token-id prompts (no tokenizer: the models have a
128-token vocabulary, pad 0, bos 1, eos 2):
    greedy            one prompt of 7 tokens, 16 new tokens (past mistral's sliding window 4 and past the dynamic
                      case's max_position_embeddings 8, so the NTK base grows during decoding)
    greedy_batch      three prompts of 9, 4 and 6 tokens, left-padded with pad 0, 12 new tokens
    greedy_processors the batch with repetition_penalty 1.5, no_repeat_ngram_size 2 and min_new_tokens 3
    beam              two left-padded prompts, num_beams 3, num_return_sequences 2, eos = the token (not pad, bos or
                      eos) that greedy decoding emits most often (so that hypotheses finish), 10 new tokens
    beam_early        the batch, num_beams 4, early_stopping true, length_penalty 0.5, the same eos, 8 new tokens
Each case holds input_ids, attention_mask, the options passed to generate() (do_sample false), the output sequences,
sequences_scores for beams, and min_margin: the smallest gap between the best and second-best processed score over
every greedy step and row (it shows how far argmax is from a tie that a 1e-6 logit difference could flip).

"beam_sampling" (llama only): do_sample with num_beams 2, temperature 1.5, top_k 0 and 2 new tokens on one prompt,
generated for 1,024 rows; counts (2, V) of each token at each new position of the returned sequences.

Sampling cannot be compared draw for draw (torch's RNG is not Java's), so the file also holds, per checkpoint, the
distribution sampling draws the first new token from: "sampling" has a prompt batch, options (temperature 0.8,
top_k 20, top_p 0.9) and first_token_probs (B, V), the softmax of generate()'s processed first-step scores
(output_scores=True). The test draws many samples in Java and checks their frequencies against these
probabilities.
"""
import json
import math
import os
import sys

import torch
from transformers import AutoModelForCausalLM

torch.set_num_threads(1)
ROOT = sys.argv[1] if len(sys.argv) > 1 else "lib/src/test/resources/llama"
CASES = ["llama", "llama3_tied", "linear_sharded", "dynamic", "mistral_window", "qwen2_bias"]


def prompts(seed, lengths):
    g = torch.Generator().manual_seed(seed)
    t = max(lengths)
    ids = torch.zeros(len(lengths), t, dtype=torch.long)
    mask = torch.zeros(len(lengths), t, dtype=torch.long)
    for row, n in enumerate(lengths):
        ids[row, t - n:] = torch.randint(3, 128, (n,), generator=g)
        mask[row, t - n:] = 1
    return ids, mask


def min_margin(scores):
    """Smallest top-1 minus top-2 gap over the steps and rows of output_scores."""
    best = math.inf
    for s in scores:
        top = s.float().topk(2, dim=-1).values
        finite = torch.isfinite(top[:, 1])
        if finite.any():
            best = min(best, (top[finite, 0] - top[finite, 1]).min().item())
    return best


def reset_rope(model):
    """Dynamic rope keeps the longest length seen in module state across calls (dynamic_rope_update), so a second
    generate() on the same model object starts from the first one's frequencies. Each reference starts fresh, as a
    newly loaded model does (and as the Java side, which derives the frequencies from each call's positions)."""
    for m in model.modules():
        if hasattr(m, "original_inv_freq") and hasattr(m, "max_seq_len_cached"):
            m.register_buffer("inv_freq", m.original_inv_freq.clone(), persistent=False)
            m.max_seq_len_cached = m.original_max_seq_len


def run(model, name, ids, mask, **options):
    reset_rope(model)
    out = model.generate(input_ids=ids, attention_mask=mask, do_sample=False, return_dict_in_generate=True,
                         output_scores=True, **options)
    case = {"name": name, "options": options, "input_ids": ids.tolist(), "attention_mask": mask.tolist(),
            "sequences": out.sequences.tolist()}
    if getattr(out, "sequences_scores", None) is not None:
        case["sequences_scores"] = out.sequences_scores.tolist()
    else:
        case["min_margin"] = min_margin(out.scores)
    return case


def frequent_token(model, ids, mask):
    free = model.generate(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=20)
    tokens = free[:, ids.shape[1]:].reshape(-1).tolist()
    counts = {t: tokens.count(t) for t in tokens if t not in (0, 1, 2)}
    return max(counts, key=lambda t: (counts[t], -tokens.index(t)))


def beam_sampling(model, ids, mask, draws=1024, per_call=256):
    """Beam sampling (do_sample with num_beams 2, 2 new tokens): how often each token comes out at each new position
    of the returned sequence over `draws` generate() calls' worth of rows (one prompt repeated)."""
    options = dict(do_sample=True, num_beams=2, top_k=0, temperature=1.5, max_new_tokens=2)
    counts = [[0] * model.config.vocab_size for _ in range(2)]
    torch.manual_seed(1)
    for _ in range(draws // per_call):
        reset_rope(model)
        out = model.generate(input_ids=ids.repeat(per_call, 1), attention_mask=mask.repeat(per_call, 1), **options)
        for row in out[:, ids.shape[1]:].tolist():
            for pos, t in enumerate(row):
                counts[pos][t] += 1
    return {"options": options, "input_ids": ids.tolist(), "attention_mask": mask.tolist(), "draws": draws,
            "counts": counts}


def main():
    refs = {}
    for seed, name in enumerate(CASES):
        model = AutoModelForCausalLM.from_pretrained(os.path.join(ROOT, name), dtype=torch.float32,
                                                     attn_implementation="eager").eval()
        one, one_mask = prompts(3000 + seed, [7])
        batch, batch_mask = prompts(4000 + seed, [9, 4, 6])
        pair, pair_mask = prompts(5000 + seed, [6, 3])
        with torch.no_grad():
            eos = frequent_token(model, pair, pair_mask)
            cases = [
                run(model, "greedy", one, one_mask, max_new_tokens=16),
                run(model, "greedy_batch", batch, batch_mask, max_new_tokens=12),
                run(model, "greedy_processors", batch, batch_mask, max_new_tokens=12, repetition_penalty=1.5,
                    no_repeat_ngram_size=2, min_new_tokens=3),
                run(model, "beam", pair, pair_mask, max_new_tokens=10, num_beams=3, num_return_sequences=2,
                    eos_token_id=eos),
                run(model, "beam_early", batch, batch_mask, max_new_tokens=8, num_beams=4, early_stopping=True,
                    length_penalty=0.5, eos_token_id=eos),
            ]
            sampling = dict(do_sample=True, temperature=0.8, top_k=20, top_p=0.9, max_new_tokens=1)
            torch.manual_seed(0)
            reset_rope(model)
            out = model.generate(input_ids=pair, attention_mask=pair_mask, return_dict_in_generate=True,
                                 output_scores=True, **sampling)
            probs = torch.softmax(out.scores[0].float(), dim=-1)
        refs[name] = {"generate": cases,
                      "sampling": {"options": sampling, "input_ids": pair.tolist(),
                                   "attention_mask": pair_mask.tolist(), "first_token_probs": probs.tolist()}}
        if name == "llama":
            refs[name]["beam_sampling"] = beam_sampling(model, pair[:1, -6:], pair_mask[:1, -6:])
        print(name, "eos", eos, "margins", [round(c.get("min_margin", float("nan")), 4) for c in cases])
    with open(os.path.join(ROOT, "generation.json"), "w") as f:
        json.dump(refs, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
