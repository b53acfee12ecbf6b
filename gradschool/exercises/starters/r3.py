# Rung 3 exercise: softmax, cross-entropy and its gradient, on NumPy arrays. Fill in each TODO, then check
# your work with
#     gradschool check 3 exercise_3.py
"""A classifier outputs one score (logit) per class; softmax turns the scores into probabilities, and the
cross-entropy loss is -log of the probability given to the right class. Its gradient with respect to the
logits is simple: the probabilities, minus 1 at the right class.
"""

import numpy as np


def softmax(logits: np.ndarray) -> np.ndarray:
    """TODO: probabilities from scores, row by row: logits (N, C) -> probs (N, C), each row summing to 1.

    softmax(z)_j = exp(z_j) / sum_k exp(z_k). exp(1000) overflows to inf, so first subtract each row's max
    (z - max(z) gives the same probabilities, and the largest exp is then exp(0) = 1); keepdims=True keeps
    the max of shape (N, 1), which broadcasts against (N, C).
    """
    raise NotImplementedError("TODO: write softmax")


def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> float:
    """TODO: the mean over the N rows of -log softmax(logits)[i, targets[i]], as a float.

    logits (N, C), targets (N,) class indices. Compute -log p_target as log(sum_k exp(z_k - m)) + m - z_target
    with m the row's max (log-sum-exp): it never takes log(0), even when p_target is below 1e-300.
    """
    raise NotImplementedError("TODO: write cross_entropy")


def cross_entropy_grad(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """TODO: d cross_entropy(logits, targets) / d logits, shape (N, C).

    (softmax(logits) - onehot(targets)) / N: the probabilities, minus 1 at each row's target, divided by the
    number of rows (the loss is a mean).
    """
    raise NotImplementedError("TODO: write cross_entropy_grad")


if __name__ == "__main__":
    z = np.array([[2.0, 1.0, 0.1], [0.0, 0.0, 5.0]])
    y = np.array([0, 0])
    print("softmax:", softmax(z).round(3))
    print("loss:", round(cross_entropy(z, y), 4))
    print("gradient:", cross_entropy_grad(z, y).round(3))
