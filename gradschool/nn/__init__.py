"""Neural-network building blocks on the Tensor engine, named and shaped as in torch.nn."""

from gradschool.nn.activation import GELU, ReLU, Tanh
from gradschool.nn.containers import ModuleList, Sequential
from gradschool.nn.dropout import Dropout
from gradschool.nn.embedding import Embedding
from gradschool.nn.linear import Linear
from gradschool.nn.mlp import MLP
from gradschool.nn.module import Module
from gradschool.nn.norm import LayerNorm
from gradschool.nn.parameter import Parameter

__all__ = ["GELU", "MLP", "Dropout", "Embedding", "LayerNorm", "Linear", "Module", "ModuleList", "Parameter",
           "ReLU", "Sequential", "Tanh"]
