"""Rung 7's TODOs written out (spliced into the starter by gradschool.exercises.fill)."""

import numpy as np


def causal_attention_weights(q, k):
    T, D = q.shape
    scores = q @ k.T / np.sqrt(D)
    scores = np.where(np.triu(np.ones((T, T), dtype=bool), k=1), -np.inf, scores)
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))
    return weights / weights.sum(axis=1, keepdims=True)


def attention_head(x, Wq, Wk, Wv):
    q, k, v = x @ Wq, x @ Wk, x @ Wv
    return causal_attention_weights(q, k) @ v
