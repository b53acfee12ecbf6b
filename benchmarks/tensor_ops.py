"""Forward+backward time of the Tensor engine's hot ops against PyTorch eager on CPU, at GPT-baby sizes.

Both sides get the same thread count (NumPy's OpenBLAS via OPENBLAS_NUM_THREADS, torch via set_num_threads).
By default each engine is timed in its own child process (this file run with the hidden --engine flag, which
prints its timings as JSON), the children alternating for --rounds rounds, and the medians are compared:
OpenBLAS's and PyTorch's OpenMP thread pools in ONE process spin against each other and distort both.
--same-process times the two engines alternately in this process instead (fine with one thread).
Before timing, a child with both engines checks that they compute the same results on the same inputs.

    python benchmarks/tensor_ops.py [--threads N] [--rounds R] [--same-process]
"""

import argparse
import importlib.metadata
import json
import os
import statistics
import subprocess
import sys
import time
from types import SimpleNamespace

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for both engines")
parser.add_argument("--rounds", type=int, default=7, help="alternating timing rounds per op")
parser.add_argument("--same-process", action="store_true", help="time both engines in this one process")
parser.add_argument("--engine", choices=["gradschool", "torch", "check"], help=argparse.SUPPRESS)
args = parser.parse_args()
os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(args.threads)  # before NumPy loads

import gradschool  # noqa: E402, F401  # first, before NumPy: it tells OpenBLAS's idle threads to sleep at once

# isort: split
import numpy as np  # noqa: E402

B, T, C, V, H = 12, 64, 128, 65, 4  # nanoGPT's CPU recipe: batch, block, width, 65 characters, heads


def engine(name: str) -> SimpleNamespace:
    """The functions the cases need, from gradschool or from torch; imports only that engine."""
    if name == "gradschool":
        import gradschool.tensor.functional as F
        from gradschool.tensor import Tensor
        return SimpleNamespace(
            name=name, param=lambda a: Tensor(a, requires_grad=True), const=lambda a: a,
            numpy=lambda t: t.data, linear=F.linear, layer_norm=F.layer_norm, cross_entropy=F.cross_entropy,
            sdpa=F.scaled_dot_product_attention, gelu=F.gelu, embedding=F.embedding, softmax=F.softmax)
    import torch
    import torch.nn.functional as TF
    torch.set_num_threads(args.threads)
    return SimpleNamespace(
        name=name, param=lambda a: torch.tensor(a, requires_grad=True), const=torch.tensor,
        numpy=lambda t: t.detach().numpy(), linear=TF.linear,
        layer_norm=lambda x, w, b: TF.layer_norm(x, x.shape[-1:], w, b), cross_entropy=TF.cross_entropy,
        sdpa=TF.scaled_dot_product_attention, gelu=lambda x: TF.gelu(x, approximate="tanh"),
        embedding=TF.embedding, softmax=lambda x: TF.softmax(x, -1))


def block(E, x, ln1_w, ln1_b, w_attn, b_attn, w_proj, b_proj, ln2_w, ln2_b, w_fc, b_fc, w_out, b_out):
    """One pre-layer-norm transformer block as in gradschool/nn/gpt.py, for either engine E."""
    q, k, v = E.linear(E.layer_norm(x, ln1_w, ln1_b), w_attn, b_attn).split(C, 2)
    q, k, v = (t.reshape(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
    x = x + E.linear(E.sdpa(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, C), w_proj, b_proj)
    return x + E.linear(E.gelu(E.linear(E.layer_norm(x, ln2_w, ln2_b), w_fc, b_fc)), w_out, b_out)


TARGETS = np.random.default_rng(0).integers(0, V, size=B * T)
BLOCK_SHAPES = [(B, T, C), (C,), (C,), (3 * C, C), (3 * C,), (C, C), (C,), (C,), (C,), (4 * C, C), (4 * C,),
                (C, 4 * C), (C,)]
LISTED = [  # the ops the target is about: each at most 1.5x PyTorch, their sum at most 1.0x
    ("matmul: linear 128->512", [(B, T, C), (4 * C, C), (4 * C,)], lambda E, *a: E.linear(*a)),
    ("layer_norm", [(B, T, C), (C,), (C,)], lambda E, *a: E.layer_norm(*a)),
    ("softmax + cross_entropy", [(B * T, V)], lambda E, x: E.cross_entropy(x, E.targets)),
    ("attention bmm q@k^T, att@v", [(B, H, T, C // H)] * 3, lambda E, q, k, v: (q @ k.transpose(-2, -1)) @ v),
    ("sdpa causal", [(B, H, T, C // H)] * 3, lambda E, q, k, v: E.sdpa(q, k, v, is_causal=True)),
    ("gelu (B,T,4C)", [(B, T, 4 * C)], lambda E, x: E.gelu(x)),
]
EXTRA = [  # also on the GPT's path, or useful to know
    ("transformer block (4C MLP)", BLOCK_SHAPES, block),
    ("embedding (B,T) -> (B,T,C)", [(V, C)], lambda E, w: E.embedding(E.idx, w)),
    ("lm_head 128->65 + cross_entropy", [(B * T, C), (V, C)],
     lambda E, x, w: E.cross_entropy(E.linear(x, w), E.targets)),
    ("softmax (B,H,T,T) alone", [(B, H, T, T)], lambda E, x: E.softmax(x)),
]
CASES = LISTED + EXTRA


def prepared(E, number: int, shapes, fn):
    """A function running one forward+backward of case `number` on engine E, and its forward output.

    The inputs and the upstream gradient come from a generator seeded with the case number, so every
    process and engine works on the same numbers.
    """
    rng = np.random.default_rng(number)
    inputs = [E.param(rng.standard_normal(s).astype(np.float32)) for s in shapes]
    E.targets, E.idx = E.const(TARGETS), E.const(TARGETS.reshape(B, T))
    out = fn(E, *inputs)
    up = E.const(rng.standard_normal(out.shape).astype(np.float32))

    def run():
        for t in inputs:
            t.grad = None
        out = fn(E, *inputs)
        out.backward(up) if out.ndim else out.backward()
    return run, E.numpy(out)


def timeit(fn, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def calls_for(run) -> int:
    """How many calls make about 20 ms, after a warm-up call."""
    run()
    return max(1, int(0.02 / timeit(run, 3)))


def child(name: str) -> None:
    """Print {case: median seconds per forward+backward} of one engine as JSON, or check the engines agree."""
    if name == "check":
        gs, to = engine("gradschool"), engine("torch")
        for number, (case, shapes, fn) in enumerate(CASES):
            out, want = prepared(gs, number, shapes, fn)[1], prepared(to, number, shapes, fn)[1]
            assert np.abs(out - want).max() <= 1e-4 * np.abs(want).max(), f"{case}: the engines disagree"
        return
    E = engine(name)
    times = {}
    for number, (case, shapes, fn) in enumerate(CASES):
        run = prepared(E, number, shapes, fn)[0]
        calls = calls_for(run)
        times[case] = statistics.median(timeit(run, calls) for _ in range(5))
    print(json.dumps(times))


def in_children() -> dict[str, list[tuple[float, float]]]:
    """Time each engine in its own child process, alternating which goes first, for args.rounds rounds."""
    def run_child(name):
        cmd = [sys.executable, __file__, "--engine", name, "--threads", str(args.threads)]
        return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout  # errors show
    run_child("check")
    samples = {case: [] for case, _, _ in CASES}
    for r in range(args.rounds):
        order = ["gradschool", "torch"] if r % 2 == 0 else ["torch", "gradschool"]
        got = {name: json.loads(run_child(name)) for name in order}
        for case in samples:
            samples[case].append((got["gradschool"][case], got["torch"][case]))
    return samples


def in_this_process() -> dict[str, list[tuple[float, float]]]:
    """Time both engines alternately in this process (their thread pools can interfere above one thread)."""
    child("check")
    gs, to = engine("gradschool"), engine("torch")
    samples = {}
    for number, (case, shapes, fn) in enumerate(CASES):
        gs_run, to_run = prepared(gs, number, shapes, fn)[0], prepared(to, number, shapes, fn)[0]
        gs_run()
        calls = calls_for(to_run)
        samples[case] = [(timeit(gs_run, calls), timeit(to_run, calls)) for _ in range(args.rounds)]
    return samples


def main() -> None:
    if args.engine:
        return child(args.engine)
    samples = in_this_process() if args.same_process else in_children()
    mode = "one process, alternating" if args.same_process else "one child process per engine, alternating"
    print(f"threads={args.threads} rounds={args.rounds} ({mode}) numpy={np.__version__} "
          f"torch={importlib.metadata.version('torch')} python={sys.version.split()[0]}")
    print(f"{'op (forward+backward)':34s} {'gradschool':>12s} {'torch':>12s} {'ratio':>7s}")
    medians = {case: [statistics.median(p[i] for p in pairs) * 1e6 for i in (0, 1)]
               for case, pairs in samples.items()}

    def line(case, g, t):
        print(f"{case:34s} {g:10.0f}us {t:10.0f}us {g / t:6.2f}x")
    for case, _, _ in LISTED:
        line(case, *medians[case])
    listed = [medians[case] for case, _, _ in LISTED]
    line("sum of the above", sum(g for g, _ in listed), sum(t for _, t in listed))
    for case, _, _ in EXTRA:
        line(case, *medians[case])


if __name__ == "__main__":
    main()
