"""One optimizer step of masked-LM and causal-LM training in PyTorch, as HF Trainer takes it, for OneStepParityTest.

    /tmp/qa-venv/bin/python lib/src/test/python/make_one_step_references.py lib/src/test/resources/onestep

Writes bert-mlm/ (a seeded tiny BertForMaskedLM, vocab 100) and references.json. For each objective, on a fixed batch
(fixed masks: labels -100 outside the masked positions; padding in row 1) with dropout off:
loss = model(**batch).loss (HF's MLM cross-entropy, or ForCausalLMLoss with the shift inside), loss.backward(),
grad_norm = clip_grad_norm_(params, 1.0) (HF max_grad_norm), then torch.optim.AdamW(lr 1e-3, betas (0.9, 0.999),
eps 1e-8) over HF Trainer's two groups (weight_decay 0.01, none for biases and LayerNorm weights), one step;
then the loss of the same batch after the step and a few updated parameters in full.
The causal LM is the committed tiny GPT-2 of the generation tests (generation/gpt2-tiny), dropout off.
"""
import json
import os
import sys

import torch
import transformers
from transformers import BertConfig, BertForMaskedLM, GPT2LMHeadModel

B, T = 2, 12


def batch(vocab, masked):
    ids = [[(i * 37 + 5) % vocab for i in range(r * T, (r + 1) * T)] for r in range(B)]
    mask = [[0 if r * T + t >= T + 9 else 1 for t in range(T)] for r in range(B)]
    labels = [[-100 if mask[r][t] == 0 or (masked and (r * T + t) % 3 != 0) else ((r * T + t) * 11 + 1) % vocab
               for t in range(T)] for r in range(B)]
    return ids, mask, labels


def one_step(model, vocab, masked, watch):
    torch.manual_seed(0)
    model.train()
    ids, mask, labels = batch(vocab, masked)
    kw = dict(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask), labels=torch.tensor(labels))
    if not masked:
        # the causal batch learns every non-pad token, as run_clm's labels = input_ids with padding -100
        kw["labels"] = torch.tensor([[ids[r][t] if mask[r][t] else -100 for t in range(T)] for r in range(B)])
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    decay = set(transformers.Trainer.get_decay_parameter_names(None, model))  # HF Trainer's own split
    groups = [
        {"params": [p for n, p in params if n in decay], "weight_decay": 0.01},
        {"params": [p for n, p in params if n not in decay], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    out = model(**kw)
    out.loss.backward()
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad()
    with torch.no_grad():
        after = model(**kw).loss
    state = dict(model.named_parameters())
    return {
        "input_ids": ids,
        "attention_mask": mask,
        "labels": kw["labels"].tolist(),
        "loss": out.loss.item(),
        "grad_norm": grad_norm.item(),
        "loss_after_step": after.item(),
        "params_after_step": {n: state[n].detach().flatten().tolist() for n in watch},
    }


def main(out_dir):
    torch.set_num_threads(1)
    here = os.path.dirname(os.path.abspath(__file__))
    gpt2_dir = os.path.join(here, "..", "resources", "generation", "gpt2-tiny")
    bert_dir = os.path.join(out_dir, "bert-mlm")
    torch.manual_seed(7)
    config = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=37, max_position_embeddings=64, type_vocab_size=2,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    bert = BertForMaskedLM(config)
    bert.save_pretrained(bert_dir, safe_serialization=True)
    bert = BertForMaskedLM.from_pretrained(bert_dir)
    gpt2 = GPT2LMHeadModel.from_pretrained(gpt2_dir, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    ref = {
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "optimizer": "AdamW lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0.01 (not biases/LayerNorm)",
        "max_grad_norm": 1.0,
        "masked_lm": one_step(bert, 100, True, [
            "bert.encoder.layer.1.output.dense.bias",
            "bert.embeddings.LayerNorm.weight",
            "cls.predictions.bias",
        ]),
        "causal_lm": one_step(gpt2, gpt2.config.vocab_size, False, [
            "transformer.h.1.mlp.c_proj.bias",
            "transformer.ln_f.weight",
            "transformer.h.0.mlp.c_fc.bias",  # not c_attn.bias: its key third gets only round-off (softmax ignores it), which Adam amplifies
        ]),
    }
    with open(os.path.join(out_dir, "references.json"), "w") as f:
        json.dump(ref, f)
    print(json.dumps({k: {kk: vv for kk, vv in v.items() if kk in ("loss", "grad_norm", "loss_after_step")}
                      for k, v in ref.items() if isinstance(v, dict)}))


if __name__ == "__main__":
    main(sys.argv[1])
