"""The floor under layer_norm in NumPy: its fewest passes, without the engine, against PyTorch's kernel.

Issue 3 asks every op of benchmarks/tensor_ops.py to take at most 1.5x PyTorch's time. layer_norm misses, and
this measures why. `bare` is layer_norm's forward and backward (dx, dweight, dbias) at the GPT-baby size
(12 x 64 rows of 128 float32) with the fewest NumPy calls known: ten elementwise passes, five of which
broadcast a per-row number (mean, 1/std, the backward's two row terms) and three a per-column one (weight,
bias), BLAS for every sum, outputs preallocated, no autograd, no checks. It runs once in one thread, and once
cut in halves run at once by the engine's worker threads (`parallel_for`). The per-pass figures show where
the time goes: a pass that broadcasts a per-row number calls NumPy's inner loop once per row (128 numbers), so
it costs about twice a plain pass, and a split pass waits on handing the GIL back and forth between the
threads. PyTorch's fused layer_norm is timed in a child process with the same thread count.

    python benchmarks/layer_norm_floor.py [--threads N]
"""

import argparse
import os
import subprocess
import sys
import time

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for both (default: all)")
parser.add_argument("--torch", action="store_true", help=argparse.SUPPRESS)  # the child that times PyTorch
args = parser.parse_args()
os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(args.threads)  # before NumPy loads

import gradschool  # noqa: E402, F401  # first: it tells OpenBLAS's idle threads to sleep at once

# isort: split
import numpy as np  # noqa: E402

from gradschool.tensor import set_num_threads  # noqa: E402
from gradschool.tensor.parallel import parallel_for  # noqa: E402

N, C = 12 * 64, 128
rng = np.random.default_rng(0)
X, G = (rng.standard_normal((N, C)).astype(np.float32) for _ in range(2))
W, B = (rng.standard_normal(C).astype(np.float32) for _ in range(2))


def best_us(fn, calls: int = 600, rounds: int = 7) -> float:
    """The fastest of several rounds, in microseconds per call."""
    fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls)
    return 1e6 * min(times)


def time_torch() -> None:
    import torch

    torch.set_num_threads(args.threads)
    x, w, b = (torch.tensor(a, requires_grad=True) for a in (X, W, B))
    up = torch.tensor(G)

    def step():
        x.grad = w.grad = b.grad = None
        torch.nn.functional.layer_norm(x, (C,), w, b).backward(up)
    print(best_us(step))


xhat, y, dx, gx, t = (np.empty((N, C), np.float32) for _ in range(5))
rstd = np.ones((N, 1), np.float32)
ones_c, ones_n = np.ones(C, np.float32), np.ones(N, np.float32)


def forward(lo: int, hi: int) -> None:
    x, h, r = X[lo:hi], xhat[lo:hi], rstd[lo:hi]
    np.subtract(x, (x @ ones_c)[:, None] / C, out=h)  # x - mean (BLAS row sums)
    np.divide(np.matmul(h[:, None, :], h[:, :, None])[:, 0], C, out=r)  # variance (BLAS row dots)
    r += 1e-5
    np.sqrt(r, out=r)
    np.reciprocal(r, out=r)
    h *= r  # xhat
    np.multiply(h, W, out=y[lo:hi])
    y[lo:hi] += B


def backward(lo: int, hi: int) -> None:
    g, h, d, p = G[lo:hi], xhat[lo:hi], dx[lo:hi], gx[lo:hi]
    np.multiply(g, h, out=p)  # g * xhat: its column sums are dweight, its row dots with W the row term c
    c, a = (p @ W)[:, None] / C, (g @ W)[:, None] / C  # mean(dxhat * xhat), mean(dxhat)
    np.multiply(g, W, out=d)  # dxhat
    np.multiply(h, c, out=t[lo:hi])
    d -= t[lo:hi]
    d -= a
    d *= rstd[lo:hi]  # dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat))


def bare(split: bool):
    def run():
        parallel_for(forward, N, 1 << 30 if split else 0)
        parallel_for(backward, N, 1 << 30 if split else 0)
        return ones_n @ gx, ones_n @ G  # dweight, dbias
    return run


def main() -> None:
    if args.torch:
        time_torch()
        return
    set_num_threads(args.threads)
    one = np.empty((N, C), np.float32)
    passes = {
        "plain pass: x * y": lambda: np.multiply(X, G, out=one),
        "per-column broadcast: x * w": lambda: np.multiply(X, W, out=one),
        "per-row broadcast: x * r": lambda: np.multiply(X, rstd, out=one),
        "BLAS row sums: x @ ones": lambda: X @ ones_c,
        "BLAS row dots": lambda: np.matmul(X[:, None, :], G[:, :, None]),
    }
    for name, fn in passes.items():
        print(f"{name:<40}{best_us(fn):8.1f} us")
    torch_us = float(subprocess.run([sys.executable, __file__, "--torch", "--threads", str(args.threads)],
                                    capture_output=True, text=True, check=True).stdout)
    print(f"{'PyTorch layer_norm forward+backward':<40}{torch_us:8.1f} us   ({args.threads} threads)")
    runs = [("one thread", False)] + [(f"cut over {args.threads} threads", True)] * (args.threads > 1)
    for label, split in runs:
        us = best_us(bare(split))
        print(f"{'bare NumPy layer_norm, ' + label:<40}{us:8.1f} us   {us / torch_us:.2f}x PyTorch")


if __name__ == "__main__":
    main()
