"""Chapter 5's figures: makemore part 2's MLP language model on the names, trained live, and its tensors.

    run = EmbeddingRun(seed=42, lr=0.1)
    run.train(100)
    run.snapshot()["embedding"]  # the 27 rows of the embedding table C, each a point in 2-D

Everything runs on the Tensor engine with the library's own model (gradschool.nn.mlp_lm) and data pipeline
(rung 5's context windows over the training split of the names), so a seed reproduces a figure exactly.
"""

import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

import gradschool.tensor.functional as F
from gradschool.data import CharTokenizer, load_lines
from gradschool.data.batches import context_windows, get_example_batch
from gradschool.data.splits import split_lines
from gradschool.nn.mlp_lm import MLPConfig, MLPLanguageModel
from gradschool.optim import SGD
from gradschool.tensor import manual_seed, no_grad

SAMPLE_SEED = 2147483647  # makemore's sampling seed: every snapshot draws with the same dice
DEV_EXAMPLES = 4096  # a live snapshot's dev loss: the dev split's first examples (its names are shuffled)
# Parameter init draws from the library's one global generator: builds from a seed take turns, so two
# requests building models at once cannot interleave their draws.
SEEDING = threading.Lock()


@dataclass(frozen=True)
class NamesData:
    tokenizer: CharTokenizer
    X: np.ndarray  # (N, block_size) contexts of the training names
    Y: np.ndarray  # (N,) the character that follows each
    X_dev: np.ndarray
    Y_dev: np.ndarray


@cache
def names_data(block_size: int = 3) -> NamesData:
    """Rung 5's examples: every character of the names with the block_size characters before it."""
    names = load_lines("names")
    tokenizer = CharTokenizer.from_lines(names)
    train_names, dev_names, _ = split_lines(names)  # 80/10/10, shuffled with seed 42 like makemore
    X, Y = context_windows(train_names, tokenizer, block_size)
    X_dev, Y_dev = context_windows(dev_names, tokenizer, block_size)
    return NamesData(tokenizer, X, Y, X_dev, Y_dev)


def seeded_model(seed: int, block_size: int = 3, n_embd: int = 2, n_hidden: int = 100) -> MLPLanguageModel:
    """The MLP language model as manual_seed(seed) initializes it (seeding and drawing under SEEDING)."""
    config = MLPConfig(block_size=block_size, vocab_size=names_data().tokenizer.vocab_size, n_embd=n_embd,
                       n_hidden=n_hidden)
    with SEEDING:
        manual_seed(seed)
        return MLPLanguageModel(config)


def sample_names(model: MLPLanguageModel, tokenizer: CharTokenizer, n: int = 8, seed: int = SAMPLE_SEED,
                 max_len: int = 15) -> list[str]:
    """n names drawn from the model, each cut at its end token '.' (or at max_len characters)."""
    out = model.generate(np.zeros((n, 1), dtype=np.int64), max_len, rng=np.random.default_rng(seed))
    names = []
    for row in out[:, 1:].tolist():
        names.append(tokenizer.decode(row[: row.index(0)] if 0 in row else row))
    return names


class EmbeddingRun:
    """makemore part 2's MLP with 2-D embeddings, trained with minibatch SGD a chunk of steps at a time."""

    def __init__(self, seed: int = 42, lr: float = 0.1, batch_size: int = 32, n_hidden: int = 100):
        self.data = names_data()
        self.model = seeded_model(seed, n_hidden=n_hidden)
        self.optimizer = SGD(self.model.parameters(), lr=lr)
        self.rng = np.random.default_rng(seed)  # draws the minibatches
        self.batch_size = batch_size
        self.steps = 0
        self.losses: list[float] = []  # the minibatch loss of every step so far

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    @lr.setter
    def lr(self, value: float) -> None:
        self.optimizer.param_groups[0]["lr"] = value

    def train(self, steps: int) -> None:
        """`steps` steps: a random minibatch, the loss, backward, p -= lr * grad. Refuses to go on from a
        loss that is no longer a number (the learning rate was too high)."""
        for _ in range(steps):
            xb, yb = get_example_batch(self.data.X, self.data.Y, self.batch_size, self.rng)
            loss = F.cross_entropy(self.model.forward_contexts(xb), yb)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            self.steps += 1
            self.losses.append(loss.item())
            if not np.isfinite(self.losses[-1]):
                raise FloatingPointError(f"the loss overflowed at step {self.steps} with learning rate "
                                         f"{self.lr:g}: lower the learning rate and start again")

    def dev_loss(self, examples: int = DEV_EXAMPLES) -> float:
        """The loss over the first `examples` examples of the dev names (names the model never trains on);
        a sample, as the whole split would cost a live figure as much time as its training steps."""
        X, Y = self.data.X_dev[:examples], self.data.Y_dev[:examples]
        with no_grad():
            return F.cross_entropy(self.model.forward_contexts(X), Y).item()

    def snapshot(self, losses_from: int = 0) -> dict[str, Any]:
        """What the figure draws: the step, the embedding table's rows, the mean minibatch loss since step
        losses_from, the dev loss (of DEV_EXAMPLES), and names sampled with fixed dice (they change only as
        the model does)."""
        tokenizer = self.data.tokenizer
        recent = self.losses[losses_from:]
        return {
            "step": self.steps,
            "chars": list(tokenizer.itos),
            "embedding": self.model.wte.weight.data.astype(float).tolist(),
            "loss": float(np.mean(recent)) if recent else None,
            "dev_loss": self.dev_loss(),
            "samples": sample_names(self.model, tokenizer),
        }


def context_window(word: str, block_size: int = 3, n_embd: int = 2, n_hidden: int = 100,
                   seed: int = 42) -> dict[str, Any]:
    """The examples one name makes (each context -> the next character) and every tensor on the way from
    the contexts to the logits, with its real shape, as the model computes them (at initialization)."""
    tokenizer = names_data().tokenizer
    word = word.strip().lower()
    if not word or set(word) - set(tokenizer.itos[1:]):
        raise ValueError(f"the name must be letters a to z, like emma (got {word!r})")
    model = seeded_model(seed, block_size=block_size, n_embd=n_embd, n_hidden=n_hidden)
    X, Y = context_windows([word], tokenizer, block_size)
    with no_grad():
        emb = model.wte(X)  # (N, block_size, n_embd)
        flat = emb.reshape(len(X), -1)  # (N, block_size * n_embd): the embeddings side by side
        h = model.hidden(flat).tanh()  # (N, n_hidden)
        logits = model.lm_head(h)  # (N, vocab_size)
        probs = logits.softmax(axis=-1)
    tensors = [
        ("X", X.shape, "the contexts: block_size character ids per example"),
        ("C", model.wte.weight.shape, "the embedding table: one row per character"),
        ("emb = C[X]", emb.shape, "each id replaced by its row of C"),
        ("emb.view(N, -1)", flat.shape, "the context's embeddings side by side"),
        ("W1", model.hidden.weight.shape, "hidden weights (out, in), as PyTorch stores them"),
        ("h = tanh(emb.view(N, -1) @ W1.T + b1)", h.shape, "the hidden layer"),
        ("W2", model.lm_head.weight.shape, "output weights"),
        ("logits = h @ W2.T + b2", logits.shape, "a score for every next character"),
    ]
    target_probs = probs.data[np.arange(len(Y)), Y]
    return {
        "contexts": ["".join(tokenizer.itos[i] for i in row) for row in X.tolist()],
        "targets": [tokenizer.itos[i] for i in Y.tolist()],
        "ids": X.tolist(),
        "tensors": [{"name": n, "shape": list(s), "meaning": m} for n, s, m in tensors],
        "target_probs": target_probs.astype(float).tolist(),
        "loss": float(-np.log(target_probs).mean()),
    }
