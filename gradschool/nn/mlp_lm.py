"""The MLP language model of Bengio et al. (2003), as in makemore part 2.

Each character gets a learned embedding vector; the embeddings of the previous `block_size` characters are
concatenated and fed through a tanh hidden layer to the next-character logits. The context before the first
position of a sequence is filled with `pad_token`: the start token of names ('.', id 0, exactly as in makemore
part 2), or, when the data has none, an extra token of its own (id vocab_size). So any batch (B, T) trains it.
"""

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from gradschool.nn import Embedding, Linear
from gradschool.nn.language_model import LanguageModel
from gradschool.tensor import Tensor


@dataclass
class MLPConfig:
    block_size: int = 3  # characters of context
    vocab_size: int = 27
    n_embd: int = 10  # size of a character's embedding
    n_hidden: int = 200
    pad_token: int | None = 0  # fills the context before the start; None: an extra token, id vocab_size


class MLPLanguageModel(LanguageModel):
    """Next-token logits from the embeddings of the previous block_size tokens."""

    def __init__(self, config: MLPConfig):
        super().__init__()
        self.config = config
        self.pad = config.vocab_size if config.pad_token is None else config.pad_token
        self.wte = Embedding(config.vocab_size + (config.pad_token is None), config.n_embd)
        self.hidden = Linear(config.block_size * config.n_embd, config.n_hidden)
        self.lm_head = Linear(config.n_hidden, config.vocab_size)

    def contexts(self, idx: np.ndarray) -> np.ndarray:
        """(B, T) tokens -> (B, T, block_size): the block_size tokens up to each position, start-padded."""
        B, _ = idx.shape
        pad = np.full((B, self.config.block_size - 1), self.pad, dtype=idx.dtype)
        return sliding_window_view(np.concatenate([pad, idx], axis=1), self.config.block_size, axis=1)

    def forward(self, idx: np.ndarray | Tensor) -> Tensor:
        """Logits (B, T, V) for int tokens idx (B, T)."""
        idx = idx.data if isinstance(idx, Tensor) else np.asarray(idx)
        return self.forward_contexts(self.contexts(idx))

    def forward_contexts(self, contexts: np.ndarray) -> Tensor:
        """Logits (..., V) for contexts (..., block_size) of int tokens: makemore part 2's network."""
        emb = self.wte(contexts)  # (..., block_size, n_embd)
        h = self.hidden(emb.reshape(*contexts.shape[:-1], -1)).tanh()
        return self.lm_head(h)

