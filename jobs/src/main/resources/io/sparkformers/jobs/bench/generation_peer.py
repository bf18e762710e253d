"""Peer of `bench generation`: transformers generate() on the checkpoint folders the Java side wrote.

Reads one request a line on stdin: "<threads> <folder> <batch> <prompt> <new>"; answers one line
"<seconds> <generated tokens per row>". The prompt ids are the same formula as GenerationBenchmark.promptIds.
Decoders (AutoModelForCausalLM) continue them; encoder-decoders (AutoModelForSeq2SeqLM: BART, T5) read them as the
source and decode from decoder_start_token_id, so a row's output is that token plus the new ones.
"""
import sys
import time

import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM

models = {}
for line in sys.stdin:
    threads, folder, batch, prompt, new = line.split()
    threads, batch, prompt, new = int(threads), int(batch), int(prompt), int(new)
    torch.set_num_threads(threads)
    if folder not in models:
        seq2seq = AutoConfig.from_pretrained(folder).is_encoder_decoder
        auto = AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM
        m = auto.from_pretrained(folder, dtype=torch.float32).eval()
        m.generation_config.eos_token_id = None
        m.generation_config.pad_token_id = 0
        # BART's config defaults force EOS at max_length: off, so both sides make the same greedy tokens
        m.generation_config.forced_eos_token_id = None
        m.generation_config.forced_bos_token_id = None
        models[folder] = m
    m = models[folder]
    vocab = m.config.vocab_size
    ids = torch.tensor([[(31 * i + 17 * j + 5) % vocab for j in range(prompt)] for i in range(batch)])
    mask = torch.ones_like(ids)
    with torch.inference_mode():
        t0 = time.perf_counter()
        out = m.generate(ids, attention_mask=mask, max_new_tokens=new, min_new_tokens=new, do_sample=False,
                         num_beams=1, eos_token_id=None, pad_token_id=0, use_cache=True)
        dt = time.perf_counter() - t0
    start = 1 if m.config.is_encoder_decoder else prompt
    print(f"{dt} {out.shape[1] - start}", flush=True)
