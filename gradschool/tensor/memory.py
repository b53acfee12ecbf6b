"""Keep freed memory inside the process, so NumPy's big temporaries are not page-faulted in again.

NumPy allocates a new array for most results. For big blocks glibc's malloc uses mmap and gives the pages
back to the operating system on free (and trims the top of the heap), so the next array of the same size
has to be faulted in again, 4 KiB at a time. At GPT-baby sizes that was more than half of GELU's time.
Raising malloc's two thresholds makes it reuse freed blocks instead (PyTorch keeps a cache for the same
reason). Only glibc on Linux has these knobs; elsewhere this does nothing.
"""

import ctypes
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # from glibc's malloc.h

# GELU keeps its 1 + exp(-2u) for backward up to this many numbers (32 MB in float32) and computes it again
# there above: at nanoGPT's GPU size that saves 604 MB of a 4.9 GB step for 2-4% of its time. (The attention
# weights are kept at any size: recomputing them, as flash attention does, cost 10% of that step.)
RECOMPUTE_ABOVE = 1 << 23


def keep_freed_memory(limit: int = 1 << 30) -> bool:
    """Ask glibc to serve blocks up to `limit` bytes from the heap and not to trim it; True if it agreed."""
    if not sys.platform.startswith("linux"):
        return False
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    # some glibc versions cap the mmap threshold at 32 MiB and refuse more
    mmap_ok = mallopt(M_MMAP_THRESHOLD, limit) or mallopt(M_MMAP_THRESHOLD, 32 << 20)
    return bool(mmap_ok) and bool(mallopt(M_TRIM_THRESHOLD, limit))
