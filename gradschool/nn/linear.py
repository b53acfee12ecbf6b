"""Linear: y = x W^T + b, the layer that holds most of a network's weights."""

import math

import numpy as np

import gradschool.tensor.functional as F
from gradschool.nn.module import Module
from gradschool.nn.parameter import Parameter
from gradschool.tensor import Tensor
from gradschool.tensor.random import generator


class Linear(Module):
    """in_features -> out_features; weight (out_features, in_features) and init as in PyTorch.

    PyTorch draws weight and bias uniformly from [-1/sqrt(in_features), 1/sqrt(in_features)], so the outputs
    start with about the variance of the inputs whatever the width.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=np.float32):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1 / math.sqrt(in_features) if in_features > 0 else 0.0
        rng = generator()
        self.weight = Parameter(rng.uniform(-bound, bound, (out_features, in_features)).astype(dtype))
        self.bias = Parameter(rng.uniform(-bound, bound, out_features).astype(dtype)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        bias = self.bias is not None
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={bias}"
