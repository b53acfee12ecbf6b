"""Checks of rung 6's exercise: unbroadcast and matmul_backward (the oracle: the Tensor engine)."""

import numpy as np

from gradschool.exercises.part import Part, array, central_differences, sequence
from gradschool.tensor import Tensor
from gradschool.tensor.tensor import unbroadcast

SHAPES = [((3, 4), (4,)), ((3, 4), (3, 1)), ((2, 3, 4), (3, 1)), ((2, 3, 5), (1, 3, 1)), ((4, 2), (1,)),
          ((2, 2), ()), ((5, 1, 3), (4, 3)), ((3, 2), (3, 2))]  # (grad.shape, the input's shape)


def draw_gradients(rng) -> list[dict]:
    return [{"grad": rng.normal(0, 1, big).round(3).tolist(), "shape": list(small)} for big, small in SHAPES
            if np.broadcast_shapes(big, small) == big] + [
        {"grad": rng.normal(0, 1, (5, 4, 3)).round(3).tolist(), "shape": [4, 1]}]


def answer_unbroadcast(mod, case) -> dict:
    shape = tuple(case["shape"])
    return {"unbroadcast(grad, shape)": array(mod.unbroadcast(np.array(case["grad"]), shape),
                                              f"unbroadcast(grad, {shape})", shape)}


def oracle_unbroadcast(case) -> dict:
    return {"unbroadcast(grad, shape)": np.asarray(unbroadcast(np.array(case["grad"]), tuple(case["shape"])))
            .tolist()}


def show_gradient(case) -> str:
    return f"grad of shape {np.shape(case['grad'])} and shape={tuple(case['shape'])}"


def draw_products(rng) -> list[dict]:
    shapes = [((3, 4), (4, 2)), ((2, 3, 4), (4, 5)), ((2, 1, 2, 3), (3, 3, 2))]
    cases = []
    for sa, sb in shapes:
        out = np.broadcast_shapes(sa[:-2], sb[:-2]) + (sa[-2], sb[-1])
        cases.append({"A": rng.normal(0, 1, sa).round(3).tolist(),
                      "B": rng.normal(0, 1, sb).round(3).tolist(),
                      "grad_out": rng.normal(0, 1, out).round(3).tolist()})
    return cases


def answer_matmul(mod, case) -> dict:
    A, B, G = (np.array(case[k]) for k in ("A", "B", "grad_out"))
    dA, dB = sequence(mod.matmul_backward(A, B, G), "matmul_backward(A, B, grad_out)", 2)
    return {"dA": array(dA, "matmul_backward(A, B, grad_out)[0]", A.shape),
            "dB": array(dB, "matmul_backward(A, B, grad_out)[1]", B.shape)}


def oracle_matmul(case) -> dict:
    A, B, G = (np.array(case[k]) for k in ("A", "B", "grad_out"))
    a, b = Tensor(A, requires_grad=True), Tensor(B, requires_grad=True)
    (a @ b).backward(G)
    numeric = central_differences(lambda X: float((G * (X @ B)).sum()), A)  # L = sum(grad_out * C)
    if not np.allclose(numeric, a.grad, atol=1e-6):
        raise AssertionError("the Tensor engine's matmul backward disagrees with central differences")
    return {"dA": a.grad.tolist(), "dB": b.grad.tolist()}


def show_product(case) -> str:
    return f"A of shape {np.shape(case['A'])}, B of shape {np.shape(case['B'])} (random numbers)"


PARTS = [
    Part("6.1", "unbroadcast: the gradient back to the input's shape", draw_gradients, answer_unbroadcast,
         oracle_unbroadcast,
         "first sum over the first grad.ndim - len(shape) axes (the new leading ones), then, keeping the "
         "axis, over each axis where shape has 1 and grad does not", show=show_gradient),
    Part("6.2", "matmul_backward: dA = dC B^T, dB = A^T dC, unbroadcast", draw_products, answer_matmul,
         oracle_matmul,
         {"dA": "dA = grad_out @ B^T with the last two axes of B swapped, then unbroadcast to A.shape",
          "dB": "dB = A^T @ grad_out with the last two axes of A swapped, then unbroadcast to B.shape (a B "
                "shared by the batch sums over it)"},
         uses=("unbroadcast",), show=show_product),
]
