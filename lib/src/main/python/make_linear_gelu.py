"""Writes lib/src/main/resources/io/sparkformers/nn/linear_gelu.pt, the TorchScript kernel of FP32 inference's
feed-forward up-projection: GELU(x W^T + b) in one oneDNN call.

libtorch's own exact GELU (torch::gelu, the op DJL's gelu() runs) costs about 40% of the up-projection's GEMM at
BERT-small sizes on one thread (MiniLM, 128 tokens × 1536: 0.58 ms of 2.04 ms), where oneDNN applies GELU (the erf
form, HF "gelu") to each output block while it is still in cache. DJL 0.36 cannot name oneDNN's ops, so the two
operations live in this scripted module, called through DJL's module API: op 0 returns the weight (out, in) reordered
once per model into oneDNN's blocked layout (an opaque tensor, only ever passed back to op 1), op 1 returns
linear(x, w, b) with the GELU applied as the GEMM's post-op. Run with any torch that has torch.jit (file format
version 3, loads in libtorch 2.x):
    python lib/src/main/python/make_linear_gelu.py
"""
import os

import torch


class LinearGelu(torch.nn.Module):
    def forward(self, op: int, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if op == 0:
            return torch.ops.mkldnn._reorder_linear_weight(w, None)
        return torch.ops.mkldnn._linear_pointwise(x, w, b, "gelu", [], "none")


if __name__ == "__main__":
    out = os.path.join(os.path.dirname(__file__), "..", "resources", "io", "sparkformers", "nn", "linear_gelu.pt")
    torch.jit.script(LinearGelu()).save(os.path.normpath(out))
