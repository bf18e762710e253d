"""Reference for AdamWTest: torch.optim.AdamW (the optimizer HF Trainer's adamw_torch builds) over a few steps.

Two parameters in HF's two groups (decay / no decay), a learning-rate multiplier per step as a LambdaLR would set,
gradients fixed by a seed. Writes lib/src/test/resources/optim/adamw_torch.json: the initial values, each step's
gradients and multiplier, and the parameters and state after every step. Run with the reference Python
(bin/reference-python):  $(bin/reference-python) lib/src/test/python/make_adamw_references.py
"""
import json
import pathlib

import torch

torch.manual_seed(20)
shapes = {"dense.weight": (3, 5), "dense.bias": (5,)}
params = {n: torch.randn(s, dtype=torch.float32) for n, s in shapes.items()}
init = {n: p.clone() for n, p in params.items()}
lr, wd, betas, eps = 1e-2, 0.1, (0.9, 0.999), 1e-8
multipliers = [1.0, 0.5, 0.25, 0.8]
tensors = {n: torch.nn.Parameter(p) for n, p in params.items()}
opt = torch.optim.AdamW(
    [
        {"params": [tensors["dense.weight"]], "weight_decay": wd},
        {"params": [tensors["dense.bias"]], "weight_decay": 0.0},
    ],
    lr=lr, betas=betas, eps=eps, foreach=False)
steps = []
for k, mult in enumerate(multipliers):
    grads = {n: torch.randn(s, dtype=torch.float32) * (1 + k) for n, s in shapes.items()}
    for n, t in tensors.items():
        t.grad = grads[n].clone()
    for g in opt.param_groups:
        g["lr"] = lr * mult
    opt.step()
    steps.append({
        "multiplier": mult,
        "grads": {n: g.flatten().tolist() for n, g in grads.items()},
        "params": {n: t.detach().flatten().tolist() for n, t in tensors.items()},
        "exp_avg": {n: opt.state[t]["exp_avg"].flatten().tolist() for n, t in tensors.items()},
        "exp_avg_sq": {n: opt.state[t]["exp_avg_sq"].flatten().tolist() for n, t in tensors.items()},
    })
out = {
    "torch": torch.__version__,
    "lr": lr, "weight_decay": wd, "betas": list(betas), "eps": eps,
    "shapes": {n: list(s) for n, s in shapes.items()},
    "init": {n: p.flatten().tolist() for n, p in init.items()},
    "steps": steps,
}
dest = pathlib.Path(__file__).resolve().parents[1] / "resources" / "optim" / "adamw_torch.json"
dest.write_text(json.dumps(out, indent=1) + "\n")
print("wrote", dest)
