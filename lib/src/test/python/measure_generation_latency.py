"""transformers' side of `bench generation --latency-token`: per-token latency at two prefix lengths.

The same measurement as GenerationBenchmark.interleaved, on the same checkpoint folder (the bench writes it, by default
under $TMPDIR/sparkformers-bench-generation/<model>): the prompt of GenerationBenchmark.promptIds (row 0, 8 tokens),
greedy, batch 1, HF's DynamicCache (what generate() uses); two caches, one advanced to token LATE - 6 and the other to
token EARLY - 6 untimed, then 11 steps of each, alternating, so both prefix lengths see the same background load; the
median step of each. A step is one model forward as generate() makes it (one new token, the attention mask grown by a
column, position_ids and cache_position of the new position) plus the argmax. Not a test: numbers depend on the machine.

    python measure_generation_latency.py FOLDER [--threads 1,2] [--early 10] [--late 500] [--runs 3]

Prints one line per thread count and run: "threads T run R: token 10 X ms, token 500 Y ms: Z x".
"""
import argparse
import statistics
import time

import torch
from transformers import AutoModelForCausalLM, DynamicCache

ap = argparse.ArgumentParser()
ap.add_argument("folder")
ap.add_argument("--threads", default="1,2")
ap.add_argument("--early", type=int, default=10)
ap.add_argument("--late", type=int, default=500)
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--prompt", type=int, default=8)
args = ap.parse_args()

model = AutoModelForCausalLM.from_pretrained(args.folder, dtype=torch.float32).eval()
vocab = model.config.vocab_size
ids = torch.tensor([[(17 * j + 5) % vocab for j in range(args.prompt)]])  # GenerationBenchmark.promptIds, row 0


def start():
    """The prefill; returns [cache, positions held, next token] (the prefill makes token 1)."""
    cache = DynamicCache()
    out = model(input_ids=ids, attention_mask=torch.ones_like(ids), past_key_values=cache, use_cache=True)
    return [cache, args.prompt, out.logits[:, -1].argmax(-1, keepdim=True)]


def step(state):
    cache, n, token = state
    out = model(input_ids=token, attention_mask=torch.ones(1, n + 1, dtype=torch.long), past_key_values=cache,
                position_ids=torch.tensor([[n]]), cache_position=torch.tensor([n]), use_cache=True)
    state[1] = n + 1
    state[2] = out.logits[:, -1].argmax(-1, keepdim=True)


with torch.inference_mode():
    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        for run in range(1, args.runs + 1):
            a, b = start(), start()
            for _ in range(1, args.late - 6):  # step t - 1 makes token t + 1
                step(b)
            for _ in range(1, args.early - 6):
                step(a)
            early_s, late_s = [], []
            for _ in range(11):
                t0 = time.perf_counter()
                step(a)
                t1 = time.perf_counter()
                step(b)
                late_s.append(time.perf_counter() - t1)
                early_s.append(t1 - t0)
            e, l = statistics.median(early_s) * 1e3, statistics.median(late_s) * 1e3
            print(f"threads {threads} run {run}: token {args.early} {e:.2f} ms, token {args.late} {l:.2f} ms: "
                  f"{l / e:.2f}x", flush=True)
