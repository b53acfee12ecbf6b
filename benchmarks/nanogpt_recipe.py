"""nanoGPT's own CPU recipe run, in PyTorch, for any seed: how much of the 1.89 bar is the random stream?

This is nanoGPT's train.py loop (tests/nanogpt_loop.py: torch.manual_seed, its init, torch.randint batches,
fresh eval batches from the same generator at every evaluation, exact-erf GELU) around tests/torch_gpt.py.
With seed 1337 it reproduces the val losses of nanoGPT's run in ../shared/docs/baselines.md to 4 decimals
(4.1649 at step 0, 2.3141 at 500, 1.8857 at 2000). Other seeds show the spread of the recipe itself.

    python benchmarks/nanogpt_recipe.py --seed 1337
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from nanogpt_loop import CPU_RECIPE, nanogpt_train  # noqa: E402
from torch_gpt import TorchGPT  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tinyshakespeare.txt"


def full_val_loss(model: TorchGPT, val: np.ndarray, block: int) -> float:
    """Mean loss over consecutive block_size windows covering the val split (as gpt_vs_torch --full-val)."""
    n = (len(val) - 1) // block
    x = torch.from_numpy(val[: n * block].reshape(n, block))
    y = torch.from_numpy(val[1 : n * block + 1].reshape(n, block))
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
    text = Path(args.data).read_text(encoding="utf-8")
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    ids = np.array([stoi[c] for c in text], dtype=np.int64)
    n = int(0.9 * len(ids))
    splits = {"train": ids[:n], "val": ids[n:]}
    t0 = time.time()

    def on_eval(it: int, model: TorchGPT, losses: dict[str, float]) -> None:
        if it == CPU_RECIPE["max_iters"]:  # the last evaluation's model, on all windows of the val split
            full = full_val_loss(model, splits["val"], CPU_RECIPE["block_size"])
            print(f"seed {args.seed}: loss over the whole val split {full:.4f}")
        print(f"step {it}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f} "
              f"({time.time() - t0:.0f} s)", flush=True)

    evals, _ = nanogpt_train(splits, len(chars), args.seed, exact_gelu=True, on_eval=on_eval)
    print(f"seed {args.seed}: best val loss {min(val for _, _, val in evals):.4f}")


if __name__ == "__main__":
    main()
