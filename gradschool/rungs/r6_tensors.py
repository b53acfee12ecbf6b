"""Graduating to tensors: the rung-2 networks on the NumPy Tensor engine, the same losses, many times faster.

The Tensor engine is the Value engine one level up: a node holds an array instead of one number, and one
matrix product does the work of thousands of Value multiplications. Here the two engines train the same
networks from the same weights with the same updates, so they must print the same losses (up to rounding in
the last digits); then we time them on that same work, and count the nodes of each engine's graph.
"""

import random
import time
from collections.abc import Callable

import numpy as np

import gradschool.nn as nn
import gradschool.tensor.functional as F
from gradschool.data.toy import make_moons, make_spirals
from gradschool.optim import SGD
from gradschool.scalar.engine import Value, topological_order
from gradschool.scalar.losses import cross_entropy
from gradschool.scalar.nn import MLP as ScalarMLP
from gradschool.tensor import Tensor

ALPHA = 1e-4  # L2 regularization strength of rung 2's moons loss


def moons_lr(k: int) -> float:
    return 1.0 - 0.9 * k / 100  # rung 2's schedule: from 1.0 down


def spirals_lr(k: int) -> float:
    return 0.5


def tensor_copy(scalar_model: ScalarMLP) -> nn.MLP:
    """A Tensor MLP (float64) with the scalar MLP's weights: neuron j of a Layer is row j of a Linear."""
    layers = scalar_model.layers
    if [layer.neurons[0].nonlin for layer in layers] != ["relu"] * (len(layers) - 1) + ["linear"]:
        raise ValueError("tensor_copy copies MLPs with relu hidden layers and a linear output layer "
                         '(MLP(..., nonlin="relu", out_nonlin="linear"))')
    sizes = [len(layer.neurons) for layer in layers]
    model = nn.MLP(len(layers[0].neurons[0].w), sizes, activation=nn.ReLU, dtype=np.float64)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    for layer, linear in zip(layers, linears):
        linear.weight.data[...] = [[w.data for w in neuron.w] for neuron in layer.neurons]
        linear.bias.data[...] = [neuron.b.data for neuron in layer.neurons]
    return model


# the losses, written once for each engine
def moons_loss_scalar(model: ScalarMLP, xs: list[list[float]], ys: list[int]) -> Value:
    """Rung 2's loss: the max-margin ("SVM") loss of each point, averaged, plus L2 regularization."""
    scores = [model(x) for x in xs]
    data_loss = sum((1 + -y * s).relu() for y, s in zip(ys, scores)) / len(xs)
    return data_loss + ALPHA * sum(p * p for p in model.parameters())


def moons_loss_tensor(model: nn.MLP, X: Tensor, Y: Tensor) -> Tensor:
    """The same loss on arrays: X (n, 2), Y (n,) of -1/+1."""
    scores = model(X).reshape(-1)
    data_loss = (1 - Y * scores).relu().mean()
    return data_loss + ALPHA * sum((p * p).sum() for p in model.parameters())


def spirals_loss_scalar(model: ScalarMLP, xs: list[list[float]], ys: list[int]) -> Value:
    """Softmax cross-entropy over the classes, averaged over the points."""
    return sum(cross_entropy(model(x), y) for x, y in zip(xs, ys)) / len(xs)


def spirals_loss_tensor(model: nn.MLP, X: Tensor, Y: np.ndarray) -> Tensor:
    return F.cross_entropy(model(X), Y)


# the training loops: plain SGD, rung 2's loop on Values, the optimizer of gradschool.optim on Tensors
def train_scalar(model: ScalarMLP, loss_fn: Callable[[ScalarMLP], Value], steps: int,
                 lr: Callable[[int], float]) -> tuple[list[float], float]:
    """Returns the loss before each step, and the seconds taken."""
    losses, start = [], time.perf_counter()
    for k in range(steps):
        loss = loss_fn(model)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr(k) * p.grad
        losses.append(loss.data)
    return losses, time.perf_counter() - start


def train_tensor(model: nn.MLP, loss_fn: Callable[[nn.MLP], Tensor], steps: int,
                 lr: Callable[[int], float]) -> tuple[list[float], float]:
    losses, start = [], time.perf_counter()
    optimizer = SGD(model.parameters(), lr=lr(0))
    for k in range(steps):
        optimizer.param_groups[0]["lr"] = lr(k)
        loss = loss_fn(model)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, time.perf_counter() - start


def compare(name: str, scalar_model: ScalarMLP, xs: list[list[float]], ys: list[int], Y: Tensor | np.ndarray,
            loss_scalar: Callable, loss_tensor: Callable, steps: int, lr: Callable[[int], float]) -> dict:
    """Train the scalar model and its Tensor copy side by side; print both loss trajectories."""
    model = tensor_copy(scalar_model)  # before the scalar model trains: the same starting weights
    X = Tensor(np.array(xs, dtype=np.float64))
    ref, t_scalar = train_scalar(scalar_model, lambda m: loss_scalar(m, xs, ys), steps, lr)
    got, t_tensor = train_tensor(model, lambda m: loss_tensor(m, X, Y), steps, lr)
    print(f"\n{name}: {len(xs)} points, {steps} steps of SGD from the same weights")
    print("  step   scalar engine     Tensor engine     difference")
    for k in sorted({*range(0, steps, max(1, steps // 5)), steps - 1}):
        print(f"  {k:4d}   {ref[k]:.12f}   {got[k]:.12f}   {abs(ref[k] - got[k]):.1e}")
    diff = max(abs(a - b) for a, b in zip(ref, got))
    print(f"  largest difference over all steps: {diff:.1e}")
    return dict(scalar=ref, tensor=got, diff=diff, speedup=t_scalar / t_tensor,
                ms_scalar=1000 * t_scalar / steps, ms_tensor=1000 * t_tensor / steps, model=model, X=X, Y=Y)


def moons_models(n: int = 100, hidden: int = 16) -> tuple[ScalarMLP, list[list[float]], list[int]]:
    """Rung 2's n moons and its MLP(2, [hidden, hidden, 1]) of Value neurons, from rung 2's seed."""
    rng = random.Random(1337)
    xs, ys = make_moons(n, noise=0.1, rng=rng)
    return ScalarMLP(2, [hidden, hidden, 1], nonlin="relu", out_nonlin="linear", rng=rng), xs, ys


def tensor_graph_size(root: Tensor) -> int:
    """How many Tensors the graph behind root holds (root and the parameters included)."""
    seen, stack = {id(root)}, [root]
    while stack:
        for parent in stack.pop().parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return len(seen)


def graph_sizes(n: int = 100, hidden: int = 16) -> tuple[int, int]:
    """The nodes in one moons loss's graph: Values on the scalar engine, Tensors on the Tensor engine."""
    scalar_model, xs, ys = moons_models(n, hidden)
    X, Y = Tensor(np.array(xs, dtype=np.float64)), Tensor(np.array(ys, dtype=np.float64))
    return (len(topological_order(moons_loss_scalar(scalar_model, xs, ys))),
            tensor_graph_size(moons_loss_tensor(tensor_copy(scalar_model), X, Y)))


def run_moons(steps: int = 100, n: int = 100) -> dict:
    scalar_model, xs, ys = moons_models(n)  # rung 2's data and initial weights
    Y = Tensor(np.array(ys, dtype=np.float64))
    return compare("two moons, MLP(2, [16, 16, 1]), max-margin loss", scalar_model, xs, ys, Y,
                   moons_loss_scalar, moons_loss_tensor, steps, moons_lr)


def run_spirals(steps: int = 50, n: int = 90, classes: int = 3) -> dict:
    rng = random.Random(1337)
    xs, ys = make_spirals(n, classes=classes, noise=0.2, rng=rng)
    scalar_model = ScalarMLP(2, [16, 16, classes], nonlin="relu", out_nonlin="linear", rng=rng)
    return compare(f"{classes} spirals, MLP(2, [16, 16, {classes}]), softmax cross-entropy", scalar_model, xs,
                   ys, np.array(ys), spirals_loss_scalar, spirals_loss_tensor, steps, spirals_lr)


def main(plot: str | None = None) -> None:
    moons = run_moons()  # rung 2's whole run, on both engines
    spirals = run_spirals()
    if max(moons["diff"], spirals["diff"]) > 1e-6:
        raise AssertionError("the two engines disagree")
    print("\nthe engines agree: the same arithmetic, only grouped differently.")
    accuracy = ((moons["model"](moons["X"]).data[:, 0] > 0) == (moons["Y"].data > 0)).mean()
    print(f"moons training accuracy after {len(moons['tensor'])} steps: {accuracy:.0%}")

    print("\nspeed on the same work (forward, backward and update per step):")
    for name, r in (("moons", moons), ("spirals", spirals)):
        print(f"  {name:8s} scalar {r['ms_scalar']:8.1f} ms/step   Tensor {r['ms_tensor']:6.2f} ms/step   "
              f"{r['speedup']:5.0f}x faster")
    values, tensors = graph_sizes()
    print(f"  why: one moons loss is a graph of {values} Values on the scalar engine, each a Python object "
          f"visited by Python,\n  and of {tensors} Tensors on the Tensor engine, each one NumPy call")

    # what the speed buys: train the spirals network far longer than the scalar engine could in the same time
    model, X, Y = spirals["model"], spirals["X"], spirals["Y"]
    losses, seconds = train_tensor(model, lambda m: spirals_loss_tensor(m, X, Y), 2000, spirals_lr)
    accuracy = (model(X).data.argmax(axis=1) == Y).mean()
    print(f"\n2000 more Tensor steps on the spirals in {seconds:.1f} s: loss {losses[-1]:.4f}, "
          f"training accuracy {accuracy:.0%}")

    if plot:
        from gradschool.rungs.plots import figure, save

        fig, axes = figure((10, 4), 1, 2)
        for ax, (name, r) in zip(axes, (("two moons", moons), ("spirals", spirals))):
            ax.plot(r["scalar"], "o", label="scalar engine (Value)", alpha=0.6)
            ax.plot(r["tensor"], "-", label="Tensor engine")
            ax.set_title(f"{name}: the same losses")
            ax.set_xlabel("step")
            ax.set_ylabel("loss")
            ax.legend()
        save(fig, plot)
    print("\nchapter 6 of the course: `gradschool serve`, then http://127.0.0.1:8000/chapter/6")


if __name__ == "__main__":
    main()
