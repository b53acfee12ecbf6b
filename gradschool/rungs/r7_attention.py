"""Attention from scratch: one head of causal self-attention, with loops and then vectorized.

Every position of a sequence emits three vectors from its embedding x: a query q = x Wq ("what am I looking
for?"), a key k = x Wk ("what do I contain?") and a value v = x Wv ("what I pass on if chosen"). Position i
scores every position j by q_i . k_j / sqrt(head_size); the causal mask forbids j > i (no peeking at the
future); a softmax turns the scores of row i into weights that sum to 1; the output of position i is the
weighted sum of the values. Written once with plain loops, once with matrix products, both must agree.
Then the same head, trained for a few seconds on Shakespeare inside a tiny language model, shows what its
weights learn to look at.
"""

import math

import numpy as np

import gradschool.tensor.functional as F
from gradschool.data import CharTokenizer, load_text
from gradschool.data.batches import get_batch
from gradschool.nn import Embedding, Linear, Module
from gradschool.optim import AdamW
from gradschool.tensor import Tensor, manual_seed


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


def averaging_weights(T: int) -> np.ndarray:
    """The simplest attention: position i takes the plain average of positions 0..i (the lecture's `wei`)."""
    wei = np.tril(np.ones((T, T)))
    return wei / wei.sum(axis=1, keepdims=True)


class Head(Module):
    """One head of causal self-attention, with its query, key and value as three Linears (no bias)."""

    def __init__(self, n_embd: int, head_size: int):
        super().__init__()
        self.query = Linear(n_embd, head_size, bias=False)
        self.key = Linear(n_embd, head_size, bias=False)
        self.value = Linear(n_embd, head_size, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        """softmax(q k^T / sqrt(head_size)) v for x (B, T, n_embd), each position seeing those up to it."""
        return F.scaled_dot_product_attention(self.query(x), self.key(x), self.value(x), is_causal=True)

    def attention_weights(self, x: Tensor) -> Tensor:
        """The weights (B, T, T) forward() multiplies the values by."""
        return F.attention_weights(self.query(x), self.key(x), is_causal=True)


class OneHeadModel(Module):
    """The smallest language model with attention: token + position embeddings, one head, a linear readout."""

    def __init__(self, vocab_size: int, block_size: int = 16, n_embd: int = 32, head_size: int = 16):
        super().__init__()
        self.block_size = block_size
        self.wte = Embedding(vocab_size, n_embd)
        self.wpe = Embedding(block_size, n_embd)
        self.head = Head(n_embd, head_size)
        self.lm_head = Linear(head_size, vocab_size)

    def embed(self, idx: np.ndarray) -> Tensor:
        """x (B, T, n_embd): what each character is, plus where it stands."""
        return self.wte(idx) + self.wpe(np.arange(idx.shape[1]))

    def forward(self, idx: np.ndarray) -> Tensor:
        return self.lm_head(self.head(self.embed(idx)))


def train_one_head(steps: int = 500, seed: int = 0) -> tuple[OneHeadModel, CharTokenizer, list[float]]:
    """Train a OneHeadModel on Shakespeare (batches of 32 windows of 16 characters, AdamW): a few seconds."""
    text = load_text("shakespeare")
    tokenizer = CharTokenizer.from_text(text)
    data = np.array(tokenizer.encode(text), dtype=np.int64)
    manual_seed(seed)
    model = OneHeadModel(tokenizer.vocab_size)
    opt = AdamW(list(model.parameters()), lr=1e-2, weight_decay=0.0)
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(steps):
        x, y = get_batch(data, 32, model.block_size, rng)
        loss = F.cross_entropy(model(x).reshape(-1, tokenizer.vocab_size), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model, tokenizer, losses


def show_matrix(weights: np.ndarray, labels: str) -> None:
    """Print the attention weights: row = the position looking, column = the position looked at."""
    print("       " + "".join(f"{repr(c):>6}" for c in labels))
    for c, row in zip(labels, weights, strict=True):
        print(f"{repr(c):>6} " + "".join(f"{w:6.2f}" for w in row))


def main(plot: str | None = None) -> None:
    print("averaging the past: position i takes the mean of positions 0..i (wei = tril / row sums):")
    print(np.array2string(averaging_weights(4), precision=2, suppress_small=True))
    print("attention makes these weights depend on the data: each row becomes a softmax of scores q . k\n")

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

    model, tokenizer, losses = train_one_head()
    print(f"\none head inside a tiny language model, {len(losses)} steps on Shakespeare: "
          f"loss {losses[0]:.2f} -> {np.mean(losses[-50:]):.2f} (mean of the last 50)")
    sample = "to be or not to"
    trained = model.head.attention_weights(model.embed(np.array([tokenizer.encode(sample)]))).data[0]
    print(f"its attention weights on {sample!r}, trained (no longer an even average):")
    show_matrix(trained, sample)

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
    print("\nchapter 7 of the course: `gradschool serve`, then http://127.0.0.1:8000/chapter/7")


if __name__ == "__main__":
    main()
