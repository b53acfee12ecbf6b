"""nanoGPT's train.py loop in PyTorch around torch_gpt.py: the oracle for gradschool's nanogpt random stream,
and for its export to nanoGPT (resume_from builds what train.py builds from a ckpt.pt).

As nanoGPT does it: torch.manual_seed(seed), then its init; batches from torch.randint, each step drawing the
next step's batch; at every evaluation fresh batches of both splits from the same generator; AdamW with weight
decay on the 2-D weights only, linear warmup then cosine decay, gradient clipping.
"""

import math
import pickle
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch
from torch import nn
from torch_gpt import GPTConfig, TorchGPT

CPU_RECIPE = dict(  # nanoGPT's names; its CPU recipe for shakespeare_char
    block_size=64, batch_size=12, n_layer=4, n_head=4, n_embd=128, dropout=0.0, bias=False, max_iters=2000,
    lr_decay_iters=2000, warmup_iters=100, learning_rate=1e-3, min_lr=1e-4, beta1=0.9, beta2=0.99,
    weight_decay=0.1, grad_clip=1.0, eval_interval=250, eval_iters=20)


def get_lr(it: int, r: SimpleNamespace) -> float:
    if it < r.warmup_iters:
        return r.learning_rate * (it + 1) / (r.warmup_iters + 1)
    if it > r.lr_decay_iters:
        return r.min_lr
    ratio = (it - r.warmup_iters) / (r.lr_decay_iters - r.warmup_iters)
    return r.min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (r.learning_rate - r.min_lr)


def nanogpt_train(splits: dict[str, np.ndarray], vocab_size: int, seed: int = 1337, exact_gelu: bool = True,
                  on_eval: Callable[[int, TorchGPT, dict[str, float]], None] | None = None, **settings: Any
                  ) -> tuple[list[tuple[int, float, float]], list[float]]:
    """Train as nanoGPT does; returns (iter, train loss, val loss) of every evaluation, and every step's loss.

    settings override CPU_RECIPE's; exact_gelu: nanoGPT's nn.GELU() (erf), where False keeps GPT-2's tanh
    form, which gradschool uses.
    """
    unknown = set(settings) - set(CPU_RECIPE)
    if unknown:
        raise TypeError(f"not nanoGPT settings: {sorted(unknown)}")
    r = SimpleNamespace(**{**CPU_RECIPE, **settings, "vocab_size": vocab_size})
    torch.manual_seed(seed)

    def get_batch(split: str) -> tuple[torch.Tensor, torch.Tensor]:
        data = splits[split]
        ix = torch.randint(len(data) - r.block_size, (r.batch_size,))
        x = torch.stack([torch.from_numpy(data[i : i + r.block_size]) for i in ix])
        y = torch.stack([torch.from_numpy(data[i + 1 : i + 1 + r.block_size]) for i in ix])
        return x, y

    model = TorchGPT(r)
    if exact_gelu:
        for block in model.transformer.h:
            block.mlp.gelu = nn.GELU()
    optimizer = model.configure_optimizers(r.weight_decay, r.learning_rate, (r.beta1, r.beta2))

    evals, steps = [], []
    x, y = get_batch("train")
    for it in range(r.max_iters + 1):
        for group in optimizer.param_groups:
            group["lr"] = get_lr(it, r)
        if it % r.eval_interval == 0:
            model.eval()
            with torch.no_grad():
                losses = {split: float(torch.tensor([model(*get_batch(split))[1].item()
                                                     for _ in range(r.eval_iters)]).mean())
                          for split in ("train", "val")}
            model.train()
            evals.append((it, losses["train"], losses["val"]))
            if on_eval is not None:
                on_eval(it, model, losses)
        if it == r.max_iters:
            break
        _, loss = model(x, y)
        x, y = get_batch("train")  # nanoGPT fetches the next batch before backward
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), r.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        steps.append(loss.item())
    return evals, steps


def resume_from(out_dir: str | Path, **settings: Any) -> tuple[TorchGPT, torch.optim.AdamW, dict[str, Any]]:
    """(model, optimizer, checkpoint) as nanoGPT's `train.py --init_from=resume --out_dir=DIR` builds them.

    The ckpt.pt is read with weights_only=True (torch's default since 2.6), the model built from its
    model_args and loaded strictly once torch.compile's `_orig_mod.` prefix is stripped, the optimizer made by
    configure_optimizers from the command line's settings (CPU_RECIPE's, overridden by settings) and then
    given the checkpoint's state.
    """
    r = SimpleNamespace(**{**CPU_RECIPE, **settings})
    checkpoint = torch.load(Path(out_dir) / "ckpt.pt", map_location="cpu", weights_only=True)
    model = TorchGPT(GPTConfig(**checkpoint["model_args"]))
    state_dict = {k.removeprefix("_orig_mod."): v for k, v in checkpoint["model"].items()}
    model.load_state_dict(state_dict)  # strict
    optimizer = model.configure_optimizers(r.weight_decay, r.learning_rate, (r.beta1, r.beta2))
    optimizer.load_state_dict(checkpoint["optimizer"])
    return model, optimizer, checkpoint


def train_step(model: TorchGPT, optimizer: torch.optim.AdamW, x: np.ndarray, y: np.ndarray, lr: float,
               grad_clip: float) -> float:
    """One step of nanoGPT's loop at learning rate lr; returns its loss."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    _, loss = model(torch.from_numpy(x), torch.from_numpy(y))
    loss.backward()
    if grad_clip != 0.0:
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return loss.item()


def sample_like_nanogpt(nanogpt_dir: str | Path, out_dir: str, start: str = "\n", max_new_tokens: int = 30,
                        top_k: int | None = None, seed: int = 1337) -> str:
    """One sample as nanoGPT's `python sample.py --init_from=resume --out_dir=out_dir` prints it when run in
    nanogpt_dir: the model built from ckpt.pt, the vocabulary from data/<its config's dataset>/meta.pkl."""
    torch.manual_seed(seed)
    checkpoint = torch.load(Path(nanogpt_dir) / out_dir / "ckpt.pt", map_location="cpu", weights_only=True)
    model = TorchGPT(GPTConfig(**checkpoint["model_args"]))
    model.load_state_dict({k.removeprefix("_orig_mod."): v for k, v in checkpoint["model"].items()})
    model.eval()
    with open(Path(nanogpt_dir) / "data" / checkpoint["config"]["dataset"] / "meta.pkl", "rb") as f:
        meta = pickle.load(f)  # the test's own file: nanoGPT's sample.py reads it like this
    idx = torch.tensor([[meta["stoi"][c] for c in start]])
    with torch.no_grad():
        for _ in range(max_new_tokens):
            logits = model(idx[:, -model.config.block_size:])[:, -1, :]
            if top_k is not None:
                kth = torch.topk(logits, top_k).values[:, [-1]]
                logits[logits < kth] = -float("inf")
            idx = torch.cat([idx, torch.multinomial(torch.softmax(logits, dim=-1), 1)], dim=1)
    return "".join(meta["itos"][i] for i in idx[0].tolist())
