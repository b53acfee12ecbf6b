"""Checks of rung 5's exercise: embed and mlp_forward (the oracle: gradschool's MLPLanguageModel)."""

import numpy as np

import gradschool.tensor.functional as F
from gradschool.exercises.part import Part, array, built_quietly
from gradschool.nn.mlp_lm import MLPConfig, MLPLanguageModel
from gradschool.tensor import Tensor, no_grad

V, N_EMBD, N_HIDDEN = 7, 3, 5


def draw_lookups(rng) -> list[dict]:
    C = rng.normal(0, 1, (V, N_EMBD)).round(4)
    return [{"C": C.tolist(), "contexts": rng.integers(0, V, (4, block)).tolist()} for block in (3, 2)]


def answer_embed(mod, case) -> dict:
    C, contexts = np.array(case["C"]), np.array(case["contexts"])
    return {"embeddings": array(mod.embed(C, contexts), "embed(C, contexts)", contexts.shape + (N_EMBD,))}


def oracle_embed(case) -> dict:
    with no_grad():
        emb = F.embedding(np.array(case["contexts"]), Tensor(np.array(case["C"])))
    return {"embeddings": emb.data.tolist()}


def draw_networks(rng) -> list[dict]:
    cases = []
    for block in (3, 2):
        cases.append({"C": rng.normal(0, 1, (V, N_EMBD)).round(4).tolist(),
                      "W1": rng.normal(0, 0.5, (block * N_EMBD, N_HIDDEN)).round(4).tolist(),
                      "b1": rng.normal(0, 0.1, N_HIDDEN).round(4).tolist(),
                      "W2": rng.normal(0, 0.5, (N_HIDDEN, V)).round(4).tolist(),
                      "b2": rng.normal(0, 0.1, V).round(4).tolist(),
                      "contexts": rng.integers(0, V, (4, block)).tolist()})
    return cases


def answer_forward(mod, case) -> dict:
    args = [np.array(case[k]) for k in ("C", "W1", "b1", "W2", "b2", "contexts")]
    logits = mod.mlp_forward(*args)
    return {"logits": array(logits, "mlp_forward(C, W1, b1, W2, b2, contexts)", (len(args[-1]), V))}


def oracle_forward(case) -> dict:
    contexts = np.array(case["contexts"])
    config = MLPConfig(block_size=contexts.shape[1], vocab_size=V, n_embd=N_EMBD, n_hidden=N_HIDDEN)
    model = built_quietly(lambda: MLPLanguageModel(config))
    weights = {"wte.weight": np.array(case["C"]), "hidden.weight": np.array(case["W1"]).T,
               "hidden.bias": np.array(case["b1"]), "lm_head.weight": np.array(case["W2"]).T,
               "lm_head.bias": np.array(case["b2"])}
    for name, p in model.named_parameters():
        p.data = weights[name]  # float64: the library's Linear is x W^T + b, so W1 goes in transposed
    with no_grad():
        return {"logits": model.forward_contexts(contexts).data.tolist()}


def show_network(case) -> str:
    return f"contexts={case['contexts']} (random C, W1, b1, W2, b2)"


PARTS = [
    Part("5.1", "embed: one table row per token", draw_lookups, answer_embed, oracle_embed,
         "C[contexts] picks row contexts[n, t] of C for every n and t at once", show=show_network),
    Part("5.2", "mlp_forward: embeddings, tanh layer, logits", draw_networks, answer_forward, oracle_forward,
         "reshape the embeddings to (N, block_size * n_embd) before the hidden layer, tanh after adding b1, "
         "and no tanh on the logits", uses=("embed",), show=show_network),
]
