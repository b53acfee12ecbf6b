"""Compatibility with nanoGPT: its random init replayed without PyTorch, its weights in and out as PyTorch
state_dicts (parameter names and shapes are nanoGPT's, so weights move both ways), and its checkpoint and
vocabulary files.

    init_like_nanogpt(model, TorchGenerator(seed))   # the weights nanoGPT's GPT(config) gets after
                                                      # torch.manual_seed(seed)
    save_torch(model, "model.pt")                     # torch.save(state_dict) with nanoGPT's names
    model = load_torch("model.pt", config)            # and back (a nanoGPT ckpt.pt works too)
    ckpt = to_nanogpt_checkpoint(model, optimizer.state_dict(), iter_num, best_val_loss, settings)
    optimizer.load_state_dict(from_torch_optimizer(ckpt["optimizer"]))   # and nanoGPT's AdamW back
    meta_pickle(tokenizer.itos), read_meta_pickle(data)   # data/<dataset>/meta.pkl, written and read safely

A ckpt.pt is what nanoGPT's train.py saves and reads back with --init_from=resume: `model` (the state_dict),
`optimizer` (torch.optim.AdamW's state_dict over configure_optimizers' two groups), `model_args`, `iter_num`,
`best_val_loss` and `config`. Only the torch I/O needs PyTorch (imported inside those functions).
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


# ---- nanoGPT's checkpoint (ckpt.pt) and vocabulary (meta.pkl) ---------------------------------------------
MODEL_ARGS = ("n_layer", "n_head", "n_embd", "block_size", "bias", "vocab_size", "dropout")  # its GPTConfig
META_KEYS = ("vocab_size", "itos", "stoi")  # what nanoGPT's data/*/prepare.py writes to meta.pkl
MAX_META_BYTES = 16 << 20  # a character vocabulary's meta.pkl is a few kB


def optimizer_groups(model: GPT) -> list[list[str]]:
    """The parameter names of nanoGPT's configure_optimizers groups: decay (dim >= 2), then no decay, each in
    named_parameters() order (the tied lm_head.weight is transformer.wte.weight, listed once)."""
    named = list(model.named_parameters())
    return [[n for n, p in named if p.ndim >= 2], [n for n, p in named if p.ndim < 2]]


def to_torch_optimizer(model: GPT, optimizer: dict[str, Any]) -> dict[str, Any]:
    """A gradschool AdamW state_dict (train.configure_optimizer's groups) as torch.optim.AdamW's state_dict
    for nanoGPT's groups: the same moments, step counts and hyperparameters, torch's layout."""
    import torch

    names = optimizer_groups(model)
    sizes = [len(g["params"]) for g in optimizer["param_groups"]]
    if sizes != [len(group) for group in names]:
        raise ValueError(f"the run's optimizer has groups of {sizes} parameters, nanoGPT's "
                         f"configure_optimizers {[len(group) for group in names]} (decay, no decay): they "
                         "do not correspond")
    params = dict(model.named_parameters())
    shapes = [params[name].shape for group in names for name in group]
    groups = [{**{k: v for k, v in saved.items() if k != "params"}, "betas": tuple(saved["betas"]),
               "params": [torch.empty(0) for _ in group]}  # placeholders: state_dict() keeps only positions
              for saved, group in zip(optimizer["param_groups"], names)]
    sd = torch.optim.AdamW(groups).state_dict()  # torch's own keys for its groups (amsgrad, fused, ...)
    for i, s in optimizer["state"].items():
        if s["exp_avg"].shape != shapes[int(i)] or s["exp_avg_sq"].shape != shapes[int(i)]:
            raise ValueError(f"the optimizer state of parameter {i} has shape {s['exp_avg'].shape}, the "
                             f"parameter {shapes[int(i)]}: it belongs to another model")
        sd["state"][int(i)] = {  # torch 2.x keeps step as a float32 tensor
            "step": torch.tensor(float(s["step"]), dtype=torch.float32),
            "exp_avg": torch.from_numpy(np.array(s["exp_avg"], dtype=np.float32)),
            "exp_avg_sq": torch.from_numpy(np.array(s["exp_avg_sq"], dtype=np.float32)),
        }
    return sd


def from_torch_optimizer(sd: Any) -> dict[str, Any]:
    """A torch.optim.AdamW state_dict (as nanoGPT's ckpt.pt holds it) in gradschool's AdamW layout: the same
    groups, moments and step counts. It is checked against the model when an optimizer loads it."""
    if not isinstance(sd, dict) or not isinstance(sd.get("state"), dict) \
            or not isinstance(sd.get("param_groups"), list):
        raise ValueError("its optimizer is not a torch.optim state_dict (state and param_groups)")
    groups = []
    for group in sd["param_groups"]:
        if not isinstance(group, dict) or group.get("amsgrad") or group.get("maximize"):
            raise ValueError("its optimizer is not nanoGPT's AdamW (amsgrad or maximize is on)")
        try:
            groups.append({"params": list(group["params"]), "lr": float(group["lr"]),
                           "betas": tuple(float(b) for b in group["betas"]), "eps": float(group["eps"]),
                           "weight_decay": float(group["weight_decay"])})
        except (KeyError, TypeError, ValueError):
            raise ValueError("its optimizer's groups lack AdamW's lr, betas, eps or weight_decay") from None
    state = {}
    for i, s in sd["state"].items():
        try:
            state[int(i)] = {"step": int(float(s["step"])),
                             "exp_avg": s["exp_avg"].detach().cpu().float().numpy(),
                             "exp_avg_sq": s["exp_avg_sq"].detach().cpu().float().numpy()}
        except (KeyError, TypeError, AttributeError, ValueError, RuntimeError):
            raise ValueError(f"its optimizer state of parameter {i} is not AdamW's step, exp_avg and "
                             "exp_avg_sq") from None
    return {"state": state, "param_groups": groups}


def to_nanogpt_checkpoint(model: GPT, optimizer: dict[str, Any], iter_num: int, best_val_loss: float,
                          config: dict[str, Any]) -> dict[str, Any]:
    """What nanoGPT's train.py saves as ckpt.pt (and its train.py and sample.py read back)."""
    return {
        "model": to_torch_state_dict(model),
        "optimizer": to_torch_optimizer(model, optimizer),
        "model_args": {name: getattr(model.config, name) for name in MODEL_ARGS},
        "iter_num": int(iter_num),
        "best_val_loss": float(best_val_loss),
        "config": config,
    }


def model_config_of(ckpt: Any) -> dict[str, Any]:
    """The model_args of a nanoGPT ckpt.pt's contents, checked to be settings of gradschool's GPTConfig
    (their types and sizes are checked where the model is built)."""
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("model"), dict) \
            or not isinstance(ckpt.get("model_args"), dict):
        raise ValueError("it is not a nanoGPT ckpt.pt (a dict with 'model' and 'model_args'); for a bare "
                         "state_dict use --from torch")
    args = ckpt["model_args"]
    unknown = sorted(str(k) for k in args if k not in MODEL_ARGS)
    if unknown:
        raise ValueError(f"its model_args have settings gradschool's GPT does not have: {', '.join(unknown)} "
                         "(a modified nanoGPT?); only nanoGPT's own GPTConfig can be imported")
    missing = [k for k in ("n_layer", "n_head", "n_embd", "block_size", "vocab_size") if args.get(k) is None]
    if missing:
        raise ValueError(f"its model_args lack {', '.join(missing)}")
    return {k: v for k, v in args.items() if v is not None}


def meta_pickle(itos: list[str]) -> bytes:
    """nanoGPT's meta.pkl of a character vocabulary: vocab_size, itos (id -> char), stoi (char -> id)."""
    import pickle

    stoi = {c: i for i, c in enumerate(itos)}
    meta = {"vocab_size": len(itos), "itos": dict(enumerate(itos)), "stoi": stoi}
    return pickle.dumps(meta)


def read_meta_pickle(data: bytes) -> list[str]:
    """The characters (by id) of a nanoGPT meta.pkl, read so that it cannot run code: only dicts, strings and
    integers are admitted, anything else (a class, a function, a list) is refused with a ValueError."""
    import io
    import pickle

    class CodeRefused(Exception):
        pass

    class DataOnly(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            raise CodeRefused(f"it refers to the Python object {module}.{name}, which could run code; a "
                              "meta.pkl holds only dicts, strings and integers")

    if len(data) > MAX_META_BYTES:
        raise ValueError(f"it is {len(data):,} bytes, more than a character vocabulary needs")
    try:
        meta = DataOnly(io.BytesIO(data)).load()
    except CodeRefused as e:
        raise ValueError(str(e)) from None
    except Exception as e:  # a truncated or foreign file fails in many ways (EOFError, UnpicklingError, ...)
        raise ValueError(f"it is not a pickle that can be read ({type(e).__name__}: {e})") from None
    if not isinstance(meta, dict) or not plain_data(meta) or any(k not in meta for k in META_KEYS):
        raise ValueError(f"it is not nanoGPT's vocabulary: a dict of {', '.join(META_KEYS)} holding only "
                         "dicts, strings and integers")
    n, itos, stoi = meta["vocab_size"], meta["itos"], meta["stoi"]
    if not isinstance(n, int) or not isinstance(itos, dict) or sorted(itos) != list(range(n)):
        raise ValueError(f"its itos does not give a character for each id 0..{n - 1} of its vocab_size")
    chars = [itos[i] for i in range(n)]
    if any(not isinstance(c, str) or len(c) != 1 for c in chars):
        raise ValueError("its tokens are not single characters (a BPE or other tokenizer?); gradschool's "
                         "models read characters")
    if stoi != {c: i for i, c in enumerate(chars)}:
        raise ValueError("its stoi is not the inverse of its itos")
    return chars


def plain_data(value: Any, depth: int = 0) -> bool:
    """Whether value is made of dicts (at most 3 deep), strings and integers only."""
    if isinstance(value, dict):
        return depth < 3 and all(plain_data(k, depth + 1) and plain_data(v, depth + 1)
                                 for k, v in value.items())
    return isinstance(value, str | int) and not isinstance(value, bool)
