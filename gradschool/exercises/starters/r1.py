# Rung 1 exercise: a scalar autograd engine. Fill in each TODO, then check your work with
#     gradschool check 1 exercise_1.py
"""A Value is a number that remembers how it was made, so that backward() can apply the chain rule.

Each operation computes its result and, right beside it, its local derivatives d(out)/d(input), stored on
the new Value in `local_grads`, one per child, in the order of `children`. backward() visits the nodes from
the output back to the inputs and hands every child `local derivative * gradient of its parent`.
"""

import math


class Value:
    """A number in an expression graph, with the gradient d(output)/d(self) that backward() fills in."""

    def __init__(self, data: float, children: tuple = (), local_grads: tuple = ()):
        self.data = float(data)
        self.grad = 0.0
        self.children = children  # the Values this one was computed from
        self.local_grads = local_grads  # d(self)/d(child) for each child, in the same order

    def __repr__(self) -> str:
        return f"Value(data={self.data:.4g}, grad={self.grad:.4g})"

    def __add__(self, other: "Value | float") -> "Value":
        """self + other (written for you, as an example): d(a+b)/da = 1 and d(a+b)/db = 1."""
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other: "Value | float") -> "Value":
        """TODO: self * other, as a new Value whose children are (self, other).

        Wrap a plain number in a Value first, as __add__ does. The local derivatives of a * b are
        d(a*b)/da = b and d(a*b)/db = a (the data of the other factor): store them in local_grads, in the
        order of the children.
        """
        raise NotImplementedError("TODO: write Value.__mul__")

    def __radd__(self, other: float) -> "Value":  # 2 + v
        return self + other

    def __rmul__(self, other: float) -> "Value":  # 2 * v
        return self * other

    def tanh(self) -> "Value":
        """TODO: tanh(self), as a new Value with the one child self.

        Its data is t = math.tanh(x) for x = self.data; its local derivative is d tanh(x)/dx = 1 - t**2.
        """
        raise NotImplementedError("TODO: write Value.tanh")

    def backward(self) -> None:
        """Fill in .grad = d(self)/d(node) for every node behind self (written for you: it needs
        topological_order below)."""
        order = topological_order(self)
        for v in order:
            v.grad = 0.0
        self.grad = 1.0  # d(self)/d(self)
        for v in reversed(order):  # from the output back to the inputs: a node's gradient is complete
            for child, local in zip(v.children, v.local_grads):  # before it is handed on
                child.grad += local * v.grad  # the chain rule


def topological_order(root: Value) -> list[Value]:
    """TODO: every Value behind root (root included), each exactly once, children before parents.

    So root comes last, and a Value used twice (x in x*w + x, or a in a*a) is listed once. A depth-first
    search does it: keep a set of the nodes visited; to visit a node, visit each of its children not yet
    visited, then append the node to the list. For d = a*b + a the order could be [a, b, a*b, d].
    """
    raise NotImplementedError("TODO: write topological_order")


if __name__ == "__main__":
    x, w, b = Value(2.0), Value(-0.5), Value(0.1)
    out = (x * w + b).tanh()
    out.backward()
    print(f"out = {out.data:.4f}; d out/dx = {x.grad:.4f}, d out/dw = {w.grad:.4f}, d out/db = {b.grad:.4f}")
