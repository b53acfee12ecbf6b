"""The simplest language model: bigrams of names, by counting and as a one-layer network that learns the same.

A bigram model predicts the next character from the current one only. Two ways to get it:
1. count: how often does each character follow each other one in the names? Normalize the rows: probabilities.
2. learn: a 27x27 table of logits W; the probabilities are softmax(W[current]); gradient descent on the
   average negative log-likelihood (cross-entropy) of the names. W[x] is one_hot(x) @ W: a linear layer.
Both minimize the same loss, so the network ends where counting is, with log(counts) in its table.
"""

import math

import numpy as np

import gradschool.tensor.functional as F
from gradschool.data import CharTokenizer, load_lines
from gradschool.nn.bigram import Bigram, BigramConfig
from gradschool.scalar.engine import Value
from gradschool.tensor import Tensor, manual_seed


def bigrams(lines: list[str], tokenizer: CharTokenizer) -> tuple[np.ndarray, np.ndarray]:
    """(xs, ys): every pair (character, next character) of every line framed by the boundary token '.'."""
    xs, ys = [], []
    for line in lines:
        ids = [0, *tokenizer.encode(line), 0]
        xs += ids[:-1]
        ys += ids[1:]
    return np.array(xs, dtype=np.int64), np.array(ys, dtype=np.int64)


def count_model(xs: np.ndarray, ys: np.ndarray, vocab_size: int, smoothing: float = 1.0) -> np.ndarray:
    """P[i, j]: probability that j follows i, from counts plus `smoothing` (add-one: +1 each)."""
    counts = np.zeros((vocab_size, vocab_size))
    np.add.at(counts, (xs, ys), 1)
    counts += smoothing
    return counts / counts.sum(axis=1, keepdims=True)


def average_nll(P: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> float:
    """The average negative log-likelihood of the bigrams under probabilities P."""
    return float(-np.log(P[xs, ys]).mean())


def show_name_likelihood(name: str, P: np.ndarray, tokenizer: CharTokenizer) -> None:
    """Print each character's probability after the one before it, -log p, and the name's NLL."""
    xs, ys = bigrams([name], tokenizer)
    print(f"  one name, one character at a time: {name!r}")
    for x, y in zip(xs, ys, strict=True):
        pair = tokenizer.decode([x, y])
        print(f"    {pair}  p {P[x, y]:.4f}  -log p {-math.log(P[x, y]):.4f}")
    nll = -np.log(P[xs, ys]).sum()
    print(f"    NLL {nll:.4f} in total, {average_nll(P, xs, ys):.4f} on average over {len(xs)} predictions")


def scalar_steps(
    xs: np.ndarray, ys: np.ndarray, vocab_size: int, steps: int = 5, lr: float = 10.0
) -> list[float]:
    """The idea on the scalar engine: a table of Values, softmax, -log p, backward, a gradient step."""
    W = [[Value(0.0) for _ in range(vocab_size)] for _ in range(vocab_size)]
    losses = []
    for _ in range(steps):
        loss = Value(0.0)
        for x, y in zip(xs, ys, strict=True):
            exps = [w.exp() for w in W[x]]  # softmax of row x, the logits of the character after x
            loss = loss - (exps[y] / sum(exps, Value(0.0))).log()
        loss = loss / len(xs)
        for row in W:
            for w in row:
                w.grad = 0.0
        loss.backward()
        for row in W:
            for w in row:
                w.data -= lr * w.grad
        losses.append(loss.data)
    return losses


def train_network(
    xs: np.ndarray, ys: np.ndarray, vocab_size: int, steps: int = 200, lr: float = 50.0, log_every: int = 50
) -> tuple[Bigram, float]:
    """Full-batch gradient descent on all bigrams with the Tensor engine; returns the model and its loss."""
    model = Bigram(BigramConfig(vocab_size))
    xenc = Tensor(np.eye(vocab_size, dtype=np.float32)[xs])  # the inputs one-hot encoded: (N, V)
    for step in range(steps + 1):
        logits = xenc @ model.table  # a linear layer without bias: row xs[i] of the table, as model(xs) does
        loss = F.cross_entropy(logits, ys)
        if step % log_every == 0 or step == steps:
            print(f"  step {step:4d}  loss {loss.item():.4f}")
        if step == steps:
            break
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
    return model, loss.item()


def plot_counts(P: np.ndarray, tokenizer: CharTokenizer, path: str) -> None:
    """The bigram probability table as a heat map, one cell per (character, next character)."""
    from gradschool.rungs.plots import figure, save

    fig, ax = figure((9, 9))
    ax.imshow(P, cmap="Blues")
    ticks = range(len(tokenizer.itos))
    ax.set_xticks(ticks, tokenizer.itos)
    ax.set_yticks(ticks, tokenizer.itos)
    ax.set_xlabel("next character")
    ax.set_ylabel("character")
    ax.set_title("bigram probabilities P(next | character) of the names")
    save(fig, path)


def main(plot: str | None = None) -> None:
    names = load_lines("names")
    tokenizer = CharTokenizer.from_lines(names)
    V = tokenizer.vocab_size
    xs, ys = bigrams(names, tokenizer)
    print(f"{len(names)} names, {V} tokens ('.' marks start and end), {len(xs)} bigrams")

    print("\n1. Counting")
    P = count_model(xs, ys, V)
    count_loss = average_nll(P, xs, ys)
    print(f"  average negative log-likelihood, add-one smoothing: {count_loss:.4f}")
    print(f"  without smoothing: {average_nll(count_model(xs, ys, V, 0.0), xs, ys):.4f}")
    print(f"  (a model that knows nothing, uniform over {V} tokens: log({V}) = {math.log(V):.4f})")
    show_name_likelihood("emma", P, tokenizer)
    x, q = tokenizer.stoi["x"], tokenizer.stoi["q"]
    print(f"  'maxq': 'xq' never occurs in the names, so without smoothing P(q | x) = "
          f"{count_model(xs, ys, V, 0.0)[x, q]} and its NLL is infinite;")
    print(f"  add-one smoothing gives P(q | x) = {P[x, q]:.4f}, and 'maxq' an average NLL of "
          f"{average_nll(P, *bigrams(['maxq'], tokenizer)):.4f}")

    print("\n2. The same as a network, first on the scalar engine (3 names, a few steps)")
    few = bigrams(names[:3], tokenizer)
    for step, loss in enumerate(scalar_steps(*few, V)):
        print(f"  step {step}  loss {loss:.4f}")

    print("\n   then on the Tensor engine: all bigrams, full-batch gradient descent")
    manual_seed(0)
    model, net_loss = train_network(xs, ys, V)
    print(f"  network {net_loss:.4f} vs counting {count_loss:.4f}: difference {net_loss - count_loss:+.4f}")
    learned = np.exp(model.table.data - model.table.data.max(axis=1, keepdims=True))
    learned /= learned.sum(axis=1, keepdims=True)
    after_a = tokenizer.stoi["a"]
    print(
        f"  P(next | 'a') largest difference between the two models: "
        f"{np.abs(learned[after_a] - P[after_a]).max():.4f}"
    )

    print("\n3. Sampling new names from the network (each starts at '.', stops at the next '.')")
    rng = np.random.default_rng(2147483647)
    start = np.zeros((10, 1), dtype=np.int64)
    for row in model.generate(start, 20, rng=rng):
        ids = list(row[1:])
        print("  " + tokenizer.decode(ids[: ids.index(0)] if 0 in ids else ids))
    if plot:
        plot_counts(P, tokenizer, plot)
    print("\nchapter 4 of the course: `gradschool serve`, then http://127.0.0.1:8000/chapter/4")


if __name__ == "__main__":
    main()
