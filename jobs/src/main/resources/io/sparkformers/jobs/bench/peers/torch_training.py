"""PyTorch eager peer of `bench training` and `bench training-clm`: trains the same checkpoint folder with
transformers, the way HF Trainer's loop does one optimizer step: forward with loss, backward, clip_grad_norm_(1.0),
torch.optim.AdamW over HF's decay / no-decay groups, zero_grad. TASK sequence-classification (the default) fine-tunes
a sequence classifier; causal-lm trains AutoModelForCausalLM with labels = input_ids (shifted inside the loss) and
HF's decay groups by module type (Trainer.get_decay_parameter_names: no decay on biases and LayerNorm modules).

Usage: python torch_training.py MODEL_DIR THREADS [TASK], then JSON lines on stdin:
  {"ids": [[...], ...], "labels": [...]}      the batch (answers {"ready": true, ...}); causal-lm: no labels
  {"steps": N}                                 N timed steps; answers the mean forward/backward/optimizer ms
Closing stdin ends it.
"""
import json
import sys
import time

import torch
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification


def main():
    model_dir, threads = sys.argv[1], int(sys.argv[2])
    causal = len(sys.argv) > 3 and sys.argv[3] == "causal-lm"
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(0)
    if causal:
        model = AutoModelForCausalLM.from_pretrained(model_dir)
    else:
        model = AutoModelForSequenceClassification.from_pretrained(
            model_dir, num_labels=2, problem_type="single_label_classification")
    model.train()
    if causal:
        norms = {id(p) for m in model.modules() if isinstance(m, torch.nn.LayerNorm) for p in m.parameters()}
        no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or id(p) in norms]
    else:
        no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "layernorm" in n.lower()
                    or "layer_norm" in n.lower()]
    decay = [p for n, p in model.named_parameters() if not any(p is q for q in no_decay)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=5e-5, betas=(0.9, 0.999), eps=1e-8)
    batch = None
    for line in sys.stdin:
        req = json.loads(line)
        if "ids" in req:
            ids = torch.tensor(req["ids"], dtype=torch.long)
            if causal:
                batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids}
            else:
                batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids),
                         "token_type_ids": torch.zeros_like(ids), "labels": torch.tensor(req["labels"], dtype=torch.long)}
            print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(),
                              "params": sum(p.numel() for p in model.parameters()),
                              "foreach": opt.defaults.get("foreach"), "fused": opt.defaults.get("fused")}),
                  flush=True)
            continue
        fwd = bwd = optim = 0.0
        n = int(req["steps"])
        for _ in range(n):
            t0 = time.perf_counter()
            loss = model(**batch).loss
            loss.item()
            t1 = time.perf_counter()
            loss.backward()
            t2 = time.perf_counter()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad()
            t3 = time.perf_counter()
            fwd += t1 - t0
            bwd += t2 - t1
            optim += t3 - t2
        print(json.dumps({"forward_ms": fwd * 1e3 / n, "backward_ms": bwd * 1e3 / n, "optimizer_ms": optim * 1e3 / n}),
              flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # one JSON line the Java side reports, the traceback on stderr
        import traceback
        traceback.print_exc()
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}), flush=True)
        sys.exit(1)
