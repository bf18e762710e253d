"""What Python transformers makes of a checkpoint written by the TextClassifier Spark Estimator.

Run by hand after the Java test wrote its (deterministic) checkpoint:

    mvn -B -o -pl lib test -Dtest=EstimatorCheckpointParityTest \
        -Dsparkformers.estimatorParity.keep=/tmp/estimator-ckpt
    /tmp/qa-venv/bin/python lib/src/test/python/make_estimator_references.py /tmp/estimator-ckpt \
        lib/src/test/resources/estimator/text_classifier.json

The folder is loaded with AutoModelForSequenceClassification.from_pretrained(..., output_loading_info=True) and
AutoTokenizer; the reference records the loaded class, HF's loading report (missing, unexpected and mismatched keys,
error messages), the model's state-dict keys, the keys stored in the safetensors file, and the raw logits (one call
per text, no padding) for fixed texts. EstimatorCheckpointParityTest re-runs the same fit and compares.
"""
import json
import os
import sys

import torch
import transformers
from safetensors import safe_open
from transformers import AutoModelForSequenceClassification, AutoTokenizer

INPUTS = [
    "the movie was great",
    "the film was awful and i saw it twice",
    "Zoë Müller liked the café in São Paulo 🙂",
    "東京 was dreadful",
    "bad",
]


def main(checkpoint, out):
    torch.set_num_threads(1)
    tok = AutoTokenizer.from_pretrained(checkpoint)
    model, info = AutoModelForSequenceClassification.from_pretrained(checkpoint, output_loading_info=True)
    model.eval()
    with safe_open(os.path.join(checkpoint, "model.safetensors"), "pt") as f:
        stored = sorted(f.keys())
    logits = []
    with torch.no_grad():
        for text in INPUTS:
            enc = tok(text, return_tensors="pt")
            logits.append([float(x) for x in model(**enc).logits.double()[0]])
    ref = {
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "checkpoint": "EstimatorCheckpointParityTest: TextClassifier, local[1], 1 replica, seed 42, 16 steps on 32 toy rows, lr 3e-2",
        "class": type(model).__name__,
        "id2label": {str(k): v for k, v in model.config.id2label.items()},
        "loading": {
            "missing_keys": sorted(info["missing_keys"]),
            "unexpected_keys": sorted(info["unexpected_keys"]),
            "mismatched_keys": [list(map(str, m)) for m in info["mismatched_keys"]],
            "error_msgs": [str(e) for e in info["error_msgs"]],
        },
        "model_keys": sorted(model.state_dict().keys()),
        "stored_keys": stored,
        "inputs": INPUTS,
        "logits": logits,
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(ref, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"{ref['class']}: missing {ref['loading']['missing_keys']}, unexpected {ref['loading']['unexpected_keys']}")
    for t, l in zip(INPUTS, logits):
        print(t, l)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
