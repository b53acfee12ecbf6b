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
import queue
import threading
from collections.abc import Callable

MIN_WORK = 1 << 17  # elements; a smaller job runs in one piece (a piece handed to a thread costs ~10 us, and
# splitting a pass over fewer elements than this measured slower than not splitting it)


def _default_threads() -> int:
    try:
        return max(1, int(os.environ.get("OMP_NUM_THREADS", "")))
    except ValueError:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class _Local(threading.local):
    """Marks a thread that runs a piece of a job (a worker, or the caller running its own piece): a piece runs
    in one go and never splits again, since the other threads are busy with the same job."""

    in_piece = False


_local = _Local()
_threads = _default_threads()
_jobs: queue.SimpleQueue = queue.SimpleQueue()  # (context, fn, start, stop, done queue) for the workers
_workers: list[threading.Thread] = []
_workers_pid = os.getpid()  # a forked child has the parent's list but none of its threads
_start_lock = threading.Lock()


def get_num_threads() -> int:
    """How many threads the engine's own elementwise work uses."""
    return _threads


def set_num_threads(n: int) -> None:
    """Use n threads for the engine's elementwise work (as torch.set_num_threads; BLAS keeps its own)."""
    global _threads
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: the number of threads must be a positive integer, got {n!r}")
    _threads = n


def _work() -> None:
    _local.in_piece = True
    while True:
        context, fn, lo, hi, done = _jobs.get()
        try:
            context.run(fn, lo, hi)
            done.put(None)
        except BaseException as e:  # handed to the caller, who raises it
            done.put(e)


def _start_workers(n: int) -> None:
    """Make sure n worker threads wait for jobs (started on first use, and again in a forked child)."""
    global _jobs, _workers, _workers_pid
    with _start_lock:
        if _workers_pid != os.getpid():
            _jobs, _workers, _workers_pid = queue.SimpleQueue(), [], os.getpid()
        while len(_workers) < n:
            _workers.append(threading.Thread(target=_work, name=f"gradschool-{len(_workers)}", daemon=True))
            _workers[-1].start()


def parallel_for(fn: Callable[[int, int], None], n: int, work: int) -> None:
    """Call fn(start, stop) on consecutive slices that cover range(n), in parallel; return when all are done.

    `work` is how many array elements the whole job touches: a small job is one call in this thread. Each
    call must write only to its own slice. The pieces run with this thread's context, so np.errstate holds
    in all of them; an exception in any piece is raised here once all have finished.
    """
    k = min(_threads, n) if work >= MIN_WORK and not _local.in_piece else 1
    if k <= 1:
        fn(0, n)
        return
    if len(_workers) < k - 1 or _workers_pid != os.getpid():
        _start_workers(k - 1)
    done: queue.SimpleQueue = queue.SimpleQueue()
    for i in range(1, k):
        _jobs.put((contextvars.copy_context(), fn, i * n // k, (i + 1) * n // k, done))
    errors = []
    _local.in_piece = True
    try:
        fn(0, n // k)
    except BaseException as e:
        errors.append(e)
    finally:
        _local.in_piece = False
    errors += [e for e in (done.get() for _ in range(k - 1)) if e is not None]
    if errors:
        raise errors[0]
