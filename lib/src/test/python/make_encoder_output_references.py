"""Reference outputs for EncoderOutputsParityTest: HF models called with output_hidden_states=True and
output_attentions=True (Python transformers 4.57.6, eager attention).

Same environment as make_pipeline_references.py; run it after that script (it reads the tiny checkpoints that one
writes under parity/tiny) and after a lib test run has imported the built-in aliases:

    /tmp/qa-venv/bin/python lib/src/test/python/make_encoder_output_references.py \\
        lib/target/sparkformers-home/models lib/src/test/resources/parity

Each case is one checkpoint and a batch of texts of mixed lengths (one HF call per text: no padding on HF's side).
Per text: the token count, then
    hidden_states  per layer (the embeddings' output first, then every layer's): per token row
                   [first, second, last, sum, L2 norm]
    attentions     per layer, per head: the full (T, T) matrix, query row by key column (6 significant digits)
It also records, under "loading", what transformers reports when it loads the converted built-in aliases (keys
missing from or unexpected in the folder the project's importers wrote), for docs/parity.md.
Writes encoder_outputs.json.
"""
import json
import os
import sys

import numpy as np
import torch

import transformers
from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer

BANK = ["I sat on the river bank.", "I deposited money at the bank.", "bank"]
MIXED = ["Zoë Müller flew from Zürich to São Paulo 🎉", "Great!", "東京 is the capital of Japan."]

# name, checkpoint folder (alias under the models folder, or tiny/<name> under the output folder), texts
CASES = [
    ("bert_base_uncased_bank", "bert-base-uncased", BANK),
    ("minilm_mixed", "all-MiniLM-L6-v2", ["Zoë flew to São Paulo 🎉", "Great!"]),
    ("tiny_distilbert_mixed", "tiny/distilbert-mlm", MIXED + ["bank"]),
    ("tiny_roberta_mixed", "tiny/roberta-ner", MIXED + ["bank"]),
]


def sig(x):
    return float(f"{float(x):.6g}")


def main(models_dir, out_dir):
    assert transformers.__version__ == "4.57.6", transformers.__version__
    torch.set_num_threads(1)
    cases = []
    for name, ckpt, texts in CASES:
        folder = os.path.join(out_dir if ckpt.startswith("tiny/") else models_dir, ckpt)
        model = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()
        tokenizer = AutoTokenizer.from_pretrained(folder)
        expected = []
        for text in texts:
            enc = tokenizer(text, return_tensors="pt", truncation=True)
            with torch.no_grad():
                out = model(**enc, output_hidden_states=True, output_attentions=True)
            hidden = [[[sig(r[0]), sig(r[1]), sig(r[-1]), sig(r.sum()), sig(np.sqrt((r * r).sum()))]
                       for r in h[0].double().numpy()] for h in out.hidden_states]
            attentions = [[[[sig(p) for p in row] for row in head] for head in a[0].numpy()] for a in out.attentions]
            expected.append({"tokens": int(enc["input_ids"].shape[1]),
                             "token_strings": tokenizer.convert_ids_to_tokens(enc["input_ids"][0]),
                             "hidden_states": hidden, "attentions": attentions})
        cases.append({"name": name, "checkpoint": ckpt, "inputs": texts, "expected": expected})
        print(name, [e["tokens"] for e in expected])
    loading = {}
    for alias, cls in (("bert-base-uncased", AutoModelForMaskedLM), ("all-MiniLM-L6-v2", AutoModel),
                       ("bge-small-en-v1.5", AutoModel)):
        _, info = cls.from_pretrained(os.path.join(models_dir, alias), output_loading_info=True)
        loading[alias + " as " + cls.__name__] = {k: sorted(v) for k, v in info.items() if v}
        print(alias, loading[alias + " as " + cls.__name__])
    with open(os.path.join(out_dir, "encoder_outputs.json"), "w", encoding="utf-8") as f:
        json.dump({"transformers": transformers.__version__, "torch": torch.__version__, "loading": loading,
                   "cases": cases}, f,
                  ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
