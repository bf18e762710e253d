"""Writes lib/src/main/resources/io/sparkformers/nn/shared_layout.pt, the TorchScript kernel behind
io.sparkformers.nn.SharedLayout: it moves n weights (out_i, in) of one input width into ONE row-major (in, sum out_i)
storage and re-points each weight at its column block (Tensor.set_), so that the weights keep their values, shapes,
names and autograd identity while their memory becomes the transposed layout MKL's GEMM reads fastest (no repack per
call), and the returned (sum out_i, in) view over the whole storage runs the n projections as one GEMM. The old
storages are freed when nothing else holds them: no second copy of the weights. DJL 0.36 cannot name set_, so it
lives in this scripted module. With share=False it gives each weight back a contiguous storage of its own
(training's fused optimizer updates contiguous memory only). Call it with grad mode off. Run with any torch that has torch.jit (file format
version 3, loads in libtorch 2.x):
    python lib/src/main/python/make_shared_layout.py
"""
import os
from typing import List

import torch


class SharedLayout(torch.nn.Module):
    def forward(self, weights: List[torch.Tensor], share: bool) -> torch.Tensor:
        if not share:  # back to a contiguous (out_i, in) storage each: what training's fused optimizer updates
            for w in weights:
                w.set_(w.contiguous())
            return torch.empty(0)
        total = 0
        for w in weights:
            total += w.size(0)
        first = weights[0]
        # one new allocation, (in, sum out) row-major (a 1-d bias: (sum out)), filled block by block
        storage = first.new_empty([first.size(1), total] if first.dim() == 2 else [total])
        fused = storage.t()  # (sum out, in) view
        start = 0
        for w in weights:
            n = w.size(0)
            block = fused[start:start + n]
            block.copy_(w)
            w.set_(block)  # w: the (out_i, in) column block, same values; its old storage is freed
            start += n
        return fused


if __name__ == "__main__":
    out = os.path.join(os.path.dirname(__file__), "..", "resources", "io", "sparkformers", "nn", "shared_layout.pt")
    torch.jit.script(SharedLayout()).save(os.path.normpath(out))
