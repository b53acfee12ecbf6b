"""nanoGPT's own CPU recipe run, in PyTorch, for any seed: how much of the 1.89 bar is the random stream?

This is nanoGPT's train.py loop (torch.manual_seed, its init, torch.randint batches, fresh eval batches drawn
from the same generator at every evaluation, exact-erf GELU) around the PyTorch GPT of tests/torch_gpt.py.
With seed 1337 it reproduces the val losses of nanoGPT's run in ../shared/docs/baselines.md to 4 decimals
(4.1649 at step 0, 2.3141 at 500, 1.8857 at 2000). Other seeds show the spread of the recipe itself.

    python benchmarks/nanogpt_recipe.py --seed 1337
"""

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from torch_gpt import TorchGPT  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tinyshakespeare.txt"
BLOCK, BATCH, ITERS, WARMUP, LR, MIN_LR, EVAL_INTERVAL, EVAL_ITERS = 64, 12, 2000, 100, 1e-3, 1e-4, 250, 20


@dataclass
class Config:
    vocab_size: int
    block_size: int = BLOCK
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = False


def nanogpt_model(vocab_size: int) -> TorchGPT:
    """The model as nanoGPT builds it (TorchGPT draws its weights in nanoGPT's order), with nanoGPT's GELU."""
    model = TorchGPT(Config(vocab_size))
    for block in model.transformer.h:
        block.mlp.gelu = nn.GELU()  # exact erf, where gradschool (and TorchGPT) use GPT-2's tanh form
    return model


def full_val_loss(model: TorchGPT, val: np.ndarray) -> float:
    """Mean loss over consecutive block_size windows covering the val split (as gpt_vs_torch --full-val)."""
    n = (len(val) - 1) // BLOCK
    x = torch.from_numpy(val[: n * BLOCK].reshape(n, BLOCK))
    y = torch.from_numpy(val[1 : n * BLOCK + 1].reshape(n, BLOCK))
    model.eval()
    with torch.no_grad():
        total = sum(model(x[i : i + 64], y[i : i + 64])[1].item() * len(x[i : i + 64])
                    for i in range(0, n, 64))
    model.train()
    return total / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--data", default=str(DATA))
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    text = Path(args.data).read_text(encoding="utf-8")
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    ids = np.array([stoi[c] for c in text], dtype=np.int64)
    n = int(0.9 * len(ids))
    splits = {"train": ids[:n], "val": ids[n:]}

    def get_batch(split: str) -> tuple[torch.Tensor, torch.Tensor]:
        data = splits[split]
        ix = torch.randint(len(data) - BLOCK, (BATCH,))
        x = torch.stack([torch.from_numpy(data[i : i + BLOCK]) for i in ix])
        y = torch.stack([torch.from_numpy(data[i + 1 : i + 1 + BLOCK]) for i in ix])
        return x, y

    model = nanogpt_model(len(chars))
    params = list(model.parameters())
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=LR, betas=(0.9, 0.99))

    def get_lr(it: int) -> float:
        if it < WARMUP:
            return LR * (it + 1) / (WARMUP + 1)
        ratio = (it - WARMUP) / (ITERS - WARMUP)
        return MIN_LR + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (LR - MIN_LR)

    best, t0 = math.inf, time.time()
    x, y = get_batch("train")
    for it in range(ITERS + 1):
        for group in optimizer.param_groups:
            group["lr"] = get_lr(it)
        if it % EVAL_INTERVAL == 0:
            model.eval()
            with torch.no_grad():
                losses = {split: float(torch.tensor([model(*get_batch(split))[1].item()
                                                     for _ in range(EVAL_ITERS)]).mean())
                          for split in ("train", "val")}
            model.train()
            best = min(best, losses["val"])
            if it == ITERS:  # the model the last evaluation saw, on every window of the val split
                full = full_val_loss(model, splits["val"])
                print(f"seed {args.seed}: loss over the whole val split {full:.4f}")
            print(f"step {it}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f} "
                  f"({time.time() - t0:.0f} s)", flush=True)
        _, loss = model(x, y)
        x, y = get_batch("train")  # nanoGPT fetches the next batch before backward
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    print(f"seed {args.seed}: best val loss {best:.4f}")


if __name__ == "__main__":
    main()
