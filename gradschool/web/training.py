"""Training jobs for the Training page: the seed's tiny MLP and a two-moons playground, one step at a time."""

import math
import random

from gradschool.data.toy import make_moons
from gradschool.diverge import check_loss
from gradschool.scalar.nn import MLP

# The seed's four examples: four inputs each, and the output we want for each.
XS = [
    [2.0, 3.0, -1.0, 1.0],
    [3.0, -1.0, 0.5, 1.0],
    [0.5, 1.0, 1.0, 1.0],
    [1.0, 1.0, -1.0, 1.0],
]
YS = [1.0, -1.0, -1.0, 1.0]


ACTIVATIONS = {"tanh": math.tanh, "relu": lambda v: max(0.0, v), "linear": lambda v: v}


def predict(model: MLP, x: list[float]) -> float:
    """The model's output for one input in plain floats: the same weights, but no graph (for the heatmap)."""
    for layer in model.layers:
        x = [ACTIVATIONS[n.nonlin](sum(w.data * xi for w, xi in zip(n.w, x)) + n.b.data)
             for n in layer.neurons]
    return x[0]


class Job:
    """What every job shares: a model, a learning rate, a step count and a watch for divergence."""

    model: MLP

    def __init__(self, lr: float):
        self.lr = lr
        self.steps = 0
        self.first_loss: float | None = None

    def update(self, loss: float) -> None:
        """Count the step; raise TrainingDiverged (with advice) if the loss blew up."""
        self.steps += 1
        self.first_loss = loss if self.first_loss is None else self.first_loss
        check_loss(loss, self.steps, self.first_loss, self.lr)


class TinyJob(Job):
    """MLP(4, [3, 1]) learning the seed's four examples with the squared-error loss."""

    def __init__(self, lr: float, seed: int):
        super().__init__(lr)
        self.model = MLP(4, [3, 1], rng=random.Random(seed))

    def step(self) -> dict:
        ypred = [self.model(x) for x in XS]                                # 1. forward
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(YS, ypred))      # 2. loss
        self.model.zero_grad()                                             # 3. zero grads
        loss.backward()                                                    # 4. backprop
        for p in self.model.parameters():                                  # 5. update
            p.data -= self.lr * p.grad
        self.update(loss.data)
        return {"step": self.steps, "loss": loss.data, "predictions": [y.data for y in ypred]}


class MoonsJob(Job):
    """An MLP separating two interleaved half-moons, trained with a max-margin loss as in micrograd's demo."""

    GRID = 25  # the decision-boundary heatmap is GRID x GRID scores
    BOUNDS = (-1.5, 2.5, -1.0, 1.5)  # x0 min, x0 max, x1 min, x1 max
    ALPHA = 1e-4  # L2 regularisation strength

    def __init__(self, hidden: list[int], activation: str, lr: float, batch_size: int, noise: float,
                 seed: int):
        super().__init__(lr)
        self.rng = random.Random(seed)
        self.xs, self.ys = make_moons(n=100, noise=noise, rng=self.rng)
        self.model = MLP(2, [*hidden, 1], nonlin=activation, rng=self.rng, out_nonlin="linear")
        self.batch_size = batch_size

    def step(self) -> dict:
        batch = self.rng.sample(range(len(self.xs)), min(self.batch_size, len(self.xs)))
        scores = [self.model(self.xs[i]) for i in batch]
        margins = [(1 - self.ys[i] * s).relu() for i, s in zip(batch, scores, strict=True)]
        loss = sum(margins) / len(margins) + self.ALPHA * sum(p * p for p in self.model.parameters())
        self.model.zero_grad()
        loss.backward()
        for p in self.model.parameters():
            p.data -= self.lr * p.grad
        self.update(loss.data)
        correct = sum((s > 0) == (y > 0) for s, y in zip(self.scores(self.xs), self.ys, strict=True))
        return {"step": self.steps, "loss": loss.data, "accuracy": correct / len(self.xs)}

    def scores(self, points: list[list[float]]) -> list[float]:
        """The model's score for each point (no gradients needed)."""
        return [predict(self.model, p) for p in points]

    def grid(self) -> list[list[float]]:
        """The model's score at each point of a GRID x GRID lattice over BOUNDS (rows from top to bottom)."""
        x0lo, x0hi, x1lo, x1hi = self.BOUNDS
        n = self.GRID - 1
        points = [[x0lo + (x0hi - x0lo) * i / n, x1hi - (x1hi - x1lo) * j / n]
                  for j in range(self.GRID) for i in range(self.GRID)]
        flat = [max(-1e6, min(1e6, s)) if s == s else 0.0 for s in self.scores(points)]  # s == s: not NaN
        return [flat[j * self.GRID:(j + 1) * self.GRID] for j in range(self.GRID)]
