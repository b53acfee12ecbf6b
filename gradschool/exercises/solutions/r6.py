"""Rung 6's TODOs written out (spliced into the starter by gradschool.exercises.fill)."""

import numpy as np


def unbroadcast(grad, shape):
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def matmul_backward(A, B, grad_out):
    dA = grad_out @ np.swapaxes(B, -1, -2)
    dB = np.swapaxes(A, -1, -2) @ grad_out
    return unbroadcast(dA, A.shape), unbroadcast(dB, B.shape)
