"""Attention from scratch: one head of causal self-attention, with loops and then vectorized.

Every position of a sequence emits three vectors from its embedding x: a query q = x Wq ("what am I looking
for?"), a key k = x Wk ("what do I contain?") and a value v = x Wv ("what I pass on if chosen"). Position i
scores every position j by q_i . k_j / sqrt(head_size); the causal mask forbids j > i (no peeking at the
future); a softmax turns the scores of row i into weights that sum to 1; the output of position i is the
weighted sum of the values. Written once with plain loops, once with matrix products, both must agree.
"""

import math

import numpy as np

import gradschool.tensor.functional as F
from gradschool.tensor import Tensor


def attention_loops(x: list[list[float]], Wq, Wk, Wv) -> tuple[list[list[float]], list[list[float]]]:
    """One causal attention head, one number at a time: returns (outputs T x head_size, weights T x T)."""
    T, C, D = len(x), len(Wq), len(Wq[0])

    def project(W):  # row t of x times W, for every t
        return [[sum(x[t][c] * W[c][d] for c in range(C)) for d in range(D)] for t in range(T)]

    q, k, v = project(Wq), project(Wk), project(Wv)
    weights, outputs = [], []
    for i in range(T):
        # 1. scaled scores of query i against the keys it may see (positions 0..i: the causal mask)
        scores = [sum(q[i][d] * k[j][d] for d in range(D)) / math.sqrt(D) for j in range(i + 1)]
        # 2. softmax over those positions (subtract the max so exp never overflows); future positions get 0
        m = max(scores)
        exps = [math.exp(s - m) for s in scores]
        row = [e / sum(exps) for e in exps] + [0.0] * (T - i - 1)
        # 3. the output is the weighted sum of the values
        outputs.append([sum(row[j] * v[j][d] for j in range(T)) for d in range(D)])
        weights.append(row)
    return outputs, weights


def attention_vectorized(x: np.ndarray, Wq: np.ndarray, Wk: np.ndarray, Wv: np.ndarray):
    """The same head with matrix products: returns (outputs (T, head_size), weights (T, T))."""
    q, k, v = x @ Wq, x @ Wk, x @ Wv  # (T, D) each
    scores = q @ k.T / math.sqrt(q.shape[-1])  # (T, T): every query against every key at once
    T = len(x)
    scores = np.where(np.tril(np.ones((T, T), dtype=bool)), scores, -np.inf)  # the causal mask
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)  # softmax of each row
    return weights @ v, weights


def show_matrix(weights: np.ndarray, labels: str) -> None:
    """Print the attention weights: row = the position looking, column = the position looked at."""
    print("       " + "".join(f"{repr(c):>6}" for c in labels))
    for c, row in zip(labels, weights, strict=True):
        print(f"{repr(c):>6} " + "".join(f"{w:6.2f}" for w in row))


def main(plot: str | None = None) -> None:
    text = "hello world"
    chars = sorted(set(text))
    rng = np.random.default_rng(7)
    C, D = 8, 4  # embedding size, head size
    embeddings = rng.normal(size=(len(chars), C))
    x = embeddings[[chars.index(c) for c in text]]  # (T, C): one vector per character of the text
    Wq, Wk, Wv = (rng.normal(size=(C, D)) / math.sqrt(C) for _ in range(3))
    print(f"the sequence {text!r}: T = {len(text)} positions, embeddings of size {C}, one head of size {D}")

    out_loops, w_loops = attention_loops(x.tolist(), Wq.tolist(), Wk.tolist(), Wv.tolist())
    out_vec, w_vec = attention_vectorized(x, Wq, Wk, Wv)
    print("\nattention weights (each row sums to 1; the zeros above the diagonal are the causal mask):")
    show_matrix(w_vec, text)

    diff = max(np.abs(np.array(out_loops) - out_vec).max(), np.abs(np.array(w_loops) - w_vec).max())
    print(f"\nloops vs matrix products: max difference {diff:.1e}")
    # the fused kernel the GPT uses: heads as a batch dimension, q, k, v of shape (batch, heads, T, D)
    q, k, v = (Tensor((x @ W)[None, None]) for W in (Wq, Wk, Wv))
    out_fused = F.scaled_dot_product_attention(q, k, v, is_causal=True).data[0, 0]
    diff_fused = np.abs(out_fused - out_vec).max()
    print(f"matrix products vs F.scaled_dot_product_attention: max difference {diff_fused:.1e}")
    if max(diff, diff_fused) > 1e-9:
        raise AssertionError("the versions of attention disagree")
    print("all three agree.")
    T = len(text)
    print(f"\ncost: the T x T score matrix is {T}^2 = {T * T} dot products of size {D}; doubling the context"
          " quadruples it.")

    if plot:
        from gradschool.rungs.plots import figure, save

        fig, ax = figure((5, 5))
        ax.imshow(w_vec, cmap="viridis")
        ax.set_xticks(range(len(text)), list(text))
        ax.set_yticks(range(len(text)), list(text))
        ax.set_xlabel("attends to (key)")
        ax.set_ylabel("position (query)")
        ax.set_title("causal self-attention weights")
        save(fig, plot)


if __name__ == "__main__":
    main()
