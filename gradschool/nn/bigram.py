"""The bigram language model: a table of next-character logits, one row per current character.

As a network it is one linear layer without bias applied to a one-hot input: one_hot(x) @ W picks row x of W,
so the forward pass is a table lookup. Trained to convergence it learns the same probabilities as counting
bigrams, log(counts) up to a constant per row.
"""

from dataclasses import dataclass

import numpy as np

import gradschool.tensor.functional as F
from gradschool.nn import Parameter
from gradschool.nn.language_model import LanguageModel
from gradschool.tensor import Tensor


@dataclass
class BigramConfig:
    vocab_size: int = 27


class Bigram(LanguageModel):
    """Next-token logits from the current token only."""

    def __init__(self, config: BigramConfig):
        super().__init__()
        self.config = config
        # all zeros: every next character starts equally likely (loss = log(vocab_size))
        self.table = Parameter(np.zeros((config.vocab_size, config.vocab_size), dtype=np.float32))

    def forward(self, idx: np.ndarray | Tensor) -> Tensor:
        """Logits (B, T, V) for int tokens idx (B, T)."""
        idx = idx.data if isinstance(idx, Tensor) else np.asarray(idx)
        return F.embedding(idx, self.table)  # row idx of the table: one_hot(idx) @ table

    def get_block_size(self) -> int:
        return 1  # the current token is all it reads
