"""A scalar autograd engine: every number remembers how it was made, and backward() applies the chain rule.

Each operation computes its result and, right beside it, its local derivatives d(out)/d(input), which it
stores on the new node (`_local_grads`). backward() walks the graph from the output back to the inputs and
hands every child `local derivative * gradient of the parent` (the chain rule). Storing numbers instead of a
closure that refers to its own output keeps the graph free of reference cycles, so Python frees it as soon as
it is unused.

Gradient semantics, as in PyTorch:
- `out.backward()` ADDS d(out)/d(leaf) to the `.grad` of every leaf (a Value made by you, not by an op), so
  calling it twice doubles the leaf gradients. Clear them before each step: `model.zero_grad()`,
  `out.zero_grad()` (every node behind `out`) or `p.grad = 0.0`, as the seed does.
- The gradients of intermediate nodes are recomputed from zero on every call, never accumulated.
- An operation whose result is NaN or infinite keeps that IEEE value (exp(1000) is inf), as PyTorch does;
  inputs outside an operation's domain (log(-1), 1 / 0, 0 ** -1, (-8) ** 0.5) raise an error naming them.
"""

import math
import operator
from itertools import compress


class Value:
    """A number in an expression graph, with the gradient d(output)/d(self) that backward() fills in."""

    __slots__ = ("data", "grad", "label", "_prev", "_local_grads", "_op")

    def __init__(self, data: float, _children: tuple = (), _op: str = "", _local_grads: tuple = (),
                 label: str = ""):
        if type(data) is not float:
            if not isinstance(data, (int, float)):
                raise TypeError(f"Value holds a number (int or float), got {type(data).__name__} {data!r}; "
                                f"convert it first, e.g. Value(float(x))")
            data = float(data)
        self.data = data
        self.grad = 0.0  # d(output)/d(self), filled in by backward()
        self.label = label  # an optional name, shown by repr() and in graph drawings
        self._prev = _children  # the Values that produced this one
        self._local_grads = _local_grads  # d(self)/d(child) for each child, computed in the forward pass
        self._op = _op  # the operation that produced this Value ('' for a leaf)

    # ---- the node's place in the graph, read-only: for drawings and demos ----

    @property
    def children(self) -> tuple["Value", ...]:
        """The Values this one was computed from, in the operation's order (a * a lists a twice)."""
        return self._prev

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d(self)/d(child) for each of `children`, computed in the forward pass."""
        return self._local_grads

    @property
    def op(self) -> str:
        """The operation that produced this Value ('' for a leaf)."""
        return self._op

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        op = f", op={self._op!r}" if self._op else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{label}{op})"

    # ---- arithmetic ----

    def __add__(self, other: "Value | float") -> "Value":
        other = other if isinstance(other, Value) else Value(other)
        # d(a+b)/da = 1, d(a+b)/db = 1
        return Value(self.data + other.data, (self, other), "+", (1.0, 1.0))

    def __mul__(self, other: "Value | float") -> "Value":
        other = other if isinstance(other, Value) else Value(other)
        # d(a*b)/da = b, d(a*b)/db = a
        return Value(self.data * other.data, (self, other), "*", (other.data, self.data))

    def __sub__(self, other: "Value | float") -> "Value":
        other = other if isinstance(other, Value) else Value(other)
        # d(a-b)/da = 1, d(a-b)/db = -1
        return Value(self.data - other.data, (self, other), "-", (1.0, -1.0))

    def __truediv__(self, other: "Value | float") -> "Value":
        other = other if isinstance(other, Value) else Value(other)
        a, b = self.data, other.data
        if b == 0:
            raise ZeroDivisionError(f"division by zero: {a!r} / {b!r}")
        out = a / b
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2, written -(a/b)/b so that b^2 cannot underflow to 0 (b = 1e-170)
        return Value(out, (self, other), "/", (1.0 / b, -out / b))

    def __neg__(self) -> "Value":
        # d(-a)/da = -1
        return Value(-self.data, (self,), "neg", (-1.0,))

    def __pow__(self, other: "Value | float") -> "Value":
        if isinstance(other, Value):
            return self._pow_value(other)
        if not isinstance(other, (int, float)):
            return NotImplemented
        x, p = self.data, other
        _check_pow(x, p)
        # d(x^p)/dx = p * x^(p-1)
        return Value(_ieee_pow(x, p), (self,), f"**{p:g}", (p * _ieee_pow(x, p - 1),))

    def _pow_value(self, other: "Value") -> "Value":
        """x ** y where the exponent is a Value too."""
        x, y = self.data, other.data
        _check_pow(x, y)
        out = _ieee_pow(x, y)
        # d(x^y)/dx = y * x^(y-1), d(x^y)/dy = x^y * ln(x) (no real log for x < 0: NaN, as in PyTorch)
        dy = out * math.log(x) if x > 0 else (0.0 if x == 0 and y >= 0 else math.nan)
        return Value(out, (self, other), "**", (y * _ieee_pow(x, y - 1), dy))

    # the reflected forms, so that 2 * v, 1 - v, 3 / v and 2 ** v work when the number comes first
    def __radd__(self, other: float) -> "Value":
        return Value(other) + self

    def __rmul__(self, other: float) -> "Value":
        return Value(other) * self

    def __rsub__(self, other: float) -> "Value":
        return Value(other) - self

    def __rtruediv__(self, other: float) -> "Value":
        return Value(other) / self

    def __rpow__(self, other: float) -> "Value":
        return Value(other)._pow_value(self)

    # ---- functions ----

    def exp(self) -> "Value":
        try:
            e = math.exp(self.data)
        except OverflowError:
            e = math.inf  # IEEE: exp of a large number is +inf
        # d(e^x)/dx = e^x
        return Value(e, (self,), "exp", (e,))

    def log(self) -> "Value":
        x = self.data
        if x <= 0:
            raise ValueError(f"log is defined for positive numbers only, got log({x!r})")
        # d(ln x)/dx = 1/x
        return Value(math.log(x), (self,), "log", (1.0 / x,))

    def tanh(self) -> "Value":
        t = math.tanh(self.data)
        # d(tanh x)/dx = 1 - tanh(x)^2
        return Value(t, (self,), "tanh", (1.0 - t * t,))

    def relu(self) -> "Value":
        x = self.data
        # d(relu x)/dx = 1 if x > 0 else 0
        return Value(0.0 if x < 0 else x, (self,), "relu", (1.0 if x > 0 else 0.0,))

    def sigmoid(self) -> "Value":
        x = self.data
        if x >= 0:
            s = 1.0 / (1.0 + math.exp(-x))
        else:  # the same number, written so that exp() cannot overflow
            e = math.exp(x)
            s = e / (1.0 + e)
        # d(sigmoid x)/dx = sigmoid(x) * (1 - sigmoid(x))
        return Value(s, (self,), "sigmoid", (s * (1.0 - s),))

    # ---- backpropagation ----

    def backward(self) -> None:
        """Fill in d(self)/d(node) for every node behind self: added to the leaves, fresh for the rest."""
        # 1. The nodes that have inputs (a leaf has nothing to pass on), children before parents; their
        #    gradients restart from zero.
        leaf_grad = self.grad
        topo = topological_order(self, leaves=False)
        for v in topo:
            v.grad = 0.0
        # 2. d(self)/d(self) = 1, the seed of the chain rule (added to the old gradient if self is a leaf)
        self.grad = 1.0 if self._prev else leaf_grad + 1.0
        # 3. From the output back to the inputs, each node hands its children local derivative * its gradient.
        for v in reversed(topo):
            grad = v.grad
            if len(v._prev) == 2:  # most nodes have two inputs; unrolled, this loop runs twice as fast
                (a, b), (da, db) = v._prev, v._local_grads
                a.grad += da * grad
                b.grad += db * grad
            else:
                for child, local in zip(v._prev, v._local_grads):
                    child.grad += local * grad

    def _backward(self) -> None:
        """Step 3 of backward() for this node alone: each child.grad += d(self)/d(child) * self.grad."""
        for child, local in zip(self._prev, self._local_grads):
            child.grad += local * self.grad

    def zero_grad(self) -> None:
        """Set the gradient of every node behind self (self included) back to 0."""
        stack, seen = [self], {self}
        while stack:
            v = stack.pop()
            v.grad = 0.0
            for child in v._prev:
                if child not in seen:
                    seen.add(child)
                    stack.append(child)

    def _repr_svg_(self) -> str:
        """Jupyter shows a Value as a drawing of its expression graph."""
        from gradschool.scalar.graph import to_svg  # imported here: graph.py imports this module

        return to_svg(self)


def topological_order(root: Value, leaves: bool = True) -> list[Value]:
    """Every node behind root (root included), each once, children before parents: root comes last.

    A depth-first search with an explicit stack, since a deep graph would overflow Python's recursion limit.
    A node is popped twice: first it goes back on the stack under its children, then, once they are all
    listed, it is listed itself. leaves=False leaves out the nodes that have no inputs (except root).
    """
    order: list[Value] = []
    visited, listed = set(), set()
    stack = [root]
    while stack:
        v = stack.pop()
        if v not in visited:
            visited.add(v)
            stack.append(v)
            for child in v._prev:
                if (leaves or child._prev) and child not in visited:
                    stack.append(child)
        elif v not in listed:
            listed.add(v)
            order.append(v)
    return order


# ---- n-ary nodes: a whole neuron's weighted sum as one node, and a sum of many terms ----

def weighted_sum(weights: list[Value], inputs: list, bias: Value | None = None) -> Value:
    """w1*x1 + w2*x2 + ... + b as ONE node (faster than a chain of * and +; same value and gradients).

    `inputs` may mix Values and plain numbers; numbers are constants and get no gradient.
    """
    if len(weights) != len(inputs):
        raise ValueError(f"weighted_sum needs one input per weight, got {len(weights)} weights and "
                         f"{len(inputs)} inputs")
    w_data = [w.data for w in weights]
    is_value = [isinstance(x, Value) for x in inputs]
    x_data = [x.data if v else x for x, v in zip(inputs, is_value)]
    total = sum(map(operator.mul, w_data, x_data), bias.data if bias is not None else 0.0)
    # d(sum w*x + b)/dw_i = x_i, d/dx_i = w_i (for the inputs that are Values), d/db = 1
    children = [*weights, *compress(inputs, is_value)]
    local_grads = [*x_data, *compress(w_data, is_value)]
    if bias is not None:
        children.append(bias)
        local_grads.append(1.0)
    return Value(total, tuple(children), "wsum", tuple(local_grads))


def sum_values(values: list) -> Value:
    """v1 + v2 + ... as ONE node. Plain numbers among the values are constants."""
    values = [v if isinstance(v, Value) else Value(v) for v in values]
    # d(sum v)/dv_i = 1
    return Value(sum(v.data for v in values), tuple(values), "sum", (1.0,) * len(values))


# ---- helpers for ** ----

def _check_pow(x: float, p: float) -> None:
    """Refuse the powers that have no real value."""
    if x == 0 and p < 0:
        raise ZeroDivisionError(f"0 cannot be raised to a negative power: {x!r} ** {p!r}")
    if x < 0 and math.isfinite(p) and p != int(p):
        raise ValueError(f"a negative number to a non-integer power is not a real number: {x!r} ** {p!r}")


def _ieee_pow(x: float, p: float) -> float:
    """x ** p, but overflow gives inf and 0 ** negative gives inf, as IEEE 754 (and PyTorch) say."""
    try:
        return float(x) ** p
    except OverflowError:
        odd = p == int(p) and int(p) % 2 == 1
        return -math.inf if x < 0 and odd else math.inf
    except ZeroDivisionError:  # only reached for a local derivative like 0.5 * 0 ** -0.5
        odd = p == int(p) and int(p) % 2 == 1
        return -math.inf if odd and math.copysign(1.0, x) < 0 else math.inf
