"""Reference logits (and loss) of a Java-trained causal-LM checkpoint, from Python transformers.

Run by hand after the Java test wrote its (deterministic) checkpoint:

    mvn -o -pl lib test -Dtest=CausalLanguageModelingTrainingTest -Dsparkformers.clm.keep=/tmp/clm-ckpt
    /tmp/qa-venv/bin/python lib/src/test/python/make_clm_references.py /tmp/clm-ckpt \
        lib/src/test/resources/clm/references.json

CausalLanguageModelingTrainingTest re-trains the same checkpoint (a tiny GPT-2 from scratch on the Apache License)
and compares every logit of these inputs, and the causal-LM loss with labels = input_ids, with these.
"""
import json
import sys

import torch
import transformers
from transformers import AutoTokenizer, GPT2LMHeadModel

SENTENCES = [
    "Licensor shall not be liable to You for",
    "You may reproduce and distribute copies of the",
]


def main(checkpoint, out):
    torch.set_num_threads(1)
    tok = AutoTokenizer.from_pretrained(checkpoint)
    model = GPT2LMHeadModel.from_pretrained(checkpoint).eval()
    rows = [tok(s)["input_ids"] for s in SENTENCES]
    t = min(len(r) for r in rows)  # the Java side runs with an all-ones mask: cut to a common length
    ids = torch.tensor([r[:t] for r in rows])
    with torch.no_grad():
        o = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=ids)
    ref = {
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "checkpoint": "CausalLanguageModelingTrainingTest: tiny GPT-2 from scratch, seed 42",
        "sentences": SENTENCES,
        "input_ids": ids.tolist(),
        "logits": o.logits.double().tolist(),
        "loss": float(o.loss),
    }
    with open(out, "w") as f:
        json.dump(ref, f)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
