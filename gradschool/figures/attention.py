"""Chapter 7's attention figure: one trained head, step by step, on a string of up to 16 characters.

    attention_figure("to be or not to")["weights"]  # (T, T) rows summing to 1, zeros above the diagonal

The head is rung 7's OneHeadModel, trained by rung 7's train_one_head (seeded, a few seconds, nothing shipped)
the first time a figure asks for it and kept in memory after. Every number is the engine's: Q, K and V are the
model's own Linears, the weights come from F.attention_weights and the output from
F.scaled_dot_product_attention. The two switches take out the causal mask (is_causal=False) or the 1/sqrt(D)
scale (by handing the engine q * sqrt(D), so the scale it applies cancels).
"""

import math
import threading
from typing import Any

import numpy as np

import gradschool.tensor.functional as F
from gradschool.data import CharTokenizer
from gradschool.rungs.r7_attention import OneHeadModel, train_one_head
from gradschool.tensor import no_grad

MAX_CHARS = 16  # the model's block_size
TRAINING = threading.Lock()
TRAINED: list[tuple[OneHeadModel, CharTokenizer, list[float]]] = []


def trained_head() -> tuple[OneHeadModel, CharTokenizer, list[float]]:
    """Rung 7's trained one-head model, its tokenizer and its losses; trained once, on the first call."""
    with TRAINING:
        if not TRAINED:
            TRAINED.append(train_one_head())
        return TRAINED[0]


def attention_figure(text: str, mask: bool = True, scale: bool = True) -> dict[str, Any]:
    """Q, K, V, the scores, the mask, the weights and the output of the trained head on `text`."""
    model, tokenizer, losses = trained_head()
    if not 1 <= len(text) <= MAX_CHARS:
        raise ValueError(f"text must have 1 to {MAX_CHARS} characters (the head's context), not {len(text)}")
    unknown = sorted(set(text) - set(tokenizer.itos))
    if unknown:
        missing = " ".join(map(repr, unknown))
        raise ValueError(f"text: the head was trained on Shakespeare, which has no {missing}; use "
                         "letters, digits, spaces and punctuation such as , . ! ? ' : ; -")
    ids = np.array([tokenizer.encode(text)])
    with no_grad():
        x = model.embed(ids)
        q, k, v = model.head.query(x), model.head.key(x), model.head.value(x)
        D = q.shape[-1]
        factor = 1 / math.sqrt(D) if scale else 1.0
        scores = (q @ k.transpose(-2, -1)) * factor
        # the engine scales by 1/sqrt(D) itself: without the scale it is handed q * sqrt(D)
        q_in = q if scale else q * math.sqrt(D)
        weights = F.attention_weights(q_in, k, is_causal=mask)
        out = F.scaled_dot_product_attention(q_in, k, v, is_causal=mask)
    T = len(text)
    allowed = np.tri(T, dtype=bool) if mask else np.ones((T, T), dtype=bool)
    w = weights.data[0]
    return {
        "chars": list(text),
        "head_size": D,
        "scale": factor,
        "q": q.data[0].tolist(), "k": k.data[0].tolist(), "v": v.data[0].tolist(),
        "scores": scores.data[0].tolist(),
        "mask": allowed.tolist(),
        "weights": w.tolist(),
        "out": out.data[0].tolist(),
        "future_weight": float(np.triu(w, 1).sum(axis=1).max()),  # the most any position puts on later ones
        "top_weight": float(w.max(axis=1).mean()),  # how peaked the rows are, on average
        "scores_std": float(scores.data[0][allowed].std()),
        "training": {"steps": len(losses), "first_loss": losses[0],
                     "last_loss": float(np.mean(losses[-50:]))},
    }
