"""Checks of rung 3's exercise: softmax, cross_entropy and cross_entropy_grad."""

import numpy as np

import gradschool.tensor.functional as F
from gradschool.exercises.part import Part, array, central_differences, number
from gradschool.tensor import Tensor, no_grad


def draw_logits(rng) -> list[dict]:
    big = rng.normal(0, 1, (2, 4)) + np.array([[1000.0], [-1000.0]])  # exp overflows without the shift
    return [{"logits": rng.normal(0, 2, (3, 5)).round(4).tolist()}, {"logits": big.round(4).tolist()}]


def answer_softmax(mod, case) -> dict:
    logits = np.array(case["logits"])
    return {"softmax(logits)": array(mod.softmax(logits.copy()), "softmax(logits)", logits.shape)}


def oracle_softmax(case) -> dict:
    with no_grad():
        return {"softmax(logits)": F.softmax(Tensor(np.array(case["logits"]))).data.tolist()}


def draw_targets(rng) -> list[dict]:
    cases = []
    for scale in (1.0, 3.0):
        logits = rng.normal(0, scale, (4, 5))
        cases.append({"logits": logits.round(4).tolist(), "targets": rng.integers(0, 5, 4).tolist()})
    confident = np.array([[0.0, 0.0, 800.0], [1.0, 2.0, 3.0]])  # row 0: p_target = exp(-800), below 1e-300
    cases.append({"logits": confident.tolist(), "targets": [0, 2]})
    return cases


def answer_loss(mod, case) -> dict:
    logits, targets = np.array(case["logits"]), np.array(case["targets"])
    return {"cross_entropy(logits, targets)": number(mod.cross_entropy(logits.copy(), targets),
                                                     "cross_entropy(logits, targets)")}


def library_loss(logits: np.ndarray, targets: list[int]) -> float:
    with no_grad():
        return F.cross_entropy(Tensor(logits), np.array(targets)).item()


def oracle_loss(case) -> dict:
    return {"cross_entropy(logits, targets)": library_loss(np.array(case["logits"]), case["targets"])}


def answer_grad(mod, case) -> dict:
    logits, targets = np.array(case["logits"]), np.array(case["targets"])
    return {"d loss/d logits": array(mod.cross_entropy_grad(logits.copy(), targets),
                                     "cross_entropy_grad(logits, targets)", logits.shape)}


def oracle_grad(case) -> dict:
    grad = central_differences(lambda z: library_loss(z, case["targets"]), np.array(case["logits"]))
    return {"d loss/d logits": grad.tolist()}


PARTS = [
    Part("3.1", "softmax, safe from overflow", draw_logits, answer_softmax, oracle_softmax,
         "exp(z) / sum(exp(z)) along each row (axis=1), after subtracting each row's max (keepdims=True): "
         "exp(1000) is inf, and inf/inf is nan"),
    Part("3.2", "cross_entropy: the mean of -log p[target]", draw_targets,
         answer_loss, oracle_loss,
         "average -log p[i, targets[i]] over the rows, computed as log(sum(exp(z - m))) + m - z[target] so "
         "that a tiny p never becomes log(0) = -inf", uses=("softmax",)),
    Part("3.3", "cross_entropy_grad: softmax minus one-hot, over N", lambda rng: draw_targets(rng)[:2],
         answer_grad, oracle_grad,
         "softmax(logits), minus 1 at [i, targets[i]] for every row i, all divided by N (the loss is a mean)",
         uses=("softmax",)),
]
