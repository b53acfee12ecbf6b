"""Chapter 3's live training: rung 3's three spirals, trained step by step with the learner's settings.

    run = SpiralsTraining(lr=0.5, decay=True, batch_size=16, steps=300)
    while not run.done:
        run.step()
    run.progress()["val_loss"]  # 0.1949..., what `gradschool rung 3` prints

The steps are rung 3's own (spiral_sets, spiral_model, train_step, decayed_lr on the scalar engine), so with
rung 3's settings the run ends on rung 3's numbers. Only the pictures of the run (the losses over whole sets
and the class of every point of the plane) are computed with NumPy from the network's weights, because a
snapshot several times a second through the scalar engine would be slower than the training itself.
"""

import math
import random

import numpy as np

from gradschool.diverge import check_loss
from gradschool.rungs.r3_learning_well import Dataset, decayed_lr, spiral_model, spiral_sets, train_step
from gradschool.scalar.nn import MLP

GRID = 36  # the decision field is GRID x GRID points of the plane
BOUNDS = (-1.4, 1.4)  # the plane shown, the same on both axes


def forward(model: MLP, points: np.ndarray) -> np.ndarray:
    """The scores (N, classes) of the scalar MLP for points (N, 2), computed from its weights with NumPy."""
    h = points
    for layer in model.layers:
        w = np.array([[p.data for p in n.w] for n in layer.neurons])  # (out, in)
        b = np.array([n.b.data for n in layer.neurons])
        h = h @ w.T + b
        if layer.neurons[0].nonlin == "relu":
            h = np.maximum(h, 0.0)
        elif layer.neurons[0].nonlin == "tanh":
            h = np.tanh(h)
    return h


def loss_and_accuracy(model: MLP, data: Dataset) -> tuple[float, float]:
    """Mean cross-entropy and accuracy over a whole set (rung 3's evaluate, vectorized)."""
    scores = forward(model, np.array(data[0], dtype=np.float64))
    labels = np.array(data[1])
    with np.errstate(over="ignore", invalid="ignore"):
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = float(-log_probs[np.arange(len(labels)), labels].mean())
    return loss, float((scores.argmax(axis=1) == labels).mean())


def finite(x: float) -> float | None:
    """x, or None where training diverged to inf or NaN (JSON has neither)."""
    return x if math.isfinite(x) else None


class SpiralsTraining:
    """Rung 3's recipe, one step at a time: learning rate, decay on or off, batch size and number of steps."""

    steps_per_update = 25  # steps between two pictures at most

    def __init__(self, lr: float = 0.5, decay: bool = True, batch_size: int = 16, steps: int = 300,
                 seed: int = 1):
        if not lr > 0 or not math.isfinite(lr):
            raise ValueError("the learning rate must be a positive number")
        self.rng = random.Random(seed)
        self.train_set, self.val_set = spiral_sets(self.rng)
        if not 1 <= batch_size <= len(self.train_set[0]):
            raise ValueError(f"the batch size must be between 1 and {len(self.train_set[0])}, the training "
                             "points")
        self.model = spiral_model(self.rng)
        self.lr, self.decay, self.batch_size, self.steps = lr, decay, batch_size, steps
        self.batch_losses: list[float] = []
        self.lrs: list[float] = []  # the learning rate of each step taken

    @property
    def done(self) -> bool:
        return len(self.batch_losses) >= self.steps

    def step_lr(self) -> float:
        """The learning rate of the next step: decayed as in rung 3, or constant."""
        step = len(self.batch_losses)
        return decayed_lr(self.lr, step, self.steps) if self.decay else self.lr

    def step(self) -> float:
        """One minibatch step (rung 3's train_step); TrainingDiverged, with advice, if the loss blew up."""
        step = len(self.batch_losses)
        self.lrs.append(self.step_lr())
        self.batch_losses.append(train_step(self.model, self.train_set, self.batch_size, self.lrs[-1],
                                            self.rng))
        check_loss(self.batch_losses[-1], step, self.batch_losses[0], self.lr)
        return self.batch_losses[-1]

    def field(self) -> list[list[int | float]]:
        """For each point of the GRID x GRID plane, row by row from the top: [class, its probability]."""
        axis = np.linspace(*BOUNDS, GRID)
        gx, gy = np.meshgrid(axis, axis[::-1])
        scores = forward(self.model, np.stack([gx.ravel(), gy.ravel()], axis=1))
        with np.errstate(over="ignore", invalid="ignore"):
            probs = np.exp(scores - scores.max(axis=1, keepdims=True))
            probs /= probs.sum(axis=1, keepdims=True)
        probs = np.nan_to_num(probs)
        return [[int(c), round(float(p), 3)] for c, p in zip(probs.argmax(axis=1), probs.max(axis=1))]

    def progress(self, since: int = 0) -> dict:
        """Where training stands: whole-set losses and accuracies, the field, and each step's batch loss and
        learning rate from step `since` on."""
        train_loss, train_acc = loss_and_accuracy(self.model, self.train_set)
        val_loss, val_acc = loss_and_accuracy(self.model, self.val_set)
        return {"step": len(self.batch_losses), "train_loss": finite(train_loss), "train_acc": train_acc,
                "val_loss": finite(val_loss), "val_acc": val_acc, "field": self.field(), "done": self.done,
                "batch_losses": [finite(x) for x in self.batch_losses[since:]], "lrs": self.lrs[since:]}

    def start(self) -> dict:
        """What a page draws once: the labelled points, the plane, the settings, the untrained state."""
        return {"train": [[*x, y] for x, y in zip(*self.train_set)],
                "val": [[*x, y] for x, y in zip(*self.val_set)], "bounds": list(BOUNDS), "grid": GRID,
                "steps": self.steps, "lr": self.lr, "decay": self.decay, "batch_size": self.batch_size,
                **self.progress()}
