"""Rung 3's TODOs written out (spliced into the starter by gradschool.exercises.fill)."""

import numpy as np


def softmax(logits):
    exps = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exps / exps.sum(axis=1, keepdims=True)


def cross_entropy(logits, targets):
    m = logits.max(axis=1)
    log_sum = np.log(np.exp(logits - m[:, None]).sum(axis=1)) + m
    return float((log_sum - logits[np.arange(len(targets)), targets]).mean())


def cross_entropy_grad(logits, targets):
    grad = softmax(logits)
    grad[np.arange(len(targets)), targets] -= 1
    return grad / len(targets)
