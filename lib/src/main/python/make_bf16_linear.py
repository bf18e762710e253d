"""Writes lib/src/main/resources/io/sparkformers/nn/bf16_linear.pt, the TorchScript kernel of BF16 inference.

DJL's PyTorch engine cannot name bfloat16 (asking it for that dtype aborts the JVM), so the two operations that need
it run inside this scripted module, called through DJL's module API: op 0 returns its tensor converted to contiguous
bfloat16 (a weight or bias, once per model), op 1 returns linear(x as bfloat16, w, b) as float32 (oneDNN's BF16 GEMM,
float32 accumulation). Run with any torch that has torch.jit (file format version 3, loads in libtorch 2.x):
    python lib/src/main/python/make_bf16_linear.py
"""
import os

import torch


class Bf16Linear(torch.nn.Module):
    def forward(self, op: int, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if op == 0:
            return x.to(torch.bfloat16).contiguous()
        return torch.nn.functional.linear(x.to(torch.bfloat16), w, b).to(torch.float32)


if __name__ == "__main__":
    out = os.path.join(os.path.dirname(__file__), "..", "resources", "io", "sparkformers", "nn", "bf16_linear.pt")
    torch.jit.script(Bf16Linear()).save(os.path.normpath(out))
