"""Checks of rung 7's exercise: causal_attention_weights and attention_head (the oracle: the fused kernels
of gradschool.tensor.functional that the GPT uses)."""

import numpy as np

import gradschool.tensor.functional as F
from gradschool.exercises.part import Part, array
from gradschool.tensor import Tensor, no_grad


def draw_queries(rng) -> list[dict]:
    return [{"q": rng.normal(0, s, (T, D)).round(4).tolist(), "k": rng.normal(0, s, (T, D)).round(4).tolist()}
            for T, D, s in ((4, 3, 1.0), (6, 8, 2.0), (1, 2, 1.0))]


def answer_weights(mod, case) -> dict:
    q, k = np.array(case["q"]), np.array(case["k"])
    return {"weights": array(mod.causal_attention_weights(q, k), "causal_attention_weights(q, k)",
                             (len(q), len(q)))}


def oracle_weights(case) -> dict:
    with no_grad():
        w = F.attention_weights(Tensor(np.array(case["q"])), Tensor(np.array(case["k"])), is_causal=True)
    return {"weights": w.data.tolist()}


def draw_heads(rng) -> list[dict]:
    cases = []
    for T, C, D in ((5, 6, 3), (3, 4, 4)):
        cases.append({"x": rng.normal(0, 1, (T, C)).round(4).tolist(),
                      **{w: (rng.normal(0, 1, (C, D)) / np.sqrt(C)).round(4).tolist()
                         for w in ("Wq", "Wk", "Wv")}})
    return cases


def answer_head(mod, case) -> dict:
    x, Wq, Wk, Wv = (np.array(case[k]) for k in ("x", "Wq", "Wk", "Wv"))
    return {"out": array(mod.attention_head(x, Wq, Wk, Wv), "attention_head(x, Wq, Wk, Wv)",
                         (len(x), Wv.shape[1]))}


def oracle_head(case) -> dict:
    x = np.array(case["x"])
    q, k, v = (Tensor(x @ np.array(case[w])) for w in ("Wq", "Wk", "Wv"))
    with no_grad():
        return {"out": F.scaled_dot_product_attention(q, k, v, is_causal=True).data.tolist()}


def show_shapes(case) -> str:
    shapes = ", ".join(f"{name} of shape {np.shape(value)}" for name, value in case.items())
    return shapes + " (random numbers)"


PARTS = [
    Part("7.1", "causal_attention_weights: scaled scores, causal mask, softmax", draw_queries, answer_weights,
         oracle_weights,
         "scores = q @ k.T / sqrt(D) (D = q.shape[1]); -inf where j > i (above the diagonal, not on it); "
         "then a softmax over each row (axis=1)", show=show_shapes),
    Part("7.2", "attention_head: project, attend, mix the values", draw_heads, answer_head, oracle_head,
         "q, k, v = x @ Wq, x @ Wk, x @ Wv; the output is weights @ v, with the weights of q and k",
         uses=("causal_attention_weights",), show=show_shapes),
]
