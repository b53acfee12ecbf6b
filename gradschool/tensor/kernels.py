"""The engine's speed tricks, in one place: what each one does and what it was measured to give.

The ops (tensor.py) and the fused ops (functional.py) say WHAT is computed; the helpers here say HOW to do it
fast in NumPy. Every figure is from benchmarks/RESULTS.md (GPT-baby sizes: batch 12, block 64, width 128,
4 heads, float32, 2 threads unless said otherwise; forward + backward of one op).

1. Threads over blocks of rows (`parallel_for`, in parallel.py). NumPy runs each elementwise pass on one core
   but lets go of the GIL inside the loop, so the fused ops (GELU, attention, layer norm) and AdamW cut their
   work into blocks of rows run by a small pool of threads: GELU 1983 -> 1151 us, attention 2169 -> 1387 us.
   Handing a block to a thread costs ~11 us (a ThreadPoolExecutor cost 51), so jobs under 128K elements
   are not split.
2. OpenBLAS's idle threads sleep at once (`OPENBLAS_THREAD_TIMEOUT=4`, set by `import gradschool`). After
   each matrix product they spin ~0.1 s and hold the core a worker thread needs next: a matmul followed by
   GELU's forward split in two took 1680 us, with the timeout 1109 us; the matmul itself did not slow down.
3. Freed memory stays in the process (`keep_freed_memory`, called by `import gradschool.tensor`). glibc hands
   big blocks back to the OS on free, so NumPy's next temporary of the same size is page-faulted in again,
   4 KiB at a time; raising malloc's mmap and trim thresholds makes it reuse them (PyTorch keeps a cache for
   the same reason). The biggest single win: GELU forward + backward 4.0 ms -> 1.8 ms.
4. A stack of matrix products cut into blocks over the threads (`stacked_matmul`). BLAS spreads one big
   product over the cores but runs each small product of a stack (attention's (batch, heads, T, T) scores)
   on one core: q @ k^T and att @ v 1224 -> 825 us (PyTorch 883).
5. A scatter-add as a one-hot matrix product (`index_add`): embedding's backward 200 us at 1 thread, against
   255 us by sorting + np.add.reduceat and 8x slower by np.add.at.
6. Row sums by BLAS (`row_sum`, `col_sum`, `row_dot`): a matrix-vector product with a vector of ones is
   several times faster than .sum(axis=-1); sum(a * b) over rows of >= 128 as a batch of (1, n) @ (n, 1)
   products took 19 us against einsum's 29 (768 rows of 128).
7. exp, split early (`exp_shifted`, `EXP_COST`): np.exp costs ~8 plain passes per float32 (1.7 vs 0.2 ns),
   so it is split over the threads at 1/8 of the usual size: softmax of (B, H, T, T) alone 696 -> 568 us.
   Its shift is one global maximum when all values lie within 60 of each other (a row maximum along a
   short axis is a slow reduction in NumPy).
8. GELU's memory policy (`RECOMPUTE_ABOVE`): GELU keeps 1 + exp(-2u) for backward up to 8M numbers and
   computes it again above; at nanoGPT's GPU size that took the peak memory of a step from 4910 to 4210 MB
   for 2-4% of its time. (Attention keeps its weights at any size: recomputing them, as flash attention
   does, cost 10% of that step.)
9. Independent updates dealt over the threads (`for_each_in_parallel`): AdamW's parameters, biggest first,
   one share per thread (part of trick 1's change; RESULTS.md records no separate figure for it).

Tricks 2 and 3 change the process, not just the engine, and happen at import. Set the environment variable
GRADSCHOOL_NO_TUNING=1 before importing gradschool to leave both out (the results are the same, only
slower).
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from gradschool.tensor.parallel import get_num_threads, parallel_for

NO_TUNING = "GRADSCHOOL_NO_TUNING"  # the environment variable that turns tricks 2 and 3 off
RECOMPUTE_ABOVE = 1 << 23  # numbers (32 MB in float32): above, GELU recomputes its sigmoid in backward
EXP_COST = 8  # np.exp's time per float32, in plain elementwise passes (1.7 vs 0.2 ns on this CPU)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # from glibc's malloc.h

T = TypeVar("T")


def tuning_enabled() -> bool:
    """False when GRADSCHOOL_NO_TUNING is set (to anything but 0): then nothing is changed at import."""
    return os.environ.get(NO_TUNING, "0") in ("", "0")


def keep_freed_memory(limit: int = 1 << 30) -> bool:
    """Ask glibc to serve blocks up to `limit` bytes from the heap and not to trim it; True if it agreed.

    Only glibc on Linux has these knobs; elsewhere this does nothing and returns False.
    """
    if not sys.platform.startswith("linux"):
        return False
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    # some glibc versions cap the mmap threshold at 32 MiB and refuse more
    mmap_ok = mallopt(M_MMAP_THRESHOLD, limit) or mallopt(M_MMAP_THRESHOLD, 32 << 20)
    return bool(mmap_ok) and bool(mallopt(M_TRIM_THRESHOLD, limit))


def stacked_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.matmul(a, b), where a stack of matrices is cut along its first axis into blocks, one per thread.

    Stacks whose batch dims differ (broadcast) are left to NumPy.
    """
    if a.ndim < 3 or a.shape[:-2] != b.shape[:-2] or a.shape[-1] != b.shape[-2]:
        return np.matmul(a, b)
    out = np.empty(a.shape[:-1] + b.shape[-1:], np.result_type(a, b))

    def blocks(lo: int, hi: int) -> None:
        np.matmul(a[lo:hi], b[lo:hi], out=out[lo:hi])
    parallel_for(blocks, len(a), out.size * a.shape[-1] // 4)  # a multiply-add costs ~1/4 of a pass's element
    return out


def index_add(target: np.ndarray, ids: np.ndarray, rows: np.ndarray) -> None:
    """target[ids[i]] += rows[i] for every i, where repeated ids add up (a scatter-add), in place.

    For a table of modest size as one-hot(ids) @ rows (one BLAS call); np.add.at above.
    """
    if target.shape[0] * ids.size <= 1 << 22:
        onehot = np.zeros((target.shape[0], ids.size), dtype=rows.dtype)
        onehot[ids, np.arange(ids.size)] = 1
        target += np.matmul(onehot, rows)
    else:
        np.add.at(target, ids, rows)


@functools.cache
def _ones(n: int, dtype: np.dtype) -> np.ndarray:
    ones = np.ones(n, dtype=dtype)
    ones.flags.writeable = False
    return ones


def row_sum(a: np.ndarray) -> np.ndarray:
    """Sum over the last axis, keeping it, as a matrix-vector product."""
    return np.matmul(a, _ones(a.shape[-1], a.dtype))[..., None]


def col_sum(a: np.ndarray) -> np.ndarray:
    """Sum of the rows of a 2-D array (e.g. a bias gradient), as a vector-matrix product."""
    return np.matmul(_ones(a.shape[0], a.dtype), a)


def row_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum(a * b) over the last axis, keeping it, without building a * b (einsum for rows under 128)."""
    if a.shape[-1] >= 128:
        return np.matmul(a[..., None, :], b[..., :, None])[..., 0]
    return np.einsum("...i,...i->...", a, b)[..., None]


def exp_shifted(s: np.ndarray, keep: np.ndarray | None = None, out: np.ndarray | None = None):
    """exp(s - shift) and the shift, for softmax-like functions (which do not change when s is shifted).

    The shift must make the largest value of each row at most 0 (no overflow) and leave each row at least
    one value that does not underflow. The row maximum does both; when all values lie within 60 of each
    other one global maximum does both too, faster. `keep` (a boolean mask, e.g. causal) zeroes the
    positions it leaves out.
    """
    if s.size == 0:
        return np.exp(s), 0.0
    hi = s.max()
    if hi - s.min() < 60:
        shift = hi
    else:
        if keep is not None:
            s = np.where(keep, s, -np.inf)
        shift = s.max(axis=-1, keepdims=True)
    e = np.subtract(s, shift, out=out)
    if e.ndim and len(e) > 1:  # split by rows; exp's cost makes it pay at a smaller size than a plain pass
        parallel_for(lambda lo, hi: np.exp(e[lo:hi], out=e[lo:hi]), len(e), EXP_COST * e.size)
    else:
        np.exp(e, out=e)
    if keep is not None:
        e *= keep
    return e, shift


def for_each_in_parallel(items: Sequence[T], fn: Callable[[T], None], size: Callable[[T], int]) -> None:
    """fn(item) for every item, the items dealt biggest first into one share per thread, run at once.

    The calls must be independent of each other; `size` says how many array elements an item's call touches.
    """
    n = get_num_threads()
    biggest_first = sorted(items, key=size, reverse=True)
    shares = [biggest_first[i::n] for i in range(n)]

    def run_shares(lo: int, hi: int) -> None:
        for share in shares[lo:hi]:
            for item in share:
                fn(item)
    parallel_for(run_shares, n, sum(size(item) for item in items))
