"""LayerNorm: each position's vector rescaled to mean 0 and variance 1, then a learned scale and shift."""

import numpy as np

import gradschool.tensor.functional as F
from gradschool.nn.module import Module
from gradschool.nn.parameter import Parameter
from gradschool.tensor import Tensor


class LayerNorm(Module):
    """Normalizes the last axis (of size normalized_shape); bias=False: no shift (nanoGPT's option)."""

    def __init__(self, normalized_shape: int, eps: float = 1e-5, bias: bool = True, dtype=np.float32):
        super().__init__()
        self.normalized_shape, self.eps = normalized_shape, eps
        self.weight = Parameter(np.ones(normalized_shape, dtype=dtype))
        self.bias = Parameter(np.zeros(normalized_shape, dtype=dtype)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1:] != (self.normalized_shape,):
            raise ValueError(f"LayerNorm({self.normalized_shape}) got an input of shape {x.shape}: its last "
                             f"dim must be {self.normalized_shape}")
        return F.layer_norm(x, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, bias={self.bias is not None}"
