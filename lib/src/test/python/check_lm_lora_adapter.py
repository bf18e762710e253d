"""Checks a LoRA fit of the language-modelling Estimators against Python peft (run by hand; not needed by CI).

    /tmp/qa-venv/bin/python lib/src/test/python/check_lm_lora_adapter.py BASE FITTED

BASE is the checkpoint the fit started from (e.g. lib/src/test/resources/generation/gpt2-tiny), FITTED the Estimator's
output folder (merged model.safetensors + adapter/). Loads the adapter with PeftModel.from_pretrained onto BASE
(unmerged: PEFT computes base + B·A·scaling itself) and compares its logits on a few texts with the logits of the
merged checkpoint FITTED; prints max |diff| and exits 1 above 1e-4.
"""
import sys

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

TEXTS = ["Licensor shall not be liable", "You may reproduce and distribute copies of the Work"]


def main(base_dir, fitted_dir):
    tok = AutoTokenizer.from_pretrained(base_dir)
    base = AutoModelForCausalLM.from_pretrained(base_dir).eval()
    peft_model = PeftModel.from_pretrained(base, fitted_dir + "/adapter").eval()
    merged = AutoModelForCausalLM.from_pretrained(fitted_dir).eval()
    worst = 0.0
    with torch.no_grad():
        for t in TEXTS:
            ids = tok(t, return_tensors="pt")
            a = peft_model(**ids).logits
            b = merged(**ids).logits
            worst = max(worst, (a - b).abs().max().item())
        plain = AutoModelForCausalLM.from_pretrained(base_dir).eval()(**tok(TEXTS[0], return_tensors="pt")).logits
        moved = (plain - merged(**tok(TEXTS[0], return_tensors="pt")).logits).abs().max().item()
    print(f"max |peft(base + adapter) - merged| = {worst:.3g}; max |base - merged| = {moved:.3g}")
    sys.exit(0 if worst <= 1e-4 and moved > 1e-4 else 1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
