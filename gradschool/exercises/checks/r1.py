"""Checks of rung 1's exercise: Value.__mul__, Value.tanh, and topological_order (with backward)."""

import math

from gradschool.exercises.part import Part, instance, kind, number, sequence
from gradschool.scalar.engine import Value
from gradschool.scalar.gradcheck import numerical_gradient


def draw_products(rng) -> list[dict]:
    pairs = [(2.0, -3.0), *rng.uniform(-3, 3, (2, 2)).round(3).tolist()]
    cases = [{"a": a, "b": b, "b is": "a Value"} for a, b in pairs]
    return cases + [{"a": 1.5, "b": 4.0, "b is": "a number"}]


def answer_product(mod, case) -> dict:
    a = mod.Value(case["a"])
    b = mod.Value(case["b"]) if case["b is"] == "a Value" else case["b"]
    what = "Value(a) * " + ("Value(b)" if case["b is"] == "a Value" else "b")
    out = instance(a * b, mod.Value, what)

    def name(child):
        if child is a:
            return "a"
        if child is b or (isinstance(child, mod.Value) and not isinstance(b, mod.Value) and child.data == b):
            return "b"
        return kind(child)
    return {"(a * b).data": number(out.data, f"({what}).data"),
            "children": [name(c) for c in sequence(out.children, f"({what}).children")],
            "local_grads": [number(g, f"({what}).local_grads") for g in sequence(out.local_grads,
                                                                                  f"({what}).local_grads")]}


def oracle_product(case) -> dict:
    out = Value(case["a"]) * Value(case["b"])
    return {"(a * b).data": out.data, "children": ["a", "b"], "local_grads": list(out.local_grads)}


def draw_tanh(rng) -> list[dict]:
    return [{"x": x} for x in [0.5, *rng.uniform(-3, 3, 3).round(3).tolist(), 0.0]]


def answer_tanh(mod, case) -> dict:
    x = mod.Value(case["x"])
    out = instance(x.tanh(), mod.Value, "Value(x).tanh()")
    children = sequence(out.children, "Value(x).tanh().children")
    return {"tanh(x)": number(out.data, "Value(x).tanh().data"),
            "children": ["x" if c is x else kind(c) for c in children],
            "d tanh/dx": number(sequence(out.local_grads, "Value(x).tanh().local_grads", 1)[0],
                                "Value(x).tanh().local_grads")}


def oracle_tanh(case) -> dict:
    return {"tanh(x)": Value(case["x"]).tanh().data, "children": ["x"],
            "d tanh/dx": numerical_gradient(lambda p: math.tanh(p[0]), [case["x"]], 0)}


# the graph of out = (a*b + a)**2 + tanh(a*b + a), each node by name with its children
GRAPH = {"a": [], "b": [], "m = a*b": ["a", "b"], "s = m + a": ["m = a*b", "a"], "q = s*s": ["s = m + a"],
         "r = tanh(s)": ["s = m + a"], "out = q + r": ["q = s*s", "r = tanh(s)"]}


def draw_graphs(rng) -> list[dict]:
    return [{"a": a, "b": b} for a, b in [(0.6, -0.4), *rng.uniform(-1, 1, (2, 2)).round(3).tolist()]]


def answer_order(mod, case) -> dict:
    """Build the graph node by node with the learner's Value (no * or tanh of theirs), order it, backward."""
    V = mod.Value
    a, b = V(case["a"]), V(case["b"])
    m = V(a.data * b.data, (a, b), (b.data, a.data))
    s = V(m.data + a.data, (m, a), (1.0, 1.0))
    q = V(s.data * s.data, (s, s), (s.data, s.data))
    t = math.tanh(s.data)
    r = V(t, (s,), (1 - t * t,))
    out = V(q.data + r.data, (q, r), (1.0, 1.0))
    names = {id(v): name for v, name in zip((a, b, m, s, q, r, out), GRAPH)}
    order = sequence(mod.topological_order(out), "topological_order(out)")
    out.backward()
    return {"order": [names.get(id(v), kind(v)) for v in order],
            "d out/da": number(a.grad, "a.grad"), "d out/db": number(b.grad, "b.grad")}


def judge_order(case, got) -> dict:
    order = got["order"]
    once = next((f"{n!r} is listed {order.count(n)} times" for n in order if order.count(n) > 1),
                next((f"{n!r} is missing" for n in GRAPH if n not in order), "yes"))
    before = next((f"{n!r} comes before its child {c!r}" for i, n in enumerate(order)
                   for c in GRAPH.get(n, []) if c in order and order.index(c) > i), "yes")
    return {"every node once": once, "children before parents": before,
            "last": order[-1] if order else "nothing",
            "d out/da": got["d out/da"], "d out/db": got["d out/db"]}


def oracle_order(case) -> dict:
    def f(p):
        s = p[0] * p[1] + p[0]
        return s * s + math.tanh(s)
    params = [case["a"], case["b"]]
    return {"every node once": "yes", "children before parents": "yes", "last": "out = q + r",
            "d out/da": numerical_gradient(f, params, 0), "d out/db": numerical_gradient(f, params, 1)}


PARTS = [
    Part("1.1", "Value.__mul__ and its local derivatives", draw_products, answer_product, oracle_product,
         {"(a * b).data": "the product of self.data and other.data",
          "children": "the children are (self, other), other wrapped in a Value if it was a number",
          "local_grads": "d(a*b)/da = b and d(a*b)/db = a: (other.data, self.data)"}),
    Part("1.2", "Value.tanh and its local derivative", draw_tanh, answer_tanh, oracle_tanh,
         {"tanh(x)": "t = math.tanh(self.data)", "children": "the one child is self: (self,)",
          "d tanh/dx": "the derivative of tanh is 1 - tanh(x)**2, i.e. 1 - t**2"}),
    Part("1.3", "topological_order, as backward uses it", draw_graphs, answer_order, oracle_order,
         {"every node once": "keep a set of visited nodes and skip a node already in it",
          "children before parents": "append a node only after visiting all its children",
          "last": "root itself comes last: it is appended after everything behind it",
          "d out/da": "backward() is right once the order is: check that each node is listed once",
          "d out/db": "backward() is right once the order is: check that each node is listed once"},
         derive=judge_order),
]
