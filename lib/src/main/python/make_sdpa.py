"""Writes lib/src/main/resources/io/sparkformers/nn/sdpa.pt, the TorchScript kernel of inference self-attention:
softmax(Q K^T + mask) V over heads for one fused (B, T, 3D) projection, by torch's scaled_dot_product_attention
(HF's "sdpa" attention implementation; on CPU a flash-attention kernel that never materialises the (B, nh, T, T)
scores). DJL 0.36 cannot name that op, so it lives in this scripted module, called through DJL's module API with
qkv (B, T, 3D) float32 (queries already scaled: the fused projection folds 1/sqrt(hs) into its weights), an additive
mask broadcastable to (B, nh, T, T) or an empty tensor for none, and the number of heads; it returns the context
(B, T, D). Run with any torch that has torch.jit (file format version 3, loads in libtorch 2.x):
    python lib/src/main/python/make_sdpa.py
"""
import os

import torch


class Sdpa(torch.nn.Module):
    def forward(self, qkv: torch.Tensor, mask: torch.Tensor, heads: int) -> torch.Tensor:
        b, t, d3 = qkv.shape
        d = d3 // 3
        # (B, T, 3D) -> (3, B, nh, T, hs): three strided views
        q, k, v = qkv.view(b, t, 3, heads, d // heads).permute(2, 0, 3, 1, 4).unbind(0)
        m = mask if mask.numel() > 0 else None
        o = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m, scale=1.0)  # (B, nh, T, hs)
        return o.transpose(1, 2).reshape(b, t, d)  # (B, nh, T, hs) -> (B, T, D)


if __name__ == "__main__":
    out = os.path.join(os.path.dirname(__file__), "..", "resources", "io", "sparkformers", "nn", "sdpa.pt")
    torch.jit.script(Sdpa()).save(os.path.normpath(out))
