"""Peer of `bench generation`: transformers generate() on the checkpoint folders the Java side wrote.

Reads one request a line on stdin: "<threads> <folder> <batch> <prompt> <new>"; answers one line
"<seconds> <generated tokens per row>". The prompt ids are the same formula as GenerationBenchmark.promptIds.
"""
import sys
import time

import torch
from transformers import AutoModelForCausalLM

models = {}
for line in sys.stdin:
    threads, folder, batch, prompt, new = line.split()
    threads, batch, prompt, new = int(threads), int(batch), int(prompt), int(new)
    torch.set_num_threads(threads)
    if folder not in models:
        m = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
        m.generation_config.eos_token_id = None
        m.generation_config.pad_token_id = 0
        models[folder] = m
    m = models[folder]
    vocab = m.config.vocab_size
    ids = torch.tensor([[(31 * i + 17 * j + 5) % vocab for j in range(prompt)] for i in range(batch)])
    mask = torch.ones_like(ids)
    with torch.inference_mode():
        t0 = time.perf_counter()
        out = m.generate(ids, attention_mask=mask, max_new_tokens=new, do_sample=False, eos_token_id=None,
                         pad_token_id=0, use_cache=True)
        dt = time.perf_counter() - t0
    print(f"{dt} {out.shape[1] - prompt}", flush=True)
