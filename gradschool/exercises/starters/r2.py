# Rung 2 exercise: neurons, layers and a multilayer perceptron. Fill in each TODO, then check your work with
#     gradschool check 2 exercise_2.py
"""A neuron squashes a weighted sum of its inputs; a layer is neurons reading the same inputs; an MLP is
layers in a row. Everything is built from Values (the engine of rung 1, here gradschool's own), so
backward() can find the gradient of a loss with respect to every weight.
"""

import random

from gradschool.scalar.engine import Value


class Neuron:
    """tanh(w1*x1 + ... + wn*xn + b), with nin weights drawn at random and a bias starting at 0."""

    def __init__(self, nin: int):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)

    def __call__(self, x: list[float]) -> Value:
        """TODO: the neuron's output for the inputs x (a list of nin numbers), as a Value.

        act = w1*x1 + w2*x2 + ... + wn*xn + b, built from the Values self.w and self.b (start from self.b and
        add each wi * xi) so that backward() can reach every weight; then return act.tanh().
        """
        raise NotImplementedError("TODO: write Neuron.__call__")

    def parameters(self) -> list[Value]:
        return self.w + [self.b]


class Layer:
    """nout neurons that all read the same nin inputs."""

    def __init__(self, nin: int, nout: int):
        self.neurons = [Neuron(nin) for _ in range(nout)]

    def __call__(self, x: list) -> list[Value]:
        return [n(x) for n in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    """Layers in a row: nin inputs -> nouts[0] -> nouts[1] -> ... -> nouts[-1] outputs."""

    def __init__(self, nin: int, nouts: list[int]):
        sizes = [nin] + nouts
        self.layers = [Layer(sizes[i], sizes[i + 1]) for i in range(len(nouts))]

    def __call__(self, x: list) -> Value | list[Value]:
        for layer in self.layers:
            x = layer(x)
        return x[0] if len(x) == 1 else x

    def parameters(self) -> list[Value]:
        """TODO: every weight and bias of the network, each once, as one flat list of Values.

        Layer by layer, and within a layer in the order Layer.parameters gives (neuron by neuron, each
        neuron's w1..wn then its b). MLP(3, [4, 4, 1]) has 4*(3+1) + 4*(4+1) + 1*(4+1) = 41 of them.
        """
        raise NotImplementedError("TODO: write MLP.parameters")


if __name__ == "__main__":
    random.seed(6)
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    net = MLP(3, [4, 4, 1])
    for step in range(20):
        loss = sum(((net(x) - y) ** 2 for x, y in zip(xs, ys)), Value(0.0))
        for p in net.parameters():
            p.grad = 0.0
        loss.backward()
        for p in net.parameters():
            p.data -= 0.05 * p.grad
        print(f"step {step} loss {loss.data:.4f}")
