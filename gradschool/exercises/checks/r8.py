"""Checks of rung 8's exercise: layer_norm_backward (against central differences of the library's layer norm)
and block_forward (against gradschool.nn.gpt.Block)."""

import numpy as np

import gradschool.tensor.functional as F
from gradschool.exercises.part import Part, array, built_quietly, central_differences, sequence
from gradschool.nn.gpt import Block, GPTConfig
from gradschool.tensor import Tensor, no_grad


def draw_norms(rng) -> list[dict]:
    return [{"x": rng.normal(m, s, (N, C)).round(4).tolist(),
             "gamma": rng.normal(1, 0.5, C).round(4).tolist(),
             "beta": rng.normal(0, 0.5, C).round(4).tolist(),
             "dy": rng.normal(0, 1, (N, C)).round(4).tolist()}
            for N, C, m, s in ((3, 5, 0.0, 1.0), (2, 8, 3.0, 0.5))]


def answer_norm(mod, case) -> dict:
    x, gamma, beta, dy = (np.array(case[k]) for k in ("x", "gamma", "beta", "dy"))
    _, cache = mod.layer_norm(x, gamma, beta)
    what = "layer_norm_backward(dy, cache)"
    dx, dgamma, dbeta = sequence(mod.layer_norm_backward(dy, cache), what, 3)
    return {"dx": array(dx, f"{what}[0]", x.shape), "dgamma": array(dgamma, f"{what}[1]", gamma.shape),
            "dbeta": array(dbeta, f"{what}[2]", beta.shape)}


def oracle_norm(case) -> dict:
    x, gamma, beta, dy = (np.array(case[k]) for k in ("x", "gamma", "beta", "dy"))

    def loss(x, gamma, beta) -> float:  # L = sum(dy * y), so that dL/dy = dy
        with no_grad():
            return float((dy * F.layer_norm(Tensor(x), Tensor(gamma), Tensor(beta)).data).sum())
    return {"dx": central_differences(lambda v: loss(v, gamma, beta), x).tolist(),
            "dgamma": central_differences(lambda v: loss(x, v, beta), gamma).tolist(),
            "dbeta": central_differences(lambda v: loss(x, gamma, v), beta).tolist()}


def library_block(C: int, n_head: int) -> Block:
    return built_quietly(lambda: Block(GPTConfig(block_size=16, n_embd=C, n_head=n_head, bias=True)))


def draw_blocks(rng) -> list[dict]:
    cases = []
    for T, C, n_head in ((5, 8, 2), (3, 4, 1)):
        shapes = {name: p.shape for name, p in library_block(C, n_head).named_parameters()}
        centre = {name: 1.0 if name.startswith("ln") and name.endswith("weight") else 0.0 for name in shapes}
        weights = {name: rng.normal(centre[name], 0.3, s).round(4).tolist() for name, s in shapes.items()}
        cases.append({"x": rng.normal(0, 1, (T, C)).round(4).tolist(), "p": weights, "n_head": n_head})
    return cases


def answer_block(mod, case) -> dict:
    x = np.array(case["x"])
    p = {name: np.array(w) for name, w in case["p"].items()}
    return {"output": array(mod.block_forward(x, p, case["n_head"]), "block_forward(x, p, n_head)", x.shape)}


def oracle_block(case) -> dict:
    x = np.array(case["x"])
    block = library_block(x.shape[1], case["n_head"])
    for name, p in block.named_parameters():
        p.data = np.array(case["p"][name])  # float64
    with no_grad():
        return {"output": block(Tensor(x[None]))[0].data.tolist()}


def show_block(case) -> str:
    return f"x of shape {np.shape(case['x'])}, n_head={case['n_head']} (random x and weights)"


PARTS = [
    Part("8.1", "layer_norm_backward: dx, dgamma, dbeta", draw_norms, answer_norm, oracle_norm,
         {"dx": "dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) with dxhat = dy * gamma and "
                "the means over the last axis (keepdims=True)",
          "dgamma": "dgamma = (dy * xhat).sum(axis=0): gamma multiplies xhat in every row",
          "dbeta": "dbeta = dy.sum(axis=0): beta is added to every row"},
         show=lambda case: f"x of shape {np.shape(case['x'])} (random x, gamma, beta, dy)"),
    Part("8.2", "block_forward: x + attn(ln_1(x)), then x + mlp(ln_2(x))", draw_blocks, answer_block,
         oracle_block,
         "normalize before each branch (ln_1 before attention, ln_2 before the MLP) and add each branch's "
         "output to x (the residual); the MLP reads the x that already has the attention added",
         show=show_block),
]
