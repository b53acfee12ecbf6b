"""Graph tracing and drawing: trace's order and edges, DOT text, the pure-Python SVG and Jupyter's hook."""

import xml.etree.ElementTree as ET

import pytest

from gradschool.scalar.engine import Value
from gradschool.scalar.graph import to_dot, to_svg, trace

SVG = "{http://www.w3.org/2000/svg}"


def example():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    e = (a * b + a).tanh()
    e.label = "e"
    return a, b, e


def test_trace_lists_nodes_inputs_first_and_every_edge_once():
    a, b, e = example()
    nodes, edges = trace(e)
    assert len(nodes) == 5 and nodes[-1] is e
    position = {id(v): i for i, v in enumerate(nodes)}
    for child, parent in edges:
        assert position[id(child)] < position[id(parent)]
    ab = e.children[0].children[0]
    assert {(id(c), id(p)) for c, p in edges} == {
        (id(a), id(ab)), (id(b), id(ab)), (id(ab), id(e.children[0])), (id(a), id(e.children[0])),
        (id(e.children[0]), id(e))}
    x = Value(1.0)
    assert len(trace(x * x)[1]) == 1  # the same child twice is one edge


def test_trace_handles_a_deep_graph():
    v = Value(1.0)
    for _ in range(50_000):
        v = v.relu()
    nodes, edges = trace(v)
    assert len(nodes) == 50_001 and len(edges) == 50_000


def test_to_dot_has_a_record_per_value_and_a_node_per_op_with_escaping():
    a, b, e = example()
    e.backward()
    a.label = 'a{<"|>}'
    dot = to_dot(e)
    assert dot.startswith("digraph G {") and "rankdir=LR" in dot
    assert dot.count("shape=record") == 5
    assert '[label="tanh"]' in dot and '[label="*"]' in dot and '[label="+"]' in dot
    assert r'a\{\<\"\|\>\} | data 2.0000 | grad ' in dot
    assert f"grad {b.grad:.4f}" in dot
    assert dot.count("->") == 5 + 3  # five data edges, one per op into its result


def test_to_svg_is_valid_xml_with_a_box_per_value_and_escaped_text():
    a, b, e = example()
    a.label = "a<&>"
    e.backward()
    svg = to_svg(e)
    root = ET.fromstring(svg)  # raises if the markup is broken
    assert root.tag == SVG + "svg"
    assert len(root.findall(f".//{SVG}rect")) == 5
    assert len(root.findall(f".//{SVG}ellipse")) == 3
    texts = [t.text for t in root.iter(SVG + "text")]
    assert "a<&> | data 2.0000 | grad -0.0027" in texts  # unescaped by the XML parser, so escaped in the file
    assert "tanh" in texts


def test_svg_columns_follow_the_longest_path_from_an_input():
    a, b, e = example()
    root = ET.fromstring(to_svg(e))
    x = {g.get("id"): float(g.find(SVG + "rect").get("x")) for g in root.iter(SVG + "g")}
    nodes, _ = trace(e)
    xs = [x[f"n{i}"] for i in range(len(nodes))]
    assert xs[0] == xs[1] < xs[2] < xs[3] < xs[4]  # a, b | a*b | a*b + a | tanh


def test_value_shows_as_svg_in_jupyter():
    _, _, e = example()
    assert e._repr_svg_() == to_svg(e)


def micrograd_readme_expression(a: Value | None = None, b: Value | None = None) -> Value:
    """The expression of micrograd's README, which reuses its intermediate nodes many times."""
    a, b = a or Value(-4.0), b or Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return g


def reused_intermediate() -> Value:
    a = Value(2.0)
    c = a * 3
    return c * (c + 1)


def assert_topological(nodes: list[Value], edges: list[tuple[Value, Value]]) -> None:
    position = {id(v): i for i, v in enumerate(nodes)}
    assert len(position) == len(nodes)  # each node once
    for child, parent in edges:
        assert position[id(child)] < position[id(parent)]
    for v in nodes:  # every child of a node is in the list
        assert all(id(c) in position for c in v.children)


@pytest.mark.parametrize("make", [reused_intermediate, micrograd_readme_expression])
def test_trace_is_topological_when_intermediate_nodes_are_reused(make):
    root = make()
    nodes, edges = trace(root)
    assert nodes[-1] is root
    assert_topological(nodes, edges)


@pytest.mark.parametrize("make", [reused_intermediate, micrograd_readme_expression])
def test_drawing_an_expression_that_reuses_nodes(make):
    root = make()
    root.backward()
    svg = ET.fromstring(to_svg(root))
    nodes, _ = trace(root)
    assert len(svg.findall(f"{SVG}g")) == len(nodes)
    assert f"data {root.data:.4f}" in to_dot(root)


def test_micrograd_readme_expression_values_and_gradients():
    a, b = Value(-4.0), Value(2.0)
    g = micrograd_readme_expression(a, b)
    g.backward()
    assert (g.data, a.grad, b.grad) == pytest.approx((24.7041, 138.8338, 645.5773), abs=1e-4)  # its README
