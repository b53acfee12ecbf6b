"""The NumPy Tensor engine: autograd on arrays (rungs 6-9)."""

from gradschool.tensor.kernels import keep_freed_memory, tuning_enabled
from gradschool.tensor.parallel import get_num_threads, set_num_threads
from gradschool.tensor.random import manual_seed
from gradschool.tensor.tensor import Tensor, cat, is_grad_enabled, no_grad, stack, where

# Import-time side effect: glibc's malloc keeps freed memory in the process for NumPy's next arrays
# (kernels.py, trick 3). GRADSCHOOL_NO_TUNING=1 in the environment leaves it out.
if tuning_enabled():
    keep_freed_memory()

__all__ = [
    "Tensor", "cat", "get_num_threads", "is_grad_enabled", "manual_seed", "no_grad", "set_num_threads",
    "stack", "where",
]
