# Rung 7 exercise: one head of causal self-attention. Fill in each TODO, then check your work with
#     gradschool check 7 exercise_7.py
"""Every position of a sequence emits a query q ("what am I looking for?"), a key k ("what do I contain?")
and a value v ("what I pass on if chosen"). Position i scores every position j by q_i . k_j / sqrt(D); the
causal mask forbids j > i (no peeking at the future); a softmax turns each row of scores into weights that
sum to 1, and the output of position i is the weighted sum of the values.
"""

import numpy as np


def causal_attention_weights(q: np.ndarray, k: np.ndarray) -> np.ndarray:
    """TODO: the attention weights of one causal head: q, k (T, D) -> weights (T, T).

    scores = q @ k.T / sqrt(D); position i may look only at positions j <= i, so set the scores above the
    diagonal (j > i) to -inf (np.triu(np.ones((T, T), dtype=bool), k=1) marks them); then the softmax of each
    row (subtract the row's max first). Each row sums to 1, and is 0 above the diagonal.
    """
    raise NotImplementedError("TODO: write causal_attention_weights")


def attention_head(x: np.ndarray, Wq: np.ndarray, Wk: np.ndarray, Wv: np.ndarray) -> np.ndarray:
    """TODO: one head of causal self-attention: x (T, C), Wq, Wk, Wv (C, D) -> out (T, D).

    q = x @ Wq, k = x @ Wk, v = x @ Wv (T, D) each; out = causal_attention_weights(q, k) @ v.
    """
    raise NotImplementedError("TODO: write attention_head")


if __name__ == "__main__":
    rng = np.random.default_rng(7)
    x = rng.normal(size=(5, 8))
    Wq, Wk, Wv = (rng.normal(size=(8, 4)) / np.sqrt(8) for _ in range(3))
    print(causal_attention_weights(x @ Wq, x @ Wk).round(2))
    print(attention_head(x, Wq, Wk, Wv).shape)
