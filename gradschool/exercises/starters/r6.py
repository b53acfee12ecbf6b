# Rung 6 exercise: the backward pass of a Tensor engine. Fill in each TODO, then check your work with
#     gradschool check 6 exercise_6.py
"""A Tensor operation hands each input the gradient of the loss with respect to that input, which must have
the input's shape. Two pieces make that work for arrays: undoing broadcasting (an input stretched to a bigger
shape gets the sum of the gradients of all its copies) and the backward pass of the matrix product.
"""

import numpy as np


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """TODO: sum grad over the axes that broadcasting stretched, so that the result has `shape`.

    An input of shape `shape` was broadcast to grad.shape: NumPy put new axes in front, and stretched its
    axes of size 1. Every copy contributed to the output, so the input's gradient is the sum over the copies:
    1. sum over the leading axes that grad has in extra (the first grad.ndim - len(shape) axes);
    2. then sum with keepdims=True over every axis where `shape` has 1 and grad does not.
    E.g. grad (2, 3, 4) for shape (3, 1): sum over axis 0 -> (3, 4), then over axis 1, kept -> (3, 1).
    """
    raise NotImplementedError("TODO: write unbroadcast")


def matmul_backward(A: np.ndarray, B: np.ndarray, grad_out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TODO: the gradients (dA, dB) of C = A @ B, given grad_out = dL/dC, each of its input's shape.

    A (..., n, k) and B (..., k, m) may have leading batch axes that broadcast against each other (B is often
    a plain matrix (k, m) shared by every batch); C and grad_out are (..., n, m).
    dA = grad_out @ B^T and dB = A^T @ grad_out, where ^T swaps the last two axes (np.swapaxes(X, -1, -2));
    then unbroadcast each to its input's shape (a B shared by the batch gets the sum over the batch).
    """
    raise NotImplementedError("TODO: write matmul_backward")


if __name__ == "__main__":
    print(unbroadcast(np.ones((2, 3, 4)), (3, 1)))
    A, B = np.ones((2, 3, 4)), np.ones((4, 5))
    dA, dB = matmul_backward(A, B, np.ones((2, 3, 5)))
    print(dA.shape, dB.shape)
