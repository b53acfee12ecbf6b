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
    for step in range(200):
        loss = value_loss(w, b)     # forward pass: mean squared error as one big expression
        for p in w + [b]:           # reset gradients
            p.grad = 0.0
        loss.backward()             # fill them all in, in one pass
        for p in w + [b]:           # gradient-descent step
            p.data += -lr * p.grad
        if step % 40 == 0:
            print(f"step {step:3d} loss {loss.data:.4f}")


if __name__ == "__main__":
    main()
