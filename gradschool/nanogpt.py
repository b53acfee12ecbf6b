"""Compatibility with nanoGPT: its random init replayed without PyTorch, and its weights in and out as PyTorch
state_dicts (parameter names and shapes are nanoGPT's, so weights move both ways).

    init_like_nanogpt(model, TorchGenerator(seed))   # the weights nanoGPT's GPT(config) gets after
                                                      # torch.manual_seed(seed)
    save_torch(model, "model.pt")                     # torch.save(state_dict) with nanoGPT's names
    model = load_torch("model.pt", config)            # and back (a nanoGPT ckpt.pt works too)

Only the torch I/O needs PyTorch (imported inside those functions); the init replay does not.
"""

import math
from pathlib import Path
from typing import Any

import numpy as np

from gradschool.nn.gpt import GPT, GPTConfig
from gradschool.tensor.torch_random import TorchGenerator


def init_like_nanogpt(model: GPT, rng: TorchGenerator) -> None:
    """The weights nanoGPT's GPT(config) gets after torch.manual_seed(s), from rng = TorchGenerator(s).

    torch gives each module a default init as nanoGPT builds it (embeddings normal(0, 1), Linears uniform):
    those draws are spent, then overwritten. nanoGPT's _init_weights then draws every Linear and Embedding
    weight normal(0, 0.02) in module order (the tied lm_head last, so its draw is the one kept), and finally
    the residual projections again with the smaller std. Here: the same draws, in the same order.
    """
    blocks = list(model.transformer.h)
    linears = [m for b in blocks for m in (b.attn.c_attn, b.attn.c_proj, b.mlp.c_fc, b.mlp.c_proj)]
    embeddings = [model.transformer.wte, model.transformer.wpe]
    for emb in embeddings:  # torch's defaults, in the order nanoGPT builds the modules
        rng.normal(0.0, 1.0, emb.weight.shape)
    for lin in [*linears, model.lm_head]:
        for p in (lin.weight, lin.bias):
            if p is not None:
                rng.uniform(0.0, 1.0, p.shape)  # kaiming-uniform: one draw per number, whatever the bound
    for module in [*embeddings, *linears, model.lm_head]:  # nanoGPT's _init_weights
        module.weight.data[...] = rng.normal(0.0, 0.02, module.weight.shape)
    residual_std = 0.02 / math.sqrt(2 * model.config.n_layer)
    for b in blocks:
        for proj in (b.attn.c_proj, b.mlp.c_proj):
            proj.weight.data[...] = rng.normal(0.0, residual_std, proj.weight.shape)
    for name, p in model.named_parameters():
        if p.ndim == 1:  # LayerNorm weights 1, every bias 0
            p.data[...] = 1.0 if name.endswith("weight") else 0.0


def to_torch_state_dict(model: GPT) -> dict[str, Any]:
    """The weights as a PyTorch state_dict with nanoGPT's names (lm_head.weight is wte's, tied)."""
    import torch

    sd = {name: torch.from_numpy(np.array(w)) for name, w in model.state_dict().items()}
    sd["lm_head.weight"] = sd["transformer.wte.weight"]  # the same tensor, as in nanoGPT's state_dict
    return sd


def load_torch_state_dict(model: GPT, sd: dict[str, Any]) -> None:
    """Load weights from a nanoGPT-style PyTorch state_dict (the `_orig_mod.` prefix is ok)."""
    weights = {}
    for name, t in sd.items():
        name = name.removeprefix("_orig_mod.")  # left by torch.compile
        if name.endswith(".attn.bias") and t.ndim == 4:
            continue  # nanoGPT's causal-mask buffer (without flash attention), not a weight
        weights[name] = t.detach().cpu().double().numpy()  # load_state_dict casts to our dtype
    model.load_state_dict(weights)  # lm_head.weight and transformer.wte.weight must agree (tied)


def save_torch(model: GPT, path: str | Path) -> None:
    """Write the weights to a PyTorch state_dict file (torch.save), nanoGPT's names."""
    import torch

    torch.save(to_torch_state_dict(model), path)


def load_torch(path: str | Path, config: GPTConfig) -> GPT:
    """A GPT with the weights of a PyTorch state_dict file (or of a nanoGPT ckpt.pt holding one)."""
    import torch

    sd = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(sd.get("model"), dict):  # nanoGPT's ckpt.pt: {"model": state_dict, ...}
        sd = sd["model"]
    model = GPT(config)
    load_torch_state_dict(model, sd)
    return model
