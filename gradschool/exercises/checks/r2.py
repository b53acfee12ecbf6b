"""Checks of rung 2's exercise: Neuron.__call__ and MLP.parameters."""

import math

from gradschool.exercises.part import Part, instance, kind, number, sequence
from gradschool.scalar.engine import Value
from gradschool.scalar.gradcheck import numerical_gradient
from gradschool.scalar.nn import MLP, Neuron


def draw_neurons(rng) -> list[dict]:
    cases = []
    for nin in (2, 3, 4):
        cases.append({"w": rng.uniform(-1, 1, nin).round(3).tolist(),
                      "b": round(float(rng.uniform(-1, 1)), 3),
                      "x": rng.uniform(-2, 2, nin).round(3).tolist()})
    return cases


def answer_neuron(mod, case) -> dict:
    n = mod.Neuron(len(case["w"]))
    n.w, n.b = [Value(w) for w in case["w"]], Value(case["b"])
    out = instance(n(case["x"]), Value, "Neuron(nin)(x)")
    out.backward()
    return {"output": number(out.data, "Neuron(nin)(x).data"), "d output/dw": [w.grad for w in n.w],
            "d output/db": n.b.grad}


def oracle_neuron(case) -> dict:
    n = Neuron(len(case["w"]))
    n.w, n.b = [Value(w) for w in case["w"]], Value(case["b"])
    params = case["w"] + [case["b"]]

    def f(p):
        return math.tanh(sum(wi * xi for wi, xi in zip(p[:-1], case["x"])) + p[-1])
    grads = [numerical_gradient(f, params, i) for i in range(len(params))]
    return {"output": n(case["x"]).data, "d output/dw": grads[:-1], "d output/db": grads[-1]}


def draw_shapes(rng) -> list[dict]:
    return [{"nin": 3, "nouts": [4, 4, 1]}, {"nin": 2, "nouts": [3, 2]}]


def labels(layers) -> dict[int, str]:
    """Every parameter of a network by id: 'layer 0 neuron 1 w[2]', 'layer 0 neuron 1 b'."""
    named = {}
    for i, layer in enumerate(layers):
        for j, n in enumerate(layer.neurons):
            named.update({id(w): f"layer {i} neuron {j} w[{k}]" for k, w in enumerate(n.w)})
            named[id(n.b)] = f"layer {i} neuron {j} b"
    return named


def answer_parameters(mod, case) -> dict:
    net = mod.MLP(case["nin"], case["nouts"])
    named = labels(net.layers)
    params = sequence(net.parameters(), "MLP.parameters()")
    return {"parameters": [named.get(id(p), kind(p)) for p in params]}


def oracle_parameters(case) -> dict:
    net = MLP(case["nin"], case["nouts"])
    named = labels(net.layers)
    return {"parameters": [named[id(p)] for p in net.parameters()]}


PARTS = [
    Part("2.1", "Neuron.__call__: tanh of the weighted sum, and its gradients", draw_neurons, answer_neuron,
         oracle_neuron,
         {"output": "tanh(w1*x1 + ... + wn*xn + b): each weight times its input, plus the bias, then .tanh()",
          "d output/dw": "build the sum from the Values in self.w (not from their .data), so backward() "
                         "reaches them",
          "d output/db": "add self.b itself (a Value) to the sum"}),
    Part("2.2", "MLP.parameters: every weight and bias, once, in order", draw_shapes, answer_parameters,
         oracle_parameters,
         "one flat list: for each layer in self.layers, the items of layer.parameters() (not the lists "
         "themselves)"),
]
