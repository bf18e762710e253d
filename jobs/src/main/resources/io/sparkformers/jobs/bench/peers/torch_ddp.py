"""PyTorch DDP peer of `bench training-distributed`: fine-tunes the same checkpoint folder for sequence
classification on the same rows with torch.nn.parallel.DistributedDataParallel over gloo, WORLD processes on this
host with one thread each (the suite's Spark workers have one core each), the same per-device batch and max length,
torch.optim.AdamW over HF's groups and clip_grad_norm_ 1.0, STEPS optimizer steps, timed after WARMUP untimed ones
(default 0). Rank r takes rows r, r+WORLD, … (our DataSharding deals rows the same way), pads each batch to its
longest row.

Usage: python torch_ddp.py MODEL_DIR ROWS_JSONL WORLD BATCH MAX_LENGTH STEPS PORT [WARMUP]
Prints one JSON line: {"world_size", "loop_seconds", "samples_per_second", "comm_fraction" (NaN: not split)}.
"""
import json
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from transformers import AutoModelForSequenceClassification, AutoTokenizer


def train(rank, world, model_dir, rows_path, batch, max_length, steps, warmup, port, out):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    rows = [json.loads(l) for l in open(rows_path, encoding="utf-8")]
    labels = sorted({r["label"] for r in rows})
    mine = rows[rank::world]
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir, num_labels=len(labels), problem_type="single_label_classification")
    model.train()
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "layernorm" in n.lower()]
    decay = [p for n, p in model.named_parameters() if not any(p is q for q in no_decay)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.0}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=5e-5)
    batches = []
    for s in range(steps):
        chunk = [mine[(s * batch + i) % len(mine)] for i in range(batch)]
        enc = tok([r["text"] for r in chunk], truncation=True, max_length=max_length, padding="longest",
                  return_tensors="pt")
        enc["labels"] = torch.tensor([labels.index(r["label"]) for r in chunk])
        batches.append(enc)
    def step(enc):
        loss = ddp(**enc).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()

    for enc in batches[:warmup]:
        step(enc)
    dist.barrier()
    t0 = time.perf_counter()
    for enc in batches:
        step(enc)
    loop = torch.tensor([time.perf_counter() - t0], dtype=torch.float64)
    dist.all_reduce(loop, op=dist.ReduceOp.MAX)
    if rank == 0:
        out.put(float(loop[0]))
    dist.destroy_process_group()


def main():
    model_dir, rows_path = sys.argv[1], sys.argv[2]
    world, batch, max_length, steps, port = (int(a) for a in sys.argv[3:8])
    warmup = int(sys.argv[8]) if len(sys.argv) > 8 else 0
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=train, args=(r, world, model_dir, rows_path, batch, max_length, steps, warmup, port, q))
             for r in range(world)]
    for p in procs:
        p.start()
    loop = q.get(timeout=3600)
    for p in procs:
        p.join(60)
    print(json.dumps({"world_size": world, "loop_seconds": loop,
                      "samples_per_second": steps * batch * world / loop, "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:
        import traceback
        traceback.print_exc()
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}), flush=True)
        os._exit(1)
