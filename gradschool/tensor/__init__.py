"""The NumPy Tensor engine: autograd on arrays (rungs 6-9)."""

from gradschool.tensor.memory import keep_freed_memory
from gradschool.tensor.parallel import get_num_threads, set_num_threads
from gradschool.tensor.random import manual_seed
from gradschool.tensor.tensor import Tensor, cat, no_grad, stack, where

keep_freed_memory()

__all__ = [
    "Tensor", "cat", "get_num_threads", "manual_seed", "no_grad", "set_num_threads", "stack", "where",
]
