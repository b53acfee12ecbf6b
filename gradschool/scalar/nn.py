"""Neurons, layers and multilayer perceptrons built from Values, as in the seed (and micrograd's nn.py).

    MLP(4, [3, 1])                                            # the seed's net: tanh everywhere, 19 parameters
    MLP(2, [16, 16, 1], nonlin="relu", out_nonlin="linear")  # micrograd's two-moons net
"""

import random

from gradschool.scalar.engine import Value, weighted_sum

NONLINEARITIES = ("tanh", "relu", "linear")


class Module:
    """Anything with parameters: they can be listed and their gradients cleared."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0 (backward() adds to them, so do this before each step)."""
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """tanh(w1*x1 + ... + wn*xn + b) (or relu, or no squashing at all with nonlin="linear")."""

    def __init__(self, nin: int, nonlin: str = "tanh", rng: random.Random | None = None):
        if nonlin not in NONLINEARITIES:
            raise ValueError(f"nonlin must be one of {', '.join(NONLINEARITIES)}; got {nonlin!r}")
        uniform = (rng or random).uniform  # None: the random module itself, so random.seed(k) reproduces
        self.w = [Value(uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)
        self.nonlin = nonlin

    def __call__(self, x: list) -> Value:
        act = weighted_sum(self.w, x, self.b)  # the weighted sum as one node of the graph
        if self.nonlin == "tanh":
            return act.tanh()
        return act.relu() if self.nonlin == "relu" else act

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"{self.nonlin.capitalize()}Neuron({len(self.w)})"


class Layer(Module):
    """nout neurons that all read the same inputs."""

    def __init__(self, nin: int, nout: int, nonlin: str = "tanh", rng: random.Random | None = None):
        self.neurons = [Neuron(nin, nonlin, rng) for _ in range(nout)]

    def __call__(self, x: list) -> list[Value]:
        return [n(x) for n in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Layers in a row: sizes nin -> nouts[0] -> ... -> nouts[-1].

    Hidden layers use `nonlin`; the last layer uses `out_nonlin` (default: the same as the hidden ones).
    """

    def __init__(self, nin: int, nouts: list[int], nonlin: str = "tanh", rng: random.Random | None = None,
                 out_nonlin: str | None = None):
        if not nouts:
            raise ValueError("nouts must list at least one layer size, e.g. MLP(4, [3, 1])")
        sizes = [nin] + list(nouts)
        last = len(nouts) - 1
        self.layers = [Layer(sizes[i], sizes[i + 1], nonlin if i < last else out_nonlin or nonlin, rng)
                       for i in range(len(nouts))]

    def __call__(self, x: list) -> Value | list[Value]:
        for layer in self.layers:
            x = layer(x)
        return x[0] if len(x) == 1 else x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
