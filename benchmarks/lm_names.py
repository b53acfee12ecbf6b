"""Rungs 4-5 on names: bigram by counting vs by gradient descent, and the MLP language model; time per step.

    python benchmarks/lm_names.py                  # the shipped names and /work/shared/data/names.txt
    python benchmarks/lm_names.py --steps 20000    # MLP training steps (default 10000)
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/lm_names.py   # one thread for both engines

Bars (makemore names.txt, all 228,146 bigrams): counting with add-one smoothing 2.4546 (2.4540 unsmoothed),
the trained bigram network within 0.01 of it; the MLP LM dev loss <= 2.19 on makemore's 80/10/10 split.
The same MLP step in PyTorch (CPU, same sizes, same thread count) is timed in the same run as a reference;
PyTorch takes its thread count from OMP_NUM_THREADS, NumPy's BLAS from OPENBLAS_NUM_THREADS.
"""

import argparse
import contextlib
import io
import os
import sys
import time
from pathlib import Path

import numpy as np

import gradschool.tensor.functional as F
from gradschool.data import CharTokenizer, load_lines
from gradschool.data.batches import context_windows, get_example_batch
from gradschool.data.splits import split_lines
from gradschool.nn.mlp_lm import MLPConfig, MLPLanguageModel
from gradschool.optim import AdamW, cosine_lr
from gradschool.rungs.r4_bigram import average_nll, bigrams, count_model, train_network
from gradschool.tensor import manual_seed, no_grad

MAKEMORE_NAMES = Path(__file__).resolve().parents[2] / "shared" / "data" / "names.txt"
BATCH, LR, MIN_LR = 256, 1e-2, 1e-3


def bigram_section(names: list[str], tokenizer: CharTokenizer, steps: int = 500) -> None:
    V = tokenizer.vocab_size
    xs, ys = bigrams(names, tokenizer)
    smoothed = average_nll(count_model(xs, ys, V), xs, ys)
    unsmoothed = average_nll(count_model(xs, ys, V, 0.0), xs, ys)
    manual_seed(0)
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        _, net = train_network(xs, ys, V, steps=steps)
    ms = 1000 * (time.perf_counter() - t0) / steps
    ok = "PASS" if abs(net - smoothed) < 0.01 else "FAIL"
    print(
        f"  bigrams {len(xs)}: counting {smoothed:.4f} (add-one), {unsmoothed:.4f} (unsmoothed); "
        f"network after {steps} full-batch GD steps {net:.4f} (diff {net - smoothed:+.4f}, bar 0.01: {ok}); "
        f"{ms:.1f} ms/step"
    )


def mlp_section(names: list[str], tokenizer: CharTokenizer, steps: int) -> None:
    train_names, dev_names, test_names = split_lines(names)
    splits = {
        k: context_windows(v, tokenizer, 3)
        for k, v in (("train", train_names), ("dev", dev_names), ("test", test_names))
    }
    manual_seed(42)
    model = MLPLanguageModel(
        MLPConfig(block_size=3, vocab_size=tokenizer.vocab_size, n_embd=10, n_hidden=200)
    )
    optimizer = AdamW(model.parameters(), lr=LR, weight_decay=0.0)
    rng = np.random.default_rng(1)
    X, Y = splits["train"]
    t0 = time.perf_counter()
    for step in range(steps):
        optimizer.param_groups[0]["lr"] = cosine_lr(step, LR, MIN_LR, warmup_iters=0, lr_decay_iters=steps)
        xb, yb = get_example_batch(X, Y, BATCH, rng)
        loss = F.cross_entropy(model.forward_contexts(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    ms = 1000 * (time.perf_counter() - t0) / steps
    with no_grad():
        losses = {k: F.cross_entropy(model.forward_contexts(x), y).item() for k, (x, y) in splits.items()}
    ok = "PASS" if losses["dev"] <= 2.19 else "FAIL"
    print(
        f"  MLP LM (ctx 3, emb 10, hidden 200, {sum(p.data.size for p in model.parameters())} params), "
        f"{steps} AdamW steps of {BATCH}: train {losses['train']:.4f}  dev {losses['dev']:.4f} "
        f"(bar <= 2.19: {ok})  test {losses['test']:.4f}; {ms:.2f} ms/step"
    )
    torch_ms = torch_mlp_ms_per_step(X, Y, tokenizer.vocab_size)
    if torch_ms:
        print(
            f"  the same step in PyTorch: {torch_ms:.2f} ms/step; gradschool/PyTorch = {ms / torch_ms:.2f}x"
        )


def torch_mlp_ms_per_step(X: np.ndarray, Y: np.ndarray, V: int, steps: int = 1000) -> float | None:
    """The MLP LM step (forward, backward, Adam) in PyTorch eager on the CPU, as a reference."""
    try:
        import torch
    except ModuleNotFoundError:
        return None
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1)))
    g = torch.Generator().manual_seed(0)
    C = torch.randn(V, 10, generator=g, requires_grad=True)
    lin1, lin2 = torch.nn.Linear(30, 200), torch.nn.Linear(200, V)
    optimizer = torch.optim.AdamW([C, *lin1.parameters(), *lin2.parameters()], lr=LR, weight_decay=0.0)
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    t0 = time.perf_counter()
    for _ in range(steps):
        ix = torch.randint(0, len(Xt), (BATCH,), generator=g)
        loss = torch.nn.functional.cross_entropy(lin2(torch.tanh(lin1(C[Xt[ix]].view(BATCH, -1)))), Yt[ix])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return 1000 * (time.perf_counter() - t0) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000, help="MLP training steps")
    args = parser.parse_args()
    corpora = [("shipped names corpus", "names")]
    if MAKEMORE_NAMES.exists():
        corpora.append((f"makemore names.txt ({MAKEMORE_NAMES})", str(MAKEMORE_NAMES)))
    else:
        print(f"({MAKEMORE_NAMES} not found: only the shipped corpus)", file=sys.stderr)
    for title, spec in corpora:
        names = load_lines(spec)
        tokenizer = CharTokenizer.from_lines(names)
        print(f"{title}: {len(names)} names, vocabulary {tokenizer.vocab_size}")
        bigram_section(names, tokenizer)
        mlp_section(names, tokenizer, args.steps)


if __name__ == "__main__":
    main()
