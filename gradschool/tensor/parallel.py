"""Spreading NumPy work over the CPU's cores.

NumPy runs each elementwise pass (x * y, np.exp, ...) on one core, but it lets go of Python's GIL while its
loop runs, so two threads can each make a pass over their own half of an array at the same time. The fused
ops (GELU, attention, layer norm) and AdamW cut their work into blocks of rows and hand them to
`parallel_for`; matrix products are already spread over the cores by BLAS.

The number of threads follows PyTorch: OMP_NUM_THREADS if it is set, else one per core the process may run
on; `set_num_threads(n)` changes it, and 1 runs everything in the calling thread.
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

MIN_WORK = 1 << 15  # elements; a smaller job runs in one piece (handing a piece to a thread costs ~20 us)


def _default_threads() -> int:
    try:
        return max(1, int(os.environ.get("OMP_NUM_THREADS", "")))
    except ValueError:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class _Pool(threading.local):
    """Marks the pool's own threads, which run their piece in one go (they never wait on each other)."""

    is_worker = False


_local = _Pool()
_threads = _default_threads()
_pool: ThreadPoolExecutor | None = None
_pool_key: tuple[int, int] | None = None  # (process id, threads) the pool was made for
_pool_lock = threading.Lock()


def get_num_threads() -> int:
    """How many threads the engine's own elementwise work uses."""
    return _threads


def set_num_threads(n: int) -> None:
    """Use n threads for the engine's elementwise work (as torch.set_num_threads; BLAS keeps its own)."""
    global _threads
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: the number of threads must be a positive integer, got {n!r}")
    _threads = n


def _mark_worker() -> None:
    _local.is_worker = True


def _get_pool() -> ThreadPoolExecutor:
    """The worker threads (one fewer than the thread count: the caller works too), made on first use and
    made again in a forked child, whose copy of the parent's threads does not run."""
    global _pool, _pool_key
    key = (os.getpid(), _threads)
    with _pool_lock:
        if _pool_key != key:
            if _pool is not None and _pool_key[0] == key[0]:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(_threads - 1, "gradschool", initializer=_mark_worker)
            _pool_key = key
        return _pool


def parallel_for(fn: Callable[[int, int], None], n: int, work: int) -> None:
    """Call fn(start, stop) on consecutive slices that cover range(n), in parallel; return when all are done.

    `work` is how many array elements the whole job touches: a small job is one call in this thread. Each
    call must write only to its own slice. The pieces run with this thread's context, so np.errstate holds
    in all of them; an exception in any piece is raised here once all have finished.
    """
    k = min(_threads, n) if work >= MIN_WORK and not _local.is_worker else 1
    if k <= 1:
        fn(0, n)
        return
    bounds = [(i * n // k, (i + 1) * n // k) for i in range(k)]
    pool = _get_pool()
    futures = [pool.submit(contextvars.copy_context().run, fn, lo, hi) for lo, hi in bounds[1:]]
    try:
        fn(*bounds[0])
    finally:
        wait(futures)
    for f in futures:
        f.result()
