"""Learning well: softmax, cross-entropy, minibatches, a validation set, learning-rate decay, divergence."""

import random

from gradschool.data.toy import make_spirals
from gradschool.diverge import TrainingDiverged, check_loss
from gradschool.rungs.plots import save_classifier_plot
from gradschool.scalar.engine import Value
from gradschool.scalar.losses import cross_entropy, mse, softmax
from gradschool.scalar.nn import MLP

Dataset = tuple[list[list[float]], list[int]]


def why_cross_entropy() -> None:
    """Show softmax, then why cross-entropy, not squared error, is the loss for classes."""
    scores = [Value(2.0), Value(1.0), Value(0.1)]
    probs = [round(p.data, 3) for p in softmax(scores)]
    print(f"softmax turns scores [2.0, 1.0, 0.1] into probabilities {probs}")
    print("a confidently wrong network: scores [0, 0, 5] when the answer is class 0")
    for name, loss_of in [("cross-entropy", lambda z: cross_entropy(z, 0)),
                          ("squared error", lambda z: mse(softmax(z), [1.0, 0.0, 0.0]))]:
        scores = [Value(0.0), Value(0.0), Value(5.0)]
        loss = loss_of(scores)
        loss.backward()
        print(f"  {name}: loss {loss.data:.4f}, push on the right class's score {-scores[0].grad:.4f}")
    print("squared error barely pushes exactly when the network is most wrong; cross-entropy pushes hardest.")


def predict(model: MLP, x: list[float]) -> int:
    """The class with the highest score."""
    scores = model(x)
    return max(range(len(scores)), key=lambda c: scores[c].data)


def evaluate(model: MLP, data: Dataset) -> tuple[float, float]:
    """Mean cross-entropy and accuracy over a whole set."""
    xs, ys = data
    loss = sum(cross_entropy(model(x), y).data for x, y in zip(xs, ys)) / len(xs)
    return loss, sum(predict(model, x) == y for x, y in zip(xs, ys)) / len(xs)


def spiral_sets(rng: random.Random) -> tuple[Dataset, Dataset]:
    """Three spirals of 300 points: 80% to learn from, 20% held out to check that the network generalizes."""
    xs, ys = make_spirals(300, classes=3, noise=0.2, rng=rng)
    n = int(0.8 * len(xs))
    return (xs[:n], ys[:n]), (xs[n:], ys[n:])


def spiral_model(rng: random.Random) -> MLP:
    """The classifier: two ReLU layers of 16, then one score per spiral."""
    return MLP(2, [16, 16, 3], nonlin="relu", out_nonlin="linear", rng=rng)


def decayed_lr(lr: float, step: int, steps: int) -> float:
    """The learning rate at `step` of `steps`: big steps first, small steps to settle in."""
    return lr * (1 - 0.9 * step / steps)


def train_step(model: MLP, train_set: Dataset, batch_size: int, lr: float, rng: random.Random) -> float:
    """One step of minibatch gradient descent; returns the batch's loss (before the step)."""
    xs, ys = train_set
    batch = rng.sample(range(len(xs)), batch_size)  # a few examples give a noisy but cheap gradient
    loss = sum(cross_entropy(model(xs[i]), ys[i]) for i in batch) / batch_size
    model.zero_grad()
    loss.backward()
    for p in model.parameters():
        p.data -= lr * p.grad
    return loss.data


def train(model: MLP, train_set: Dataset, val_set: Dataset, steps: int, lr: float, batch_size: int,
          rng: random.Random, print_every: int = 50) -> list[float]:
    """Minibatch gradient descent with a decaying learning rate; stops with advice if the loss diverges."""
    losses = []
    for step in range(steps):
        step_lr = decayed_lr(lr, step, steps)
        losses.append(train_step(model, train_set, batch_size, step_lr, rng))
        check_loss(losses[-1], step, losses[0], lr)
        if step % print_every == 0 or step == steps - 1:
            val_loss, val_acc = evaluate(model, val_set)
            print(f"step {step:3d} lr {step_lr:.3f} batch loss {losses[-1]:.4f} "
                  f"val loss {val_loss:.4f} val acc {val_acc:.0%}")
    return losses


def main(plot: str | None = None) -> None:
    why_cross_entropy()
    rng = random.Random(1)
    train_set, val_set = spiral_sets(rng)
    print(f"three spirals: {len(train_set[0])} training points, {len(val_set[0])} validation points; "
          "MLP(2, [16, 16, 3])")
    model = spiral_model(rng)
    losses = train(model, train_set, val_set, steps=300, lr=0.5, batch_size=16, rng=rng)
    for name, data in [("train", train_set), ("val", val_set)]:
        loss, acc = evaluate(model, data)
        print(f"{name:5s} loss {loss:.4f} accuracy {acc:.0%}")

    print("the same recipe with learning rate 100:")
    try:
        wild = spiral_model(rng)
        train(wild, train_set, val_set, steps=20, lr=100.0, batch_size=16, rng=rng)
    except TrainingDiverged as e:
        print(e)
    if plot:
        save_classifier_plot(plot, lambda x: predict(model, x), *train_set, losses, "three spirals")
    print("chapter 3 of the course: `gradschool serve`, then http://127.0.0.1:8000/chapter/3")


if __name__ == "__main__":
    main()
