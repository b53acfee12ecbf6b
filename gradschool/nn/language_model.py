"""What every language model of gradschool shares (bigram, MLP, GPT): its context length and sampling.

A language model maps token ids (B, T) to next-token logits (B, T, vocab_size). `generate` extends a prompt
one sampled token at a time, feeding the model at most `get_block_size()` tokens, as makemore and nanoGPT do.
A model that can sample faster (the GPT, with its KV cache) overrides only `next_logits_fn`.
"""

from collections.abc import Callable

import numpy as np

from gradschool.nn.module import Module
from gradschool.sampling import check_sampling_options, draw, next_token_probs
from gradschool.tensor import Tensor, no_grad


class LanguageModel(Module):
    """A Module whose forward gives next-token logits (B, T, V) for token ids (B, T); self.config has
    vocab_size and, unless get_block_size is overridden, block_size."""

    def get_block_size(self) -> int:
        """The most tokens of context the model reads at once."""
        return self.config.block_size

    def next_logits_fn(self, exact_window: bool = False) -> Callable[[np.ndarray], np.ndarray]:
        """A function from the tokens so far (B, T) to the next token's logits (B, V).

        Here: a whole forward pass over the last get_block_size() tokens, for every new token.
        """
        block = self.get_block_size()
        return lambda idx: self(idx[:, -block:]).data[:, -1, :]

    def generate(
        self,
        idx: np.ndarray | Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        rng: np.random.Generator | None = None,
        exact_window: bool = False,
    ) -> np.ndarray:
        """Extend idx (B, T) by max_new_tokens sampled tokens; returns an int64 array (B, T + max_new_tokens).

        Each token is drawn from next_token_probs (gradschool.sampling) with rng. A prompt longer than the
        block size is cropped to its last get_block_size() tokens, as in nanoGPT. exact_window=True makes a
        model with a cache (the GPT) also see exactly the last get_block_size() tokens for every token.
        """
        check_sampling_options(temperature, top_k, top_p)
        out = self.check_prompt(idx)
        next_logits = self.next_logits_fn(exact_window)
        with no_grad():
            for _ in range(max_new_tokens):
                probs = next_token_probs(next_logits(out), temperature, top_k, top_p)
                out = np.concatenate([out, draw(probs, rng)[:, None]], axis=1)
        return out

    def check_prompt(self, idx: np.ndarray | Tensor) -> np.ndarray:
        """The prompt as int64 (B, T >= 1), or a ValueError saying what is wrong with it."""
        idx = np.asarray(idx.data if isinstance(idx, Tensor) else idx)
        if idx.ndim != 2 or idx.shape[1] == 0 or idx.dtype.kind not in "iu":
            raise ValueError(f"generate needs a prompt of integer token ids of shape (batch, time >= 1), got "
                             f"{idx.dtype} {idx.shape}")
        vocab_size = self.config.vocab_size
        if idx.min() < 0 or idx.max() >= vocab_size:
            raise ValueError(f"prompt token ids must be in 0..{vocab_size - 1}, got {idx.min()}..{idx.max()}")
        return idx.astype(np.int64)
