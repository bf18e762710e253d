"""References for seq2seq training and long sources, from Python transformers, for Seq2SeqGradientParityTest and
EncoderDecoderStagesTest's truncation cases.

    /tmp/qa-venv/bin/python lib/src/test/python/make_seq2seq_training_references.py lib/src/test/resources/seq2seq-training

Reads the committed tiny checkpoints of make_seq2seq_references.py (lib/src/test/resources/seq2seq: bart-tiny,
t5-tiny, marian-tiny) and writes, per model:
  <model>/          config.json and model.safetensors of a seeded model with that architecture and config but HF's
                    default initialisation (init_std 0.02, initializer_factor 1.0) and every dropout 0. The parity
                    fixtures' wide init (0.2, 3.0), chosen for peaked next-token distributions, leaves the loss near
                    28 for T5 and its float32 gradients 2.5% off the float64 ones in PyTorch itself: no 1e-5 check
                    can hold there. The tokenizers stay in lib/src/test/resources/seq2seq.
  references.json   per model: the batch DataCollatorForSeq2Seq(model) makes of three (source, target) pairs of the
                    Apache License (HF run_summarization.py's preprocess: tokenizer(source, max_length=48,
                    truncation=True), tokenizer(text_target=target, max_length=16, truncation=True)) and the loss
                    model(**batch).loss; per model also HF's truncation of a long source, tokenizer(text,
                    truncation=True) (model_max_length) and with max_length=20, and the summarization pipeline's
                    output for it with truncation=True.
  <model>.safetensors  the gradients of that loss (loss.backward(), one training step's gradients), by parameter name.
"""
import json
import os
import sys

import torch
import transformers
from safetensors.torch import save_file
from transformers import AutoConfig, AutoModelForSeq2SeqLM, AutoTokenizer, DataCollatorForSeq2Seq, pipeline

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "resources", "seq2seq")
NO_DROPOUT = {"bart-tiny": dict(dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, init_std=0.02),
              "t5-tiny": dict(dropout_rate=0.0, initializer_factor=1.0),
              "marian-tiny": dict(dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, init_std=0.02)}
PAIRS = [
    ("Unless required by applicable law or agreed to in writing, Licensor provides the Work on an AS IS BASIS.",
     "Licensor provides the Work as is."),
    ("You may reproduce and distribute copies of the Work in any medium, with or without modifications.",
     "You may distribute copies."),
    ("Copyright notice.", "Notice."),
]
LONG = ("Subject to the terms and conditions of this License, each Contributor hereby grants to You a perpetual, "
        "worldwide, non-exclusive, no-charge, royalty-free, irrevocable copyright license to reproduce, prepare "
        "Derivative Works of, publicly display, publicly perform, sublicense, and distribute the Work and such "
        "Derivative Works in Source or Object form.")


def main(out):
    torch.set_num_threads(1)
    os.makedirs(out, exist_ok=True)
    refs = {"transformers": transformers.__version__, "torch": torch.__version__, "models": {}}
    for name, no_dropout in NO_DROPOUT.items():
        path = os.path.join(MODELS, name)
        tok = AutoTokenizer.from_pretrained(path)
        config = AutoConfig.from_pretrained(path, **no_dropout)
        torch.manual_seed(11)
        fixture = os.path.join(out, name)
        AutoModelForSeq2SeqLM.from_config(config).save_pretrained(fixture, safe_serialization=True)
        if os.path.exists(os.path.join(fixture, "generation_config.json")):
            os.remove(os.path.join(fixture, "generation_config.json"))
        model = AutoModelForSeq2SeqLM.from_pretrained(fixture, attn_implementation="eager")
        model.train()
        features = []
        for source, target in PAIRS:
            f = tok(source, max_length=48, truncation=True)
            f["labels"] = tok(text_target=target, max_length=16, truncation=True)["input_ids"]
            features.append(dict(f))
        batch = DataCollatorForSeq2Seq(tok, model=model, return_tensors="pt")(features)
        out_ = model(**batch)
        out_.loss.backward()
        grads = {n: p.grad.detach().clone().contiguous() for n, p in model.named_parameters() if p.grad is not None}
        save_file(grads, os.path.join(out, name + ".safetensors"))
        model.eval()
        summarizer = pipeline("summarization", model=path, tokenizer=path, framework="pt")
        summary = summarizer(LONG, truncation=True, max_new_tokens=8, num_beams=1)
        refs["models"][name] = {
            "pairs": [list(p) for p in PAIRS],
            "input_ids": batch["input_ids"].tolist(),
            "attention_mask": batch["attention_mask"].tolist(),
            "labels": batch["labels"].tolist(),
            "decoder_input_ids": batch["decoder_input_ids"].tolist(),
            "loss": out_.loss.item(),
            "long_text": LONG,
            "long_ids": tok(LONG)["input_ids"],
            "truncated_ids": tok(LONG, truncation=True)["input_ids"],
            "truncated_ids_20": tok(LONG, truncation=True, max_length=20)["input_ids"],
            "summary_truncated": summary[0]["summary_text"],
        }
        print(name, "loss", out_.loss.item(), "long", len(refs["models"][name]["long_ids"]), "->",
              len(refs["models"][name]["truncated_ids"]), repr(summary[0]["summary_text"]))
    with open(os.path.join(out, "references.json"), "w") as f:
        json.dump(refs, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "resources", "seq2seq-training"))
