"""Nonlinearities as modules, for Sequential: Tanh, ReLU, GELU."""

from gradschool.nn.module import Module
from gradschool.tensor import Tensor


class Tanh(Module):
    def forward(self, x: Tensor) -> Tensor:
        return x.tanh()


class ReLU(Module):
    def forward(self, x: Tensor) -> Tensor:
        return x.relu()


class GELU(Module):
    """GELU with GPT-2's tanh approximation: PyTorch's GELU(approximate="tanh")."""

    def forward(self, x: Tensor) -> Tensor:
        return x.gelu()
