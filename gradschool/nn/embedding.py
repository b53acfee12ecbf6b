"""Embedding: a table of learned vectors, one row per token id."""

import numpy as np

import gradschool.tensor.functional as F
from gradschool.nn.module import Module
from gradschool.nn.parameter import Parameter
from gradschool.tensor import Tensor
from gradschool.tensor.random import generator


class Embedding(Module):
    """Rows of weight (num_embeddings, embedding_dim) picked by integer ids; init normal(0, 1) as PyTorch."""

    def __init__(self, num_embeddings: int, embedding_dim: int, dtype=np.float32):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = Parameter(generator().standard_normal((num_embeddings, embedding_dim)).astype(dtype))

    def forward(self, idx: np.ndarray | Tensor) -> Tensor:
        """(...) integer ids -> (..., embedding_dim) vectors."""
        return F.embedding(idx, self.weight)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"
