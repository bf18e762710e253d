"""Reference logits of a Java-trained masked-LM checkpoint, from Python transformers.

Run by hand after the Java test wrote its (deterministic) checkpoint:

    mvn -o -pl lib test -Dtest=MaskedLanguageModelingTrainingTest -Dsparkformers.mlm.keep=/tmp/mlm-ckpt
    /tmp/qa-venv/bin/python lib/src/test/python/make_mlm_references.py /tmp/mlm-ckpt \
        lib/src/test/resources/mlm/references.json

MaskedLanguageModelingTrainingTest re-trains the same checkpoint and compares its logits with these: the first
`logits_shown` vocabulary logits at every position and the log-sum-exp over the whole vocabulary.
"""
import json
import sys

import torch
import transformers
from transformers import AutoTokenizer, BertForMaskedLM

SENTENCES = [
    "Licensor shall not be liable to You for [MASK] damages.",
    "You may reproduce and distribute copies of the [MASK] in any medium.",
]
SHOWN = 64


def main(checkpoint, out):
    torch.set_num_threads(1)
    tok = AutoTokenizer.from_pretrained(checkpoint)
    model = BertForMaskedLM.from_pretrained(checkpoint).eval()
    enc = tok(SENTENCES, padding="longest", return_tensors="pt")
    # the Java side runs with an all-ones mask: pad both to the same length by construction
    if not bool(enc["attention_mask"].all()):
        raise SystemExit("the reference sentences must tokenize to the same length")
    with torch.no_grad():
        logits = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                       token_type_ids=enc["token_type_ids"]).logits.double()
    ref = {
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "checkpoint": "MaskedLanguageModelingTrainingTest, seed 42, 60 steps",
        "sentences": SENTENCES,
        "input_ids": enc["input_ids"].tolist(),
        "logits_shown": SHOWN,
        "logits_head": logits[:, :, :SHOWN].tolist(),
        "logsumexp": torch.logsumexp(logits, dim=-1).tolist(),
    }
    with open(out, "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
