"""Forward+backward time of the Tensor engine's hot ops against PyTorch eager on CPU, at GPT-baby sizes.

Both sides get the same thread count (NumPy's OpenBLAS via OPENBLAS_NUM_THREADS, torch via set_num_threads);
each op is timed alternately on the two engines in one run and the medians are compared.

    python benchmarks/tensor_ops.py [--threads N] [--rounds R]
"""

import argparse
import os
import sys

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for both engines")
parser.add_argument("--rounds", type=int, default=15, help="alternating timing rounds per op")
args = parser.parse_args()
os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(args.threads)  # before NumPy loads

import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

import gradschool.tensor.functional as F  # noqa: E402
from gradschool.tensor import Tensor  # noqa: E402

torch.set_num_threads(args.threads)
B, T, C, V, H = 12, 64, 128, 65, 4  # nanoGPT's CPU recipe: batch, block, width, 65 characters, heads
rng = np.random.default_rng(0)


def arrays(*shapes):
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def pair(shapes):
    """The same float32 inputs as gradschool Tensors and as torch tensors, all requiring grad."""
    data = arrays(*shapes)
    return [Tensor(a, requires_grad=True) for a in data], [torch.tensor(a, requires_grad=True) for a in data]


def step(fn, inputs, backward):
    def run():
        for t in inputs:
            t.grad = None
        out = fn(*inputs)
        backward(out)
    return run


def case(name, shapes, gs_fn, torch_fn):
    gs_in, torch_in = pair(shapes)
    out, want = gs_fn(*gs_in).data, torch_fn(*torch_in).detach().numpy()
    assert np.abs(out - want).max() <= 1e-4 * np.abs(want).max(), f"{name}: the engines disagree"  # same work
    up = rng.standard_normal(out.shape).astype(np.float32)
    up_t = torch.tensor(up)

    def gs_backward(out):
        out.backward(up) if out.ndim else out.backward()

    def torch_backward(out):
        out.backward(up_t) if out.ndim else out.backward()
    return name, step(gs_fn, gs_in, gs_backward), step(torch_fn, torch_in, torch_backward)


targets = rng.integers(0, V, size=B * T)
targets_t = torch.tensor(targets)
idx = targets.reshape(B, T)
idx_t = torch.tensor(idx)
causal = dict(is_causal=True)
LISTED = [  # the ops the target is about: each at most 1.5x PyTorch, their sum at most 1.0x
    case("matmul: linear 128->512", [(B, T, C), (4 * C, C), (4 * C,)], F.linear, TF.linear),
    case("layer_norm", [(B, T, C), (C,), (C,)], F.layer_norm, lambda x, w, b: TF.layer_norm(x, (C,), w, b)),
    case("softmax + cross_entropy", [(B * T, V)], lambda x: F.cross_entropy(x, targets),
         lambda x: TF.cross_entropy(x, targets_t)),
    case("attention bmm q@k^T, att@v", [(B, H, T, C // H)] * 3,
         lambda q, k, v: (q @ k.transpose(-2, -1)) @ v, lambda q, k, v: (q @ k.transpose(-2, -1)) @ v),
    case("sdpa causal", [(B, H, T, C // H)] * 3,
         lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **causal),
         lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, **causal)),
    case("gelu (B,T,4C)", [(B, T, 4 * C)], F.gelu, lambda x: TF.gelu(x, approximate="tanh")),
]
def block(F, x, ln1_w, ln1_b, w_attn, b_attn, w_proj, b_proj, ln2_w, ln2_b, w_fc, b_fc, w_out, b_out,
          attention, gelu):
    """One pre-layer-norm transformer block as in gradschool/nn/gpt.py, for either engine's F."""
    q, k, v = F.linear(F.layer_norm(x, (C,), ln1_w, ln1_b) if F is TF else F.layer_norm(x, ln1_w, ln1_b),
                       w_attn, b_attn).split(C, 2)
    q, k, v = (t.reshape(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
    x = x + F.linear(attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, C), w_proj, b_proj)
    h = F.layer_norm(x, (C,), ln2_w, ln2_b) if F is TF else F.layer_norm(x, ln2_w, ln2_b)
    return x + F.linear(gelu(F.linear(h, w_fc, b_fc)), w_out, b_out)


BLOCK_SHAPES = [(B, T, C), (C,), (C,), (3 * C, C), (3 * C,), (C, C), (C,), (C,), (C,), (4 * C, C), (4 * C,),
                (C, 4 * C), (C,)]
EXTRA = [  # also on the GPT's path, or useful to know
    case("transformer block (4C MLP)", BLOCK_SHAPES,
         lambda *a: block(F, *a, F.scaled_dot_product_attention, F.gelu),
         lambda *a: block(TF, *a, TF.scaled_dot_product_attention, lambda t: TF.gelu(t, approximate="tanh"))),
    case("embedding (B,T) -> (B,T,C)", [(V, C)], lambda w: F.embedding(idx, w),
         lambda w: TF.embedding(idx_t, w)),
    case("lm_head 128->65 + cross_entropy", [(B * T, C), (V, C)],
         lambda x, w: F.cross_entropy(F.linear(x, w), targets),
         lambda x, w: TF.cross_entropy(TF.linear(x, w), targets_t)),
    case("softmax (B,H,T,T) alone", [(B, H, T, T)], F.softmax, lambda x: TF.softmax(x, -1)),
]


def timeit(fn, number):
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def measure(name, gs_run, torch_run):
    """Median time per call of each engine, timed alternately."""
    gs_run(), torch_run()  # warm up
    number = max(1, int(0.02 / timeit(torch_run, 3)))  # about 20 ms per timing
    gs_times, torch_times = [], []
    for _ in range(args.rounds):
        gs_times.append(timeit(gs_run, number))
        torch_times.append(timeit(torch_run, number))
    g, t = np.median(gs_times) * 1e6, np.median(torch_times) * 1e6
    print(f"{name:34s} {g:10.0f}us {t:10.0f}us {g / t:6.2f}x")
    return g, t


def main():
    print(f"threads={args.threads} rounds={args.rounds} numpy={np.__version__} torch={torch.__version__} "
          f"python={sys.version.split()[0]}")
    print(f"{'op (forward+backward)':34s} {'gradschool':>12s} {'torch':>12s} {'ratio':>7s}")
    times = [measure(*c) for c in LISTED]
    g_sum, t_sum = sum(g for g, _ in times), sum(t for _, t in times)
    print(f"{'sum of the above':34s} {g_sum:10.0f}us {t_sum:10.0f}us {g_sum / t_sum:6.2f}x")
    for c in EXTRA:
        measure(*c)


if __name__ == "__main__":
    main()
