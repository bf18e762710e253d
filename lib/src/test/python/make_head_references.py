"""References for the shared encoder heads, from Python transformers 4.57.6 (same environment as make_qa_references.py):

    /tmp/qa-venv/bin/python lib/src/test/python/make_head_references.py \
        lib/src/test/resources/parity/tiny lib/src/test/resources/heads

1. DistilBertForQuestionAnswering (issue #19): a seeded tiny DistilBERT (the committed parity/tiny/distilbert-sentiment
   config: 2 layers, dim 32, vocab 400) under a seeded random qa_outputs, saved as a checkpoint folder
   distilbert-qa/ (config.json, model.safetensors); on a fixed padded batch in eval mode (dropout off): start_logits,
   end_logits and HF's loss for given start/end positions (one position past the window: ignored, as HF clamps);
   with the fixture's tokenizer files copied in, HF's question-answering pipeline answers (top_k 3, small windows).
2. RobertaForSequenceClassification's loss: the committed parity/tiny/roberta-sentiment checkpoint in eval mode on a
   fixed padded batch, HF's loss for integer labels (single_label_classification, inferred) and for float multi-hot
   labels (multi_label_classification, inferred), with the logits.

Writes references.json: {"distilbert_qa": {...}, "roberta_sequence_classification": {...}}.
"""
import json
import os
import shutil
import sys

import torch
from safetensors.torch import save_file

import transformers
from transformers import (AutoTokenizer, DistilBertConfig, DistilBertForQuestionAnswering,
                          RobertaForSequenceClassification, pipeline)

SEED = 19
PAIRS = [("Where did Ann meet Bob?", "Ann met Bob in Paris on Tuesday. They ate croissants near the Louvre."),
         ("What does the museum house?", "The mill closed in 1979, and the building now houses a museum, a library "
          "and forty small workshops; the museum's steam engine still runs on the first Sunday of every month.")]
B, T = 3, 11


def fixed_batch(vocab, first_id):
    ids = [[first_id + (r * 31 + t * 7) % (vocab - first_id) for t in range(T)] for r in range(B)]
    mask = [[1 if t < T - 3 * r else 0 for t in range(T)] for r in range(B)]  # rows 1, 2 padded
    return ids, mask


def distilbert_qa(tiny_dir, out_dir):
    config = DistilBertConfig.from_pretrained(os.path.join(tiny_dir, "distilbert-sentiment"))
    config.architectures = ["DistilBertForQuestionAnswering"]
    config.num_labels = 2
    config.id2label = {0: "LABEL_0", 1: "LABEL_1"}
    config.label2id = {"LABEL_0": 0, "LABEL_1": 1}
    torch.manual_seed(SEED)
    model = DistilBertForQuestionAnswering(config).eval()
    os.makedirs(out_dir, exist_ok=True)
    config.save_pretrained(out_dir)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(tiny_dir, "distilbert-sentiment", name), out_dir)
    ids, mask = fixed_batch(config.vocab_size, 1)
    start, end = [1, 4, T], [3, 6, 2]  # row 2's start is past the window: HF ignores it
    with torch.no_grad():
        out = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask),
                    start_positions=torch.tensor(start), end_positions=torch.tensor(end))
    qa = pipeline("question-answering", model=model, tokenizer=AutoTokenizer.from_pretrained(out_dir), device="cpu")
    options = {"top_k": 3, "max_seq_len": 32, "doc_stride": 8}
    answers = []
    for question, context in PAIRS:
        got = qa(question=question, context=context, **options)
        answers.append([{"score": float(a["score"]), "start": int(a["start"]), "end": int(a["end"]),
                         "answer": a["answer"]} for a in got])
    return {"input_ids": ids, "attention_mask": mask, "start_positions": start, "end_positions": end,
            "start_logits": out.start_logits.tolist(), "end_logits": out.end_logits.tolist(),
            "loss": out.loss.item(),
            "pipeline": {"options": options, "inputs": [{"question": q, "context": c} for q, c in PAIRS],
                         "expected": answers}}


def roberta_sequence_classification(tiny_dir):
    path = os.path.join(tiny_dir, "roberta-sentiment")
    ids, mask = fixed_batch(400, 3)
    for r in range(B):  # RoBERTa's <s> ... and pad id 1 under the mask
        ids[r][0] = 0
        ids[r] = [i if m else 1 for i, m in zip(ids[r], mask[r])]
    out = {"input_ids": ids, "attention_mask": mask}
    single = [2, 0, 1]
    multi = [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    for name, labels in (("single_label", torch.tensor(single)), ("multi_label", torch.tensor(multi))):
        model = RobertaForSequenceClassification.from_pretrained(path).eval()  # problem_type inferred per call
        with torch.no_grad():
            r = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask), labels=labels)
        out[name] = {"labels": labels.tolist(), "problem_type": model.config.problem_type, "loss": r.loss.item()}
        out["logits"] = r.logits.tolist()
    return out


def main(tiny_dir, out_dir):
    assert transformers.__version__ == "4.57.6", transformers.__version__
    refs = {"distilbert_qa": distilbert_qa(tiny_dir, os.path.join(out_dir, "distilbert-qa")),
            "roberta_sequence_classification": roberta_sequence_classification(tiny_dir)}
    with open(os.path.join(out_dir, "references.json"), "w") as f:
        json.dump(refs, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
