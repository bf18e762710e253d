"""torch.distributed gloo peer of `bench allreduce`: RANKS processes on this host (rank 0 is this one, the others
spawned) form a gloo group over loopback TCP and all-reduce one float32 tensor of FLOATS elements (a DDP gradient
bucket: 25 MiB), as DDP does (sum of grads pre-divided by the world size).

Usage: python torch_allreduce.py RANKS FLOATS PORT, then JSON lines on stdin:
  {"iterations": K}   K all-reduces on every rank at once; answers {"seconds": mean seconds of one, slowest rank}
The first answer, {"ready": true, ...}, comes once the group has formed and run 5 untimed all-reduces.
Closing stdin ends every rank.
"""
import json
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def serve(rank, world, floats, port, commands):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    bucket = torch.full((floats,), 1.0 / world, dtype=torch.float32)
    for _ in range(5):
        dist.all_reduce(bucket)
    cmd = torch.zeros(1, dtype=torch.int64)
    slowest = torch.zeros(1, dtype=torch.float64)
    first = True
    while True:
        if rank == 0:
            if first:
                print(json.dumps({"ready": True, "torch": torch.__version__, "backend": dist.get_backend(),
                                  "world_size": world}), flush=True)
                first = False
            line = commands.readline()
            cmd[0] = int(json.loads(line)["iterations"]) if line.strip() else 0
        dist.broadcast(cmd, 0)
        k = int(cmd[0])
        if k <= 0:
            break
        dist.barrier()
        t0 = time.perf_counter()
        for _ in range(k):
            dist.all_reduce(bucket)
        slowest[0] = (time.perf_counter() - t0) / k
        dist.all_reduce(slowest, op=dist.ReduceOp.MAX)
        if rank == 0:
            print(json.dumps({"seconds": float(slowest[0])}), flush=True)
    dist.destroy_process_group()


def child(rank, world, floats, port):
    serve(rank, world, floats, port, None)


def main():
    world, floats, port = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=child, args=(r, world, floats, port), daemon=True) for r in range(1, world)]
    for p in procs:
        p.start()
    serve(0, world, floats, port, sys.stdin)
    for p in procs:
        p.join(30)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:
        import traceback
        traceback.print_exc()
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}), flush=True)
        os._exit(1)
