"""Chapter 4's figures: the bigram counts of the shipped names, their probabilities, a name's likelihood,
a name sampled one character at a time, and the one-layer network that learns the same probabilities.

    counts_figure(1.0)["nll"]            # 2.4342..., what `gradschool rung 4` prints for add-one smoothing
    name_likelihood("emma", 1.0)["average_nll"]
    sample_name(1.0, seed=3)["name"]

Everything is computed with rung 4's own functions (bigrams, count_model, average_nll) on the names corpus
that ships with gradschool, and the network is rung 4's: gradschool.nn.Bigram on the Tensor engine.
"""

import math
from functools import cache, lru_cache

import numpy as np

import gradschool.tensor.functional as F
from gradschool.data import CharTokenizer, load_lines
from gradschool.nn.bigram import Bigram, BigramConfig
from gradschool.rungs.r4_bigram import average_nll, bigrams, count_model
from gradschool.sampling import draw
from gradschool.tensor import Tensor

MAX_SAMPLE = 30  # characters in a sampled name at most (a name almost always ends long before)


@cache
def names_bigrams() -> tuple[CharTokenizer, np.ndarray, np.ndarray, int]:
    """(the tokenizer, xs, ys, number of names): every bigram of the shipped names, as rung 4 reads them."""
    names = load_lines("names")
    tokenizer = CharTokenizer.from_lines(names)
    return tokenizer, *bigrams(names, tokenizer), len(names)


@lru_cache(maxsize=32)
def probabilities(smoothing: float) -> np.ndarray:
    """P[i, j], the probability that j follows i: the names' counts plus `smoothing` (count_model)."""
    if not 0 <= smoothing <= 1e6 or not math.isfinite(smoothing):
        raise ValueError("the smoothing must be a count between 0 and 1000000")
    tokenizer, xs, ys, _ = names_bigrams()
    return count_model(xs, ys, tokenizer.vocab_size, smoothing)


@cache
def count_matrix() -> np.ndarray:
    """N[i, j]: how many times character j follows character i in the names ('.' = start and end, id 0)."""
    tokenizer, xs, ys, _ = names_bigrams()
    counts = np.zeros((tokenizer.vocab_size, tokenizer.vocab_size), dtype=np.int64)
    np.add.at(counts, (xs, ys), 1)
    return counts


def finite(x: float) -> float | None:
    """x, or None for an infinite negative log-likelihood (JSON has no infinity)."""
    return float(x) if math.isfinite(x) else None


def counts_figure(smoothing: float) -> dict:
    """The count matrix, the probabilities with `smoothing`, and their average NLL over the names' bigrams."""
    tokenizer, xs, ys, names = names_bigrams()
    P = probabilities(smoothing)
    return {"itos": tokenizer.itos, "counts": count_matrix().tolist(), "probs": P.tolist(),
            "nll": average_nll(P, xs, ys), "bigrams": len(xs), "names": names, "smoothing": smoothing}


def name_likelihood(name: str, smoothing: float) -> dict:
    """Each character's probability after the one before it, -log of it, and the name's total and average NLL.

    The name is lowercased and framed by '.', as the names are; with no smoothing a pair the names never
    contain has probability 0, and the NLL is infinite (None).
    """
    tokenizer = names_bigrams()[0]
    name = name.strip().lower()
    if not name:
        raise ValueError("type a name of at least one letter")
    unknown = sorted(set(name) - set(tokenizer.itos[1:]))
    if unknown:
        raise ValueError(f"the names use only the letters a to z, never {', '.join(map(repr, unknown))}; "
                         "type a name of those letters")
    xs, ys = bigrams([name], tokenizer)
    P = probabilities(smoothing)
    with np.errstate(divide="ignore"):
        nlls = -np.log(P[xs, ys])
        average = average_nll(P, xs, ys)
    steps = [{"row": int(x), "next": int(y), "prob": float(P[x, y]), "nll": finite(n)}
             for x, y, n in zip(xs, ys, nlls)]
    return {"name": name, "itos": tokenizer.itos, "steps": steps, "nll": finite(float(nlls.sum())),
            "average_nll": finite(average)}


def sample_name(smoothing: float, seed: int) -> dict:
    """A name drawn one character at a time from the row of the character before; each step's row and draw."""
    tokenizer = names_bigrams()[0]
    P = probabilities(smoothing)
    rng = np.random.default_rng(seed)
    row, steps = 0, []
    while len(steps) < MAX_SAMPLE:
        nxt = int(draw(P[row][None], rng)[0])
        steps.append({"row": row, "next": nxt, "prob": float(P[row, nxt])})
        if nxt == 0:
            break
        row = nxt
    return {"name": tokenizer.decode(s["next"] for s in steps if s["next"] != 0), "steps": steps,
            "seed": seed}


class BigramTraining:
    """Rung 4's network, a 27 x 27 table of logits, trained live by full-batch gradient descent.

    The average NLL over all N bigrams, -1/N sum_n log softmax(W[x_n])[y_n], adds up -log softmax(W[i])[j]
    once for every time j follows i: it equals -sum_ij (counts[i, j] / N) log softmax(W[i])[j]. So the loss
    and its gradient are computed from the 27 x 27 counts instead of 230,946 one-hot rows: the same numbers as
    rung 4's train_network, a thousand times faster, which is what lets the page watch every step.
    """

    steps_per_update = 5  # steps between two pictures: the page sees the curve fall

    def __init__(self, lr: float = 50.0, steps: int = 200):
        if not lr > 0 or not math.isfinite(lr):
            raise ValueError("the learning rate must be a positive number")
        counts = count_matrix()
        self.weights = Tensor((counts / counts.sum()).astype(np.float32))
        self.model = Bigram(BigramConfig(len(counts)))
        self.lr, self.steps = lr, steps
        self.losses: list[float] = []  # the loss before each step

    @property
    def done(self) -> bool:
        return len(self.losses) >= self.steps

    def loss(self) -> Tensor:
        """The average NLL of the names' bigrams under softmax(table), from the counts."""
        return -(self.weights * F.log_softmax(self.model.table, axis=-1)).sum()

    def step(self) -> float:
        loss = self.loss()
        self.model.zero_grad()
        loss.backward()
        for p in self.model.parameters():
            p.data -= self.lr * p.grad
        self.losses.append(loss.item())
        return self.losses[-1]

    def progress(self, since: int = 0) -> dict:
        """The step, the loss now, and the loss before each step from step `since` on."""
        return {"step": len(self.losses), "loss": finite(self.loss().item()), "done": self.done,
                "losses": [finite(x) for x in self.losses[since:]]}

    def start(self) -> dict:
        """The settings and what counting reaches: add-one smoothing (rung 4's) and none (the best)."""
        _, xs, ys, _ = names_bigrams()
        return {"lr": self.lr, "steps": self.steps, "count_nll": average_nll(probabilities(1.0), xs, ys),
                "best_nll": average_nll(probabilities(0.0), xs, ys), **self.progress()}
