# Rung 9 exercise: sampling from a GPT. Fill in each TODO, then check your work with
#     gradschool check 9 exercise_9.py
"""A language model gives logits for the next token; sampling turns them into a distribution and draws from
it. Temperature sharpens (below 1) or flattens (above 1) the distribution; top-k keeps only the k likeliest
tokens. While writing, a KV cache keeps the keys and values of the tokens already written, so each new token
costs one position's work instead of a whole forward pass.
"""

import numpy as np


def next_token_probs(logits: np.ndarray, temperature: float = 1.0, top_k: int | None = None) -> np.ndarray:
    """TODO: the probabilities (V,) to draw the next token from, given its logits (V,).

    1. subtract the largest logit (the same probabilities, and no overflow), then divide by temperature;
    2. if top_k is given: set every logit smaller than the k-th largest to -inf (ties with it stay);
    3. softmax: exp, divided by the sum.
    """
    raise NotImplementedError("TODO: write next_token_probs")


def kv_cache_step(x: np.ndarray, Wq: np.ndarray, Wk: np.ndarray, Wv: np.ndarray, cache_k: np.ndarray,
                  cache_v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TODO: one head of causal attention for the newest position only, with a KV cache.

    x (C,) is the new position's input; cache_k and cache_v (t, D) hold the keys and values of the t
    positions before it (t may be 0: shape (0, D)); Wq, Wk, Wv are (C, D).
    q, k, v = x @ Wq, x @ Wk, x @ Wv (D,); append k to cache_k and v to cache_v as new last rows (t + 1, D);
    weights = softmax(cache_k @ q / sqrt(D)) (t + 1,): the newest position may see every position, so no
    mask; out = weights @ cache_v (D,). Return (out, cache_k, cache_v), the caches with the new row.
    """
    raise NotImplementedError("TODO: write kv_cache_step")


if __name__ == "__main__":
    logits = np.array([2.0, 1.0, 0.5, -1.0])
    print("temperature 0.5:", next_token_probs(logits, 0.5).round(3))
    print("top-2:          ", next_token_probs(logits, 1.0, top_k=2).round(3))
    rng = np.random.default_rng(9)
    Wq, Wk, Wv = (rng.normal(size=(8, 4)) for _ in range(3))
    cache_k = cache_v = np.zeros((0, 4))
    for x in rng.normal(size=(5, 8)):  # five tokens, one at a time
        out, cache_k, cache_v = kv_cache_step(x, Wq, Wk, Wv, cache_k, cache_v)
    print("the cache holds", len(cache_k), "positions; the last output:", out.round(3))
