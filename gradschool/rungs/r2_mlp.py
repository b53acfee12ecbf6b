"""Multilayer perceptrons: stack neurons into layers, train them with backward(), then learn two moons."""

import random

from gradschool.data.toy import make_moons
from gradschool.diverge import check_loss
from gradschool.rungs.plots import save_classifier_plot
from gradschool.scalar.nn import MLP

# four examples, each four numbers, and the output we want for each
xs = [
    [2.0, 3.0, -1.0, 1.0],
    [3.0, -1.0, 0.5, 1.0],
    [0.5, 1.0, 1.0, 1.0],
    [1.0, 1.0, -1.0, 1.0],
]
ys = [1.0, -1.0, -1.0, 1.0]


Trained = tuple[MLP, list[list[float]], list[int], list[float]]  # model, points, labels, losses


def seed_loop(lr: float, steps: int = 100, seed: int = 6, print_every: int = 10) -> list[float]:
    """Train MLP(4, [3, 1]) on the four examples with the seed's loop as written; returns the losses."""
    random.seed(seed)
    n = MLP(4, [3, 1])
    losses = []
    for step in range(steps):
        ypred = [n(x) for x in xs]                                     # 1. forward
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred))  # 2. loss
        for p in n.parameters():                                       # 3. zero grads
            p.grad = 0.0
        loss.backward()                                                # 4. backprop
        for p in n.parameters():                                       # 5. update
            p.data -= lr * p.grad
        losses.append(loss.data)
        if step % print_every == 0 or step == steps - 1:
            print(f"step {step} loss {loss.data:.4f}")
    return losses


def accuracy(model: MLP, X: list[list[float]], y: list[int]) -> float:
    """Fraction of points on the right side of the boundary (the score's sign is the predicted class)."""
    return sum((yi > 0) == (model(x).data > 0) for x, yi in zip(X, y)) / len(X)


def train_moons(steps: int = 100, lr: float = 1.0, print_every: int = 10) -> Trained:
    """micrograd's demo: a 2-16-16-1 ReLU network, max-margin loss plus L2, learns two interleaved moons."""
    rng = random.Random(1337)
    X, y = make_moons(100, noise=0.1, rng=rng)
    model = MLP(2, [16, 16, 1], nonlin="relu", out_nonlin="linear", rng=rng)
    losses = []
    for k in range(steps):
        scores = [model(x) for x in X]
        data_loss = sum((1 + -yi * si).relu() for yi, si in zip(y, scores)) / len(X)  # max-margin
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())                       # L2: small weights
        loss = data_loss + reg_loss
        losses.append(loss.data)
        check_loss(loss.data, k, losses[0], lr)  # a too-big lr: stop with advice rather than print NaN
        model.zero_grad()
        loss.backward()
        step_lr = lr * (1.0 - 0.9 * k / steps)  # learning-rate decay: big steps first, then smaller ones
        for p in model.parameters():
            p.data -= step_lr * p.grad
        if k % print_every == 0 or k == steps - 1:
            print(f"step {k} loss {loss.data:.4f}")
    return model, X, y, losses


def save_plot(path: str, model: MLP, X: list[list[float]], y: list[int], losses: list[float]) -> None:
    """PNG of the moons' decision boundary and the loss curve."""
    save_classifier_plot(path, lambda x: 1 if model(x).data > 0 else -1, X, y, losses, "two moons")


def main(plot: str | None = None) -> None:
    print("MLP(4, [3, 1]) on the four examples, learning rate 0.01:")
    seed_loop(lr=0.01)
    print("the same network from the same start, learning rate 0.1:")
    seed_loop(lr=0.1)
    print("two moons, MLP(2, [16, 16, 1]), max-margin loss:")
    model, X, y, losses = train_moons()
    print(f"training accuracy {accuracy(model, X, y):.0%}")
    if plot:
        save_plot(plot, model, X, y, losses)
    print("chapter 2 of the course: `gradschool serve`, then http://127.0.0.1:8000/chapter/2")


if __name__ == "__main__":
    main()
