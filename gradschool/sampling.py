"""Picking the next token from a model's logits: temperature, top-k and top-p (nucleus) sampling.

`next_token_probs` turns logits into the distribution to sample from: the one function for it, used by every
language model's `generate` (so by `gradschool sample` and the course's samples); `draw` samples from it.
"""

import math

import numpy as np


def check_sampling_options(temperature: float, top_k: int | None, top_p: float | None) -> None:
    """Refuse sampling options that would silently produce garbage."""
    if not temperature > 0 or not math.isfinite(temperature):
        raise ValueError(
            f"temperature must be > 0 and finite (got {temperature}); use a small value like 0.1 for "
            "nearly greedy sampling, or top_k=1 for greedy"
        )
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be at least 1 (got {top_k})")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1] (got {top_p})")


def next_token_probs(
    logits: np.ndarray, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None
) -> np.ndarray:
    """The probabilities (float64, same shape) of the next token given its logits (..., V).

    softmax(logits / temperature), keeping only the top_k likeliest tokens and then only the smallest set of
    likeliest tokens whose probabilities add up to top_p. The largest logit is subtracted before dividing, so
    a temperature near 0 gives the argmax (ties share it) and never an overflow: every other logit becomes
    -inf, and exp(-inf) = 0.
    """
    check_sampling_options(temperature, top_k, top_p)
    logits = np.asarray(logits, dtype=np.float64)
    if not np.isfinite(logits).all():
        raise ValueError("the model's logits are not finite (NaN or inf): its weights are damaged or its "
                         "training diverged; sample from an earlier checkpoint, or train with a lower --lr")
    with np.errstate(over="ignore"):  # a tiny temperature overflows to -inf: exactly what greedy needs
        scaled = (logits - logits.max(axis=-1, keepdims=True)) / temperature
    if top_k is not None and top_k < scaled.shape[-1]:
        kth = np.sort(scaled, axis=-1)[..., -top_k, None]
        scaled = np.where(scaled < kth, -np.inf, scaled)
    probs = np.exp(scaled)
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
    return probs


def draw(probs: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """One token id per row of probs (B, V), drawn with rng; an int64 array (B,)."""
    rng = rng if rng is not None else np.random.default_rng()
    cumulative = np.cumsum(probs, axis=-1)
    u = rng.random((probs.shape[0], 1)) * cumulative[:, -1:]
    return np.minimum((cumulative <= u).sum(axis=-1), probs.shape[-1] - 1).astype(np.int64)


def sample_next(
    logits: np.ndarray,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Sample one token id per row of `logits` (B, V); returns an int64 array (B,)."""
    return draw(next_token_probs(logits, temperature, top_k, top_p), rng)
