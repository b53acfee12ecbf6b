"""Rung 5's TODOs written out (spliced into the starter by gradschool.exercises.fill)."""

import numpy as np


def embed(C, contexts):
    return C[contexts]


def mlp_forward(C, W1, b1, W2, b2, contexts):
    emb = embed(C, contexts)
    x = emb.reshape(len(contexts), -1)
    h = np.tanh(x @ W1 + b1)
    return h @ W2 + b2
