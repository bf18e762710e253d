"""Reference LoRA adapter and logits for LoraParityTest: Python peft on the real all-MiniLM-L6-v2.

Needs the Python environment of make_qa_references.py (transformers 4.57.6, torch 2.13 CPU) plus peft and accelerate
(`/tmp/qa-venv/bin/pip install peft accelerate --no-deps`). After any lib test run has imported the built-in aliases:

    /tmp/qa-venv/bin/python lib/src/test/python/make_lora_references.py \
        lib/target/sparkformers-home/models/all-MiniLM-L6-v2 lib/src/test/resources/lora

The MiniLM checkpoint has no pooler and no classifier, so the sequence classifier built on it gets a seeded random
pooler and classifier (modules_to_save, so the adapter carries them). The LoRA adapter targets every Linear of the
encoder layers through a regex (query, key, value, attention.output.dense, intermediate.dense, output.dense), r=4,
alpha=8; its lora_B is seeded random (PEFT initialises it to zeros, which would make the adapter a no-op).

Writes into the output folder:
    adapter/adapter_config.json, adapter/adapter_model.safetensors   PeftModel.save_pretrained
    rslora/...        a second adapter with use_rslora=True (r=16, alpha=8, query and value)
    references.json   the texts, the base checkpoint's folder name, the logits of base + adapter (unmerged) and of
                      merge_and_unload(), of base + the rsLoRA adapter, and the peft / transformers / torch versions
"""
import json
import os
import sys

import torch
import peft
import transformers
from peft import LoraConfig, PeftModel, TaskType, get_peft_model
from transformers import AutoModelForSequenceClassification, AutoTokenizer

SEED = 19
TEXTS = [
    "LoRA keeps the base model frozen and trains two small matrices.",
    "The weather in Lisbon was lovely this spring.",
    "short",
]
TARGETS = (r".*encoder\.layer\.\d+\.(attention\.self\.(query|key|value)|attention\.output\.dense"
           r"|intermediate\.dense|output\.dense)")


def main(base_dir, out_dir):
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    model = AutoModelForSequenceClassification.from_pretrained(base_dir, num_labels=2).eval()
    with torch.no_grad():  # spread the random head so the logits are not all near zero
        model.bert.pooler.dense.weight.normal_(0.0, 0.05)
        model.classifier.weight.normal_(0.0, 0.5)
        model.classifier.bias.normal_(0.0, 0.1)
    config = LoraConfig(task_type=TaskType.SEQ_CLS, r=4, lora_alpha=8, lora_dropout=0.1, target_modules=TARGETS,
                        bias="none", modules_to_save=["classifier", "pooler"])
    peft_model = get_peft_model(model, config)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_(0.0, 0.05)
    peft_model.eval()
    adapter_dir = os.path.join(out_dir, "adapter")
    peft_model.save_pretrained(adapter_dir)
    config_file = os.path.join(adapter_dir, "adapter_config.json")
    with open(config_file) as f:
        saved = json.load(f)
    saved["base_model_name_or_path"] = os.path.basename(os.path.normpath(base_dir))  # not this machine's path
    with open(config_file, "w") as f:
        json.dump(saved, f, indent=2, sort_keys=True)
    readme = os.path.join(adapter_dir, "README.md")
    if os.path.exists(readme):
        os.remove(readme)  # peft's model card template: nothing a test reads

    tok = AutoTokenizer.from_pretrained(base_dir)
    enc = tok(TEXTS, padding=True, return_tensors="pt")

    # reload from disk onto a fresh base, as a user would
    torch.manual_seed(SEED + 1)
    fresh = AutoModelForSequenceClassification.from_pretrained(base_dir, num_labels=2).eval()
    loaded = PeftModel.from_pretrained(fresh, adapter_dir).eval()
    with torch.no_grad():
        adapted = loaded(**enc).logits
        merged_model = loaded.merge_and_unload()
        merged = merged_model(**enc).logits
    rslora_dir = os.path.join(out_dir, "rslora")
    rslora_logits = write_rslora(base_dir, rslora_dir, enc)
    refs = {
        "base": os.path.basename(os.path.normpath(base_dir)),
        "texts": TEXTS,
        "adapter_logits": adapted.tolist(),
        "merged_logits": merged.tolist(),
        "rslora_logits": rslora_logits,
        "versions": {"peft": peft.__version__, "transformers": transformers.__version__,
                     "torch": torch.__version__},
    }
    with open(os.path.join(out_dir, "references.json"), "w") as f:
        json.dump(refs, f, indent=1)
        f.write("\n")


def write_rslora(base_dir, adapter_dir, enc):
    """rsLoRA (use_rslora=True: scaling lora_alpha / sqrt(r)) with r=16, alpha=8 on query and value only, lora_B
    seeded random, no modules_to_save: the base's own fresh head is seeded the same in both runs. Returns the
    eval-mode logits of base + adapter reloaded from disk."""
    torch.manual_seed(SEED + 2)
    model = AutoModelForSequenceClassification.from_pretrained(base_dir, num_labels=2).eval()
    config = LoraConfig(task_type=TaskType.SEQ_CLS, r=16, lora_alpha=8, lora_dropout=0.0, use_rslora=True,
                        target_modules=["query", "value"], modules_to_save=["classifier", "pooler"])
    peft_model = get_peft_model(model, config)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_(0.0, 0.05)
            if "modules_to_save" in name and "classifier" in name:
                p.normal_(0.0, 0.5)
    peft_model.save_pretrained(adapter_dir)
    config_file = os.path.join(adapter_dir, "adapter_config.json")
    with open(config_file) as f:
        saved = json.load(f)
    saved["base_model_name_or_path"] = os.path.basename(os.path.normpath(base_dir))
    with open(config_file, "w") as f:
        json.dump(saved, f, indent=2, sort_keys=True)
    readme = os.path.join(adapter_dir, "README.md")
    if os.path.exists(readme):
        os.remove(readme)
    torch.manual_seed(SEED + 3)
    fresh = AutoModelForSequenceClassification.from_pretrained(base_dir, num_labels=2).eval()
    loaded = PeftModel.from_pretrained(fresh, adapter_dir).eval()
    with torch.no_grad():
        return loaded(**enc).logits.tolist()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
