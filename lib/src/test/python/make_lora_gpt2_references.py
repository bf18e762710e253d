"""Reference GPT-2 LoRA adapters, logits and gradients for LoraGpt2ParityTest: Python peft on the seeded tiny GPT-2.

Needs the Python environment of make_lora_references.py (transformers 4.57.6, torch 2.13 CPU, peft 0.21). Run:

    /tmp/qa-venv/bin/python lib/src/test/python/make_lora_gpt2_references.py \
        lib/src/test/resources/generation/gpt2-tiny lib/src/test/resources/lora/gpt2

The base is the seeded random tiny GPT-2 of make_generation_references.py (2 layers, n_embd 64, vocab 512), loaded
with its dropouts (attn/embd/resid_pdrop) set to 0 so that the only random draws of a training forward are LoRA's.

1. peft-adapter/: a PEFT adapter made here, fan_in_fan_out=True (GPT-2's Conv1D layers hold their weight (in, out)),
   r=4, lora_alpha=8, lora_dropout=0.3 on c_attn, c_proj (attention and MLP) and c_fc, lora_B seeded random (PEFT's
   zeros would make it a no-op). references.json gets, on INPUT_IDS:
   - peft_eval_logits: base + adapter reloaded from disk, eval mode (unmerged: PEFT adds B·A·scaling itself);
   - peft_merged_logits: after merge_and_unload();
   - train: for lora_dropout 0.3 and 0.0, the causal-LM loss (labels = input_ids, HF's shift inside) of one training
     forward after torch.manual_seed(TRAIN_SEED) and the gradients of every lora_A / lora_B after its backward, under
     PEFT's saved key names. Dropout draws its masks from libtorch's generator; DJL's libtorch draws the same masks
     after the same seed (checked for torch 2.13 against DJL's libtorch 2.7.1), and the LoRA layers draw in the same
     order on both sides (per block: attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj).
2. ours-adapter/ (when present): an adapter our LoRA training wrote for the same base (LoraModel.saveAdapter, via
   io.sparkformers.nn.lora.Gpt2AdapterFixture in the test sources, which trains 3 steps with lora_dropout 0.1):
   ours_peft_logits are PEFT's eval logits of base + that adapter (PeftModel.from_pretrained), so the test proves that
   PEFT reads what we write.
"""
import json
import os
import sys

import peft
import torch
import transformers
from peft import LoraConfig, PeftModel, TaskType, get_peft_model
from transformers import AutoModelForCausalLM

SEED = 19
TRAIN_SEED = 1234
DROPOUT = 0.3
INPUT_IDS = [[5, 17, 300, 42, 9, 88, 211, 7, 64, 3, 150, 499],
             [1, 2, 3, 4, 250, 251, 252, 253, 100, 0, 511, 77]]
NO_DROPOUT = dict(attn_pdrop=0.0, embd_pdrop=0.0, resid_pdrop=0.0)


def base(base_dir):
    return AutoModelForCausalLM.from_pretrained(base_dir, **NO_DROPOUT)


def make_peft_adapter(base_dir, adapter_dir):
    torch.manual_seed(SEED)
    config = LoraConfig(task_type=TaskType.CAUSAL_LM, r=4, lora_alpha=8, lora_dropout=DROPOUT,
                        target_modules=["c_attn", "c_proj", "c_fc"], fan_in_fan_out=True)
    peft_model = get_peft_model(base(base_dir), config)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_(0.0, 0.1)
    peft_model.save_pretrained(adapter_dir)
    config_file = os.path.join(adapter_dir, "adapter_config.json")
    with open(config_file) as f:
        saved = json.load(f)
    assert saved["fan_in_fan_out"] is True
    saved["target_modules"] = sorted(saved["target_modules"])  # a set in peft: a stable file
    saved["base_model_name_or_path"] = os.path.basename(os.path.normpath(base_dir))  # not this machine's path
    with open(config_file, "w") as f:
        json.dump(saved, f, indent=2, sort_keys=True)
    readme = os.path.join(adapter_dir, "README.md")
    if os.path.exists(readme):
        os.remove(readme)  # peft's model card template: nothing a test reads


def peft_key(name):
    """PEFT's saved name of a parameter of the live model (the adapter name 'default' dropped)."""
    return name.replace(".default", "")


def train_step(base_dir, adapter_dir, ids, dropout):
    model = PeftModel.from_pretrained(base(base_dir), adapter_dir, is_trainable=True)
    for m in model.modules():
        if hasattr(m, "lora_dropout"):
            m.lora_dropout["default"].p = dropout
    model.train()
    torch.manual_seed(TRAIN_SEED)
    loss = model(input_ids=ids, labels=ids).loss
    loss.backward()
    grads = {peft_key(n): p.grad.flatten().tolist() for n, p in model.named_parameters() if "lora_" in n}
    return {"lora_dropout": dropout, "loss": loss.item(), "grads": grads}


def eval_logits(base_dir, adapter_dir, ids):
    model = PeftModel.from_pretrained(base(base_dir), adapter_dir).eval()
    with torch.no_grad():
        return model(input_ids=ids).logits, model


def main(base_dir, out_dir):
    torch.set_num_threads(1)
    ids = torch.tensor(INPUT_IDS)
    peft_dir = os.path.join(out_dir, "peft-adapter")
    make_peft_adapter(base_dir, peft_dir)
    adapted, loaded = eval_logits(base_dir, peft_dir, ids)
    with torch.no_grad():
        merged = loaded.merge_and_unload()(input_ids=ids).logits
        plain = base(base_dir).eval()(input_ids=ids).logits
    assert (adapted - plain).abs().max().item() > 1e-2, "the adapter must change the logits"
    refs = {
        "base": os.path.basename(os.path.normpath(base_dir)),
        "input_ids": INPUT_IDS,
        "train_seed": TRAIN_SEED,
        "peft_eval_logits": adapted.tolist(),
        "peft_merged_logits": merged.tolist(),
        "train": [train_step(base_dir, peft_dir, ids, DROPOUT), train_step(base_dir, peft_dir, ids, 0.0)],
        "versions": {"peft": peft.__version__, "transformers": transformers.__version__,
                     "torch": torch.__version__},
    }
    ours_dir = os.path.join(out_dir, "ours-adapter")
    if os.path.isdir(ours_dir):
        refs["ours_peft_logits"] = eval_logits(base_dir, ours_dir, ids)[0].tolist()
    with open(os.path.join(out_dir, "references.json"), "w") as f:
        json.dump(rounded(refs), f, separators=(",", ":"))
        f.write("\n")


def rounded(value):
    """Floats to 9 significant digits (float32 round-trips), to keep the file small."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, list):
        return [rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    return value


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
