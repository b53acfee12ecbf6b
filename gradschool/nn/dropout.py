"""Dropout: in training, zero each element with probability p (and scale the rest by 1/(1-p))."""

import gradschool.tensor.functional as F
from gradschool.nn.module import Module
from gradschool.tensor import Tensor


class Dropout(Module):
    """Active in train() mode, the identity in eval() mode."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout probability must be between 0 and 1, got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
