"""Embeddings and context: an MLP language model that reads three characters to predict the next one.

Bengio et al. (2003), as in makemore part 2. Each character gets a learned vector (its embedding); the vectors
of the last three characters are concatenated and go through a tanh hidden layer to the logits of the next
character. Characters that behave alike (the vowels, say) end up with nearby embeddings. It trains on random
minibatches with a decaying learning rate and is judged on names it never saw (the dev and test splits); a
learning-rate finder (one short training whose rate grows every step) shows which step sizes work.
"""

import random
import time

import numpy as np

import gradschool.tensor.functional as F
from gradschool.data import CharTokenizer, load_lines
from gradschool.data.batches import context_windows, get_example_batch
from gradschool.data.splits import split_lines
from gradschool.figures.lr_finder import lr_finder
from gradschool.nn.mlp_lm import MLPConfig, MLPLanguageModel
from gradschool.optim import AdamW, cosine_lr
from gradschool.scalar.engine import Value
from gradschool.tensor import manual_seed, no_grad


def scalar_steps(
    X: np.ndarray,
    Y: np.ndarray,
    vocab_size: int,
    steps: int = 3,
    n_embd: int = 2,
    n_hidden: int = 8,
    lr: float = 0.5,
) -> list[float]:
    """The idea on the scalar engine: embeddings looked up, concatenated, a tanh layer, softmax, a step."""
    rng = random.Random(42)
    C = [[Value(rng.gauss(0, 1)) for _ in range(n_embd)] for _ in range(vocab_size)]
    W1 = [[Value(rng.gauss(0, 0.5)) for _ in range(X.shape[1] * n_embd)] for _ in range(n_hidden)]
    W2 = [[Value(rng.gauss(0, 0.5)) for _ in range(n_hidden)] for _ in range(vocab_size)]
    params = [v for table in (C, W1, W2) for row in table for v in row]
    losses = []
    for _ in range(steps):
        loss = Value(0.0)
        for context, y in zip(X, Y, strict=True):
            emb = [v for ix in context for v in C[ix]]  # concatenated embeddings of the context
            h = [sum((w * e for w, e in zip(row, emb, strict=True)), Value(0.0)).tanh() for row in W1]
            exps = [sum((w * a for w, a in zip(row, h, strict=True)), Value(0.0)).exp() for row in W2]
            loss = loss - (exps[y] / sum(exps, Value(0.0))).log()
        loss = loss / len(X)
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
        losses.append(loss.data)
    return losses


def split_loss(model: MLPLanguageModel, X: np.ndarray, Y: np.ndarray) -> float:
    """The average loss over every example of a split (no sampling, no gradient)."""
    with no_grad():
        return F.cross_entropy(model.forward_contexts(X), Y).item()


def train(
    model: MLPLanguageModel,
    X: np.ndarray,
    Y: np.ndarray,
    steps: int,
    batch_size: int = 128,
    lr: float = 1e-2,
    min_lr: float = 1e-3,
    seed: int = 1,
    log_every: int = 1000,
) -> list[float]:
    """Minibatch AdamW, the learning rate decaying from lr to min_lr along a cosine; returns the losses."""
    optimizer = AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    rng = np.random.default_rng(seed)
    losses = []
    for step in range(steps):
        optimizer.param_groups[0]["lr"] = cosine_lr(step, lr, min_lr, warmup_iters=0, lr_decay_iters=steps)
        xb, yb = get_example_batch(X, Y, batch_size, rng)
        loss = F.cross_entropy(model.forward_contexts(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if step % log_every == 0:
            print(f"  step {step:5d}  lr {optimizer.param_groups[0]['lr']:.4f}  batch loss {loss.item():.4f}")
    return losses


def plot_embedding(model: MLPLanguageModel, tokenizer: CharTokenizer, path: str) -> None:
    """Every character's embedding as a labelled point, seen along the two directions in which the
    embeddings differ most (their first two principal components)."""
    from gradschool.rungs.plots import figure, save

    C = model.wte.weight.data[: tokenizer.vocab_size].astype(np.float64)
    centered = C - C.mean(axis=0)
    _, s, directions = np.linalg.svd(centered, full_matrices=False)
    xy = centered @ directions[:2].T
    shown = (s[:2] ** 2).sum() / (s**2).sum()
    fig, ax = figure((7, 7))
    ax.scatter(xy[:, 0], xy[:, 1], s=200, c="tab:blue", alpha=0.3)
    for i, ch in enumerate(tokenizer.itos):
        ax.text(xy[i, 0], xy[i, 1], ch, ha="center", va="center", fontsize=12)
    ax.set_title(f"the {C.shape[1]}-D character embeddings along their two main directions "
                 f"({shown:.0%} of their spread; '.' is start/end)")
    ax.grid(alpha=0.3)
    save(fig, path)


def main(plot: str | None = None) -> None:
    names = load_lines("names")
    tokenizer = CharTokenizer.from_lines(names)
    V, block_size = tokenizer.vocab_size, 3
    train_names, dev_names, test_names = split_lines(names)  # 80/10/10, shuffled with seed 42 like makemore
    splits = {
        name: context_windows(part, tokenizer, block_size)
        for name, part in (("train", train_names), ("dev", dev_names), ("test", test_names))
    }
    print(
        f"{len(names)} names -> examples (3 characters of context -> the next): "
        + ", ".join(f"{name} {len(X)}" for name, (X, _) in splits.items())
    )
    X, Y = splits["train"]
    examples = zip(X[:5], Y[:5], strict=True)
    print("  e.g. " + ", ".join(f"{tokenizer.decode(x)!r} -> {tokenizer.decode([y])!r}" for x, y in examples))

    print("\n1. The idea on the scalar engine: 2-D embeddings, 8 tanh units, 16 examples, a few steps")
    for step, loss in enumerate(scalar_steps(X[:16], Y[:16], V)):
        print(f"  step {step}  loss {loss:.4f}")

    print("\n2. How big a step? The learning-rate finder: one step at each rate, from 10^-3 up to 10^1")
    found = lr_finder(lo=-3, hi=1, steps=300)
    for i in range(0, len(found["losses"]), 50):
        e = found["exponents"][i]
        print(f"  step {i:3d}  rate {10 ** e:8.4f}  running-average loss {found['smoothed'][i]:.4f}")
    lowest = found["lowest"]
    print(f"  lowest running-average loss {lowest['loss']:.4f} at rate {10 ** lowest['exponent']:.2f}"
          + (f"; diverged after {len(found['losses'])} steps" if found["stopped_early"] else ""))

    n_embd = 10
    print(f"\n3. The Tensor engine: embeddings of size {n_embd}, 200 tanh units, minibatches of 128")
    manual_seed(42)
    model = MLPLanguageModel(MLPConfig(block_size=block_size, vocab_size=V, n_embd=n_embd, n_hidden=200))
    print(f"  {sum(p.data.size for p in model.parameters())} parameters")
    t0 = time.perf_counter()
    steps = 6000
    train(model, X, Y, steps)
    elapsed = time.perf_counter() - t0
    print(f"  {steps} steps in {elapsed:.1f} s ({1000 * elapsed / steps:.2f} ms/step)")
    for name, (Xs, Ys) in splits.items():
        print(f"  {name:5s} loss {split_loss(model, Xs, Ys):.4f}")
    print("  (the bigram model of rung 4 reaches about 2.43; more context and embeddings do better)")

    print("\n4. Sampling new names")
    rng = np.random.default_rng(2147483647)
    out = model.generate(np.zeros((10, 1), dtype=np.int64), 20, rng=rng)
    for row in out:
        ids = list(row[1:])
        print("  " + tokenizer.decode(ids[: ids.index(0)] if 0 in ids else ids))
    if plot:
        plot_embedding(model, tokenizer, plot)
    print("\nchapter 5 of the course: `gradschool serve`, then http://127.0.0.1:8000/chapter/5")


if __name__ == "__main__":
    main()
