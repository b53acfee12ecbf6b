"""One neuron: its output, the gradient of its loss by wiggling and by backward(), then training it."""

import math
import random

from gradschool.scalar.engine import Value
from gradschool.scalar.gradcheck import numerical_gradient

xs = [(2.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-2.0, -1.0)]
ys = [1.0, -1.0, -1.0, -1.0]  # the targets


def neuron(x1: float, x2: float, w1: float, w2: float, b: float) -> float:
    act = x1*w1 + x2*w2 + b  # the weighted sum
    return math.tanh(act)    # the squashing nonlinearity


def plain_loss(params: list[float]) -> float:
    """Mean squared error of the neuron with weights and bias `params` over the four examples."""
    w1, w2, b = params
    total = 0.0
    for (x1, x2), y in zip(xs, ys):
        pred = neuron(x1, x2, w1, w2, b)
        total += (pred - y) ** 2  # squared error
    return total / len(xs)


def value_loss(w: list[Value], b: Value) -> Value:
    """The same loss built from Values: one big expression that backward() can differentiate."""
    loss = Value(0.0)
    for x, y in zip(xs, ys):
        diff = (w[0]*x[0] + w[1]*x[1] + b).tanh() - y
        loss = loss + diff*diff
    return loss * (1.0/len(xs))


def main(plot: str | None = None) -> None:
    print(neuron(2.0, 1.0, w1=-0.6, w2=0.8, b=0.1))

    params = [-0.6, 0.8, 0.1]
    numerical = [numerical_gradient(plain_loss, params, i) for i in range(3)]
    print("numerical gradient (wiggle each knob):", [round(g, 4) for g in numerical])

    w, b = [Value(params[0]), Value(params[1])], Value(params[2])
    value_loss(w, b).backward()
    backprop = [p.grad for p in w + [b]]
    print("backward() gradient (one pass):       ", [round(g, 4) for g in backprop])
    agree = all(abs(n - g) < 1e-6 for n, g in zip(numerical, backprop))
    print("they agree to 1e-6:", agree)

    random.seed(1)
    w = [Value(random.uniform(-1, 1)), Value(random.uniform(-1, 1))]
    b = Value(0.0)
    lr = 0.1
    losses = []
    for step in range(200):
        loss = value_loss(w, b)     # forward pass: mean squared error as one big expression
        for p in w + [b]:           # reset gradients
            p.grad = 0.0
        loss.backward()             # fill them all in, in one pass
        for p in w + [b]:           # gradient-descent step
            p.data += -lr * p.grad
        losses.append(loss.data)
        if step % 40 == 0:
            print(f"step {step:3d} loss {loss.data:.4f}")
    if plot:
        save_training_plot(plot, losses, [p.data for p in w + [b]])
    print("chapter 1 of the course: `gradschool serve`, then http://127.0.0.1:8000/chapter/1")


def save_training_plot(path: str, losses: list[float], params: list[float]) -> None:
    """The loss of the 200 steps, and the trained neuron's output along x1 beside the four examples."""
    from gradschool.rungs.plots import figure, save

    fig, (left, right) = figure((10, 4), 1, 2)
    left.plot(losses)
    left.set_xlabel("step")
    left.set_ylabel("mean squared error")
    left.set_title("training one neuron")
    w1, w2, b = params
    for x2, color in ((1.0, "tab:blue"), (-1.0, "tab:orange")):
        grid = [-3 + 6 * i / 100 for i in range(101)]
        outputs = [neuron(x1, x2, w1, w2, b) for x1 in grid]
        right.plot(grid, outputs, color=color, label=f"neuron, x2 = {x2:g}")
        points = [(x1, y) for (x1, p2), y in zip(xs, ys) if p2 == x2]
        right.scatter([x1 for x1, _ in points], [y for _, y in points], color=color, edgecolors="k", zorder=3)
    right.set_xlabel("x1")
    right.set_ylabel("output")
    right.set_title("the trained neuron and the examples (dots)")
    right.legend()
    fig.tight_layout()
    save(fig, path)


if __name__ == "__main__":
    main()
