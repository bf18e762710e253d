"""Writes lib/src/main/resources/io/sparkformers/nn/bert_layer.pt, the TorchScript kernel of one post-LayerNorm
encoder layer at FP32 or BF16 inference (HF BertLayer with hidden_act "gelu", shared by BERT, RoBERTa, MiniLM, bge, e5):

    qkv = x Wqkv^T + bqkv                                (B, T, 3H), query scale folded into Wqkv, bqkv
    a   = LayerNorm(sdpa(q, k, v, mask) Wo^T + bo + x)   (B, T, H)
    out = LayerNorm(gelu(a Wi^T + bi) Wd^T + bd + a)     (B, T, H)

Called once per layer through DJL's module API instead of about ten DJL operators (each a JNI call, an NDArray
wrapper and a trip through the dispatcher): at one row of a few dozen tokens those per-op costs are a visible share
of the forward. Arguments: op (0: the layer in FP32, 1: the layer in BF16, 2: w[0] converted to
bfloat16 and reordered into oneDNN's blocked layout); x
(B, T, H) float32; mask, the additive (B, 1, 1, T) mask or an empty tensor for none;
the number of heads; LayerNorm's eps; w, the layer's weights in this order:
    [Wqkv, bqkv, Wo, bo, ln1.weight, ln1.bias, Wi, bi, Wd, bd, ln2.weight, ln2.bias]
where in FP32 (op 0) all four GEMM weights are reordered once into oneDNN's blocked layout
(torch.ops.mkldnn._reorder_linear_weight) and every GEMM runs in oneDNN (torch.ops.mkldnn._linear_pointwise, the
up-projection with GELU as its post-op): at a few dozen rows on two threads oneDNN's prepacked GEMM runs these shapes
1.3-3.4x faster than MKL's sgemm on a pre-transposed copy, and 3-9% faster at a thousand rows and more. In BF16 (op 1)
the four GEMM weights are bfloat16 reordered the same way (op 2) and their biases bfloat16, the LayerNorm parameters
float32: the GEMMs and the attention (softmax accumulating in float32 inside the kernel) run in bfloat16, the residual
sums and LayerNorm in float32, and the output is float32. The layer's arithmetic is HF's: the same GEMMs, torch's
scaled_dot_product_attention (HF's "sdpa"), layer_norm and the erf GELU. Run with any torch that has torch.jit
(file format version 3, loads in libtorch 2.x):
    python lib/src/main/python/make_bert_layer.py
"""
import os
from typing import List

import torch


class BertLayer(torch.nn.Module):
    def forward(self, op: int, x: torch.Tensor, mask: torch.Tensor, heads: int, eps: float,
                w: List[torch.Tensor]) -> torch.Tensor:
        if op == 2:
            return torch.ops.mkldnn._reorder_linear_weight(w[0].to(torch.bfloat16), None)
        b, t, h = x.shape
        m = mask if mask.numel() > 0 else None
        xi = x
        if op == 1:  # BF16: the GEMMs and attention in bfloat16, residuals and LayerNorm in float32
            xi = x.to(torch.bfloat16)
            if m is not None:
                m = m.to(torch.bfloat16)
        qkv = torch.ops.mkldnn._linear_pointwise(xi, w[0], w[1], "none", [], "none")  # (B, T, 3H)
        # (B, T, 3H) -> (3, B, nh, T, hs): three strided views
        q, k, v = qkv.view(b, t, 3, heads, h // heads).permute(2, 0, 3, 1, 4).unbind(0)
        c = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m, scale=1.0)  # (B, nh, T, hs)
        c = c.transpose(1, 2).reshape(b, t, h)  # (B, nh, T, hs) -> (B, T, H)
        a = torch.ops.mkldnn._linear_pointwise(c, w[2], w[3], "none", [], "none").to(torch.float32).add_(x)
        a = torch.nn.functional.layer_norm(a, [h], w[4], w[5], eps)  # (B, T, H)
        ai = a.to(torch.bfloat16) if op == 1 else a
        i = torch.ops.mkldnn._linear_pointwise(ai, w[6], w[7], "gelu", [], "none")  # (B, T, I)
        o = torch.ops.mkldnn._linear_pointwise(i, w[8], w[9], "none", [], "none").to(torch.float32).add_(a)
        return torch.nn.functional.layer_norm(o, [h], w[10], w[11], eps)  # (B, T, H)


if __name__ == "__main__":
    out = os.path.join(os.path.dirname(__file__), "..", "resources", "io", "sparkformers", "nn", "bert_layer.pt")
    torch.jit.script(BertLayer()).save(os.path.normpath(out))
