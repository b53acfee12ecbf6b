"""The NumPy Tensor engine: autograd on arrays (rungs 6-9)."""

from gradschool.tensor.memory import keep_freed_memory
from gradschool.tensor.random import manual_seed
from gradschool.tensor.tensor import Tensor, cat, no_grad, stack, where

keep_freed_memory()

__all__ = ["Tensor", "cat", "manual_seed", "no_grad", "stack", "where"]
