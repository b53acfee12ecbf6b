"""The import-time tricks of gradschool/tensor/kernels.py: on by default, off with GRADSCHOOL_NO_TUNING=1."""

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from gradschool.tensor.kernels import keep_freed_memory

ROOT = Path(__file__).resolve().parent.parent
GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"

# In a fresh interpreter: import gradschool.tensor, then allocate a 16 MB array and ask glibc how much memory
# it holds in mmap-ed blocks. glibc's default puts a block that big in its own mmap; with malloc's thresholds
# raised (trick 3) it comes from the heap instead.
PROBE = """
import ctypes, json, os
import gradschool.tensor
import numpy as np

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]

libc = ctypes.CDLL(None)
mapped = None
if hasattr(libc, "mallinfo2"):
    libc.mallinfo2.restype = MallInfo2
    array = np.ones(4_000_000, dtype=np.float32)
    mapped = libc.mallinfo2().hblkhd
print(json.dumps({"timeout": os.environ.get("OPENBLAS_THREAD_TIMEOUT"), "mapped": mapped}))
"""


def probe(**env: str) -> dict:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("OPENBLAS_THREAD_TIMEOUT", "GRADSCHOOL_NO_TUNING")}
    environ["PYTHONPATH"] = str(ROOT) + os.pathsep + environ.get("PYTHONPATH", "")
    done = subprocess.run([sys.executable, "-c", PROBE], env={**environ, **env}, capture_output=True,
                          text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def test_import_tunes_openblas_and_malloc_by_default():
    got = probe()
    assert got["timeout"] == "4"
    if GLIBC and got["mapped"] is not None:
        assert got["mapped"] < 16_000_000  # the 16 MB array came from the heap


@pytest.mark.parametrize("value", ["1", "yes"])
def test_gradschool_no_tuning_leaves_the_process_as_it_was(value):
    got = probe(GRADSCHOOL_NO_TUNING=value)
    assert got["timeout"] is None
    if GLIBC and got["mapped"] is not None:
        assert got["mapped"] >= 16_000_000  # glibc's default: the 16 MB array is its own mmap


def test_keep_freed_memory_is_accepted_by_glibc():
    if not GLIBC:
        pytest.skip("mallopt thresholds exist only in glibc")
    assert keep_freed_memory() is True
