"""Picking the next token from a model's logits: temperature, top-k and top-p (nucleus) sampling."""

from collections.abc import Callable

import numpy as np

from gradschool.tensor import Tensor, no_grad


def check_sampling_options(temperature: float, top_k: int | None, top_p: float | None) -> None:
    """Refuse sampling options that would silently produce garbage."""
    if not temperature > 0:
        raise ValueError(
            f"temperature must be > 0 (got {temperature}); use a small value like 0.1 for "
            "nearly greedy sampling, or top_k=1 for greedy"
        )
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be at least 1 (got {top_k})")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1] (got {top_p})")


def sample_next(
    logits: np.ndarray,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Sample one token id per row of `logits` (B, V); returns an int64 array (B,)."""
    check_sampling_options(temperature, top_k, top_p)
    rng = rng if rng is not None else np.random.default_rng()
    logits = np.asarray(logits, dtype=np.float64) / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = np.sort(logits, axis=-1)[:, -top_k][:, None]
        logits = np.where(logits < kth, -np.inf, logits)
    probs = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probs /= probs.sum(axis=-1, keepdims=True)
    if top_p is not None and top_p < 1:
        order = np.argsort(-probs, axis=-1, kind="stable")
        sorted_probs = np.take_along_axis(probs, order, axis=-1)
        # keep the smallest prefix whose mass reaches top_p (always at least the most likely token)
        drop_sorted = np.cumsum(sorted_probs, axis=-1) - sorted_probs >= top_p
        drop = np.zeros_like(drop_sorted)
        np.put_along_axis(drop, order, drop_sorted, axis=-1)
        probs = np.where(drop, 0.0, probs)
        probs /= probs.sum(axis=-1, keepdims=True)
    cumulative = np.cumsum(probs, axis=-1)
    u = rng.random((probs.shape[0], 1)) * cumulative[:, -1:]
    return np.minimum((cumulative <= u).sum(axis=-1), probs.shape[-1] - 1).astype(np.int64)


def generate_from_window(
    model: Callable[[np.ndarray], Tensor],
    idx: np.ndarray | Tensor,
    max_new_tokens: int,
    window: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Extend idx (B, T) by max_new_tokens tokens, each sampled from `model` run on the last `window` tokens.

    The plain way to sample, for models that look at a short context (bigram: 1 token, MLP: block_size);
    the GPT keeps a KV cache instead. Returns an int64 array (B, T + max_new_tokens).
    """
    idx = np.asarray(idx.data if isinstance(idx, Tensor) else idx, dtype=np.int64)
    with no_grad():
        for _ in range(max_new_tokens):
            logits = model(idx[:, -window:]).data[:, -1, :]
            idx = np.concatenate([idx, sample_next(logits, temperature, top_k, top_p, rng)[:, None]], axis=1)
    return idx
