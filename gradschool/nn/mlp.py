"""MLP: the rung-2 multi-layer perceptron on Tensors: Linear layers with a nonlinearity between them."""

import numpy as np

from gradschool.nn.activation import ReLU
from gradschool.nn.containers import Sequential
from gradschool.nn.linear import Linear
from gradschool.nn.module import Module


class MLP(Sequential):
    """MLP(nin, [n1, n2, ..., nout]): Linear(nin, n1), activation, Linear(n1, n2), ..., Linear(., nout).

    The last layer has no activation (its outputs are scores or logits), as micrograd's and torchvision's MLP.
    """

    def __init__(self, nin: int, nouts: list[int], activation: type[Module] = ReLU, dtype=np.float32):
        sizes = [nin, *nouts]
        layers: list[Module] = []
        for i in range(len(nouts)):
            layers.append(Linear(sizes[i], sizes[i + 1], dtype=dtype))
            if i < len(nouts) - 1:
                layers.append(activation())
        super().__init__(*layers)
