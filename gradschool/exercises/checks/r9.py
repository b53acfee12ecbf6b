"""Checks of rung 9's exercise: next_token_probs (against gradschool.sampling) and kv_cache_step (against the
last row of full causal attention over the whole sequence)."""

import numpy as np

import gradschool.tensor.functional as F
from gradschool.exercises.part import Part, array, sequence
from gradschool.sampling import next_token_probs
from gradschool.tensor import Tensor, no_grad


def draw_temperatures(rng) -> list[dict]:
    logits = rng.normal(0, 2, 8).round(3).tolist()
    return [{"logits": logits, "temperature": t, "top_k": None} for t in (1.0, 0.5, 2.0)] + [
        {"logits": (rng.normal(0, 2, 6) + 1000).round(3).tolist(), "temperature": 1.0, "top_k": None},
        {"logits": rng.normal(0, 50, 6).round(3).tolist(), "temperature": 0.05, "top_k": None}]


def draw_top_k(rng) -> list[dict]:
    logits = rng.normal(0, 2, 8).round(3)
    tied = [3.0, 1.0, 2.0, 2.0, 0.5, 2.0]  # the 2nd largest (2.0) three times: top-2 keeps all of them
    return [{"logits": logits.tolist(), "temperature": 1.0, "top_k": k} for k in (1, 3, 8)] + [
        {"logits": logits.tolist(), "temperature": 0.7, "top_k": 4},
        {"logits": tied, "temperature": 1.0, "top_k": 2}]


def answer_probs(mod, case) -> dict:
    logits = np.array(case["logits"])
    what = f"next_token_probs(logits, {case['temperature']}, top_k={case['top_k']})"
    probs = mod.next_token_probs(logits, case["temperature"], case["top_k"])
    return {"probs": array(probs, what, logits.shape)}


def oracle_probs(case) -> dict:
    return {"probs": next_token_probs(np.array(case["logits"]), case["temperature"], case["top_k"]).tolist()}


def draw_steps(rng) -> list[dict]:
    cases = []
    for t, C, D in ((0, 6, 3), (3, 6, 3), (6, 4, 4)):
        cases.append({"xs": rng.normal(0, 1, (t + 1, C)).round(4).tolist(),
                      **{w: (rng.normal(0, 1, (C, D)) / np.sqrt(C)).round(4).tolist()
                         for w in ("Wq", "Wk", "Wv")}})
    return cases


def answer_step(mod, case) -> dict:
    xs, Wq, Wk, Wv = (np.array(case[k]) for k in ("xs", "Wq", "Wk", "Wv"))
    cache_k, cache_v = xs[:-1] @ Wk, xs[:-1] @ Wv  # the earlier positions, cached
    what = "kv_cache_step(x, Wq, Wk, Wv, cache_k, cache_v)"
    out, new_k, new_v = sequence(mod.kv_cache_step(xs[-1], Wq, Wk, Wv, cache_k, cache_v), what, 3)
    D = Wq.shape[1]
    return {"out": array(out, f"{what}[0]", (D,)), "cache_k": array(new_k, f"{what}[1]", (len(xs), D)),
            "cache_v": array(new_v, f"{what}[2]", (len(xs), D))}


def oracle_step(case) -> dict:
    xs = np.array(case["xs"])
    q, k, v = (xs @ np.array(case[w]) for w in ("Wq", "Wk", "Wv"))
    with no_grad():
        full = F.scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), is_causal=True).data
    return {"out": full[-1].tolist(), "cache_k": k.tolist(), "cache_v": v.tolist()}


def show_step(case) -> str:
    t, C = np.shape(case["xs"])
    return f"{t - 1} cached positions, C={C}, D={np.shape(case['Wq'])[1]} (random inputs and weights)"


PARTS = [
    Part("9.1", "next_token_probs: temperature", draw_temperatures, answer_probs, oracle_probs,
         "subtract the max, divide by the temperature, then softmax (exp / sum); without the max, exp "
         "overflows for large logits or a small temperature"),
    Part("9.2", "next_token_probs: top-k", draw_top_k, answer_probs, oracle_probs,
         "keep the logits >= the k-th largest (np.sort(scaled)[-top_k]) and set the others to -inf before "
         "the softmax; ties with the k-th largest stay"),
    Part("9.3", "kv_cache_step: one new position, attending to the cache", draw_steps, answer_step,
         oracle_step,
         {"out": "append the new k and v to the caches first, then softmax(cache_k @ q / sqrt(D)) @ cache_v: "
                 "the new position attends to itself as well as to the earlier ones",
          "cache_k": "the new key x @ Wk goes at the end, as row t of cache_k",
          "cache_v": "the new value x @ Wv goes at the end, as row t of cache_v"},
         show=show_step),
]
