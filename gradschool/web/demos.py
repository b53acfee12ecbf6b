"""The numbers behind the course pages, each computed by the scalar engine (gradschool.scalar)."""

import math
import random

from gradschool.scalar.engine import Value
from gradschool.scalar.graph import trace
from gradschool.scalar.nn import MLP
from gradschool.web.expr import ExprError, parse


def neuron(w1: float, w2: float, b: float, x1: float = 0.5, x2: float = -0.3) -> dict:
    """One neuron: raw = w1*x1 + w2*x2 + b, out = tanh(raw), and d(out)/d(each weight)."""
    w1, w2, b = Value(w1, label="w1"), Value(w2, label="w2"), Value(b, label="b")
    raw = w1 * x1 + w2 * x2 + b
    out = raw.tanh()
    out.backward()
    return {"raw": raw.data, "out": out.data, "grads": {"w1": w1.grad, "w2": w2.grad, "b": b.grad}}


def forward_pass(x: list[float], seed: int) -> dict:
    """Run x through a 2 -> 3 -> 1 tanh network with random weights; every layer's values, in order."""
    model = MLP(2, [3, 1], rng=random.Random(seed))
    layers = [[float(v) for v in x]]
    h = [Value(v) for v in x]
    for layer in model.layers:
        h = layer(h)
        h = h if isinstance(h, list) else [h]
        layers.append([v.data for v in h])
    weights = [[[w.data for w in n.w] for n in layer.neurons] for layer in model.layers]
    biases = [[n.b.data for n in layer.neurons] for layer in model.layers]
    return {"layers": layers, "weights": weights, "biases": biases}


def descent_loss(w: Value) -> Value:
    """The 1-D loss of the landscape page: a bowl with its bottom at w = 2."""
    return (w - 2) ** 2


def descent_step(w: float, lr: float) -> dict:
    """One gradient-descent update on descent_loss: w <- w - lr * dloss/dw."""
    wv = Value(w, label="w")
    loss = descent_loss(wv)
    loss.backward()
    new_w = w - lr * wv.grad
    new_loss = descent_loss(Value(new_w)).data
    return {"w": w, "loss": loss.data, "grad": wv.grad, "new_w": new_w, "new_loss": new_loss,
            "diverging": new_loss > loss.data}


def curve(f, lo: float, hi: float, n: int = 61) -> list[list[float]]:
    """Sample f (a function of one Value) at n evenly spaced points between lo and hi."""
    return [[x, f(Value(x)).data] for x in (lo + (hi - lo) * i / (n - 1) for i in range(n))]


def square(x: Value) -> Value:
    return x**2


def derivative(x: float) -> dict:
    """f(x) = x^2 and its slope f'(x), found by backpropagation."""
    xv = Value(x, label="x")
    f = square(xv)
    f.backward()
    return {"x": x, "f": f.data, "dfdx": xv.grad}


def unique_children(node: Value) -> list[Value]:
    """node's inputs, each once (in a*a the same Value is both inputs)."""
    return list({id(c): c for c in node.children}.values())


def local_gradients(node: Value) -> list[float]:
    """d(node)/d(child) for each unique child, as the engine stored them in the forward pass."""
    grads: dict[int, float] = {}
    for child, local in zip(node.children, node.local_grads):
        grads[id(child)] = grads.get(id(child), 0.0) + local  # a*a: a is both inputs, so the slopes add
    return [grads[id(c)] for c in unique_children(node)]


def expression_graph(expression: str, variables: dict[str, float]) -> dict:
    """Parse the expression, run forward and backward, and describe every node and every chain-rule term."""
    root, _ = parse(expression, variables)
    nodes, _ = trace(root)
    ids = {id(v): i for i, v in enumerate(nodes)}
    out = [{"id": i, "label": v.label, "op": v.op, "data": v.data, "children": [ids[id(c)] for c in
            unique_children(v)], "terms": []} for i, v in enumerate(nodes)]
    try:
        root.backward()
        # Backprop in reverse topological order: each child gets local x upstream from each parent.
        for v in reversed(nodes):
            for c, local in zip(unique_children(v), local_gradients(v), strict=True):
                out[ids[id(c)]]["terms"].append({"parent": ids[id(v)], "local": local, "upstream": v.grad})
    except (ValueError, ZeroDivisionError, OverflowError) as e:
        raise ExprError(f"the gradient is not defined here ({e}); try other values", None) from None
    for node, v in zip(out, nodes, strict=True):
        node["grad"] = v.grad
        numbers = [v.grad] + [x for t in node["terms"] for x in (t["local"], t["upstream"])]
        if not all(math.isfinite(x) for x in numbers):
            raise ExprError(f"the gradient at node {node['label'] or node['op']} is not a finite number; "
                            "try other values", None)
    return {"nodes": out, "root": ids[id(root)], "backward_order": [ids[id(v)] for v in reversed(nodes)]}
