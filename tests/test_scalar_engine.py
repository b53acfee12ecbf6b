"""The scalar engine: each op's value and gradient (central differences, PyTorch), backward's semantics."""

import math
import subprocess
import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gradschool.scalar.engine import Value, sum_values, weighted_sum

H = 1e-6


def central_difference(f, x: float) -> float:
    return (f(x + H) - f(x - H)) / (2 * H)


def assert_close(got: float, want: float, tol: float = 1e-6) -> None:
    assert abs(got - want) <= tol * max(1.0, abs(want)), (got, want)


# name -> (op on a Value, the same op on a float, the interval the input is drawn from)
UNARY = {
    "neg": (lambda v: -v, lambda x: -x, (-5, 5)),
    "exp": (Value.exp, math.exp, (-5, 5)),
    "log": (Value.log, math.log, (0.05, 10)),
    "tanh": (Value.tanh, math.tanh, (-4, 4)),
    "relu": (Value.relu, lambda x: max(x, 0.0), (-5, 5)),
    "sigmoid": (Value.sigmoid, lambda x: 1 / (1 + math.exp(-x)), (-8, 8)),
    "square": (lambda v: v**2, lambda x: x**2, (-5, 5)),
    "cube": (lambda v: v**3, lambda x: x**3, (-5, 5)),
    "reciprocal": (lambda v: v**-1, lambda x: 1 / x, (0.2, 5)),
    "sqrt": (lambda v: v**0.5, math.sqrt, (0.05, 5)),
    "add number": (lambda v: v + 2, lambda x: x + 2, (-5, 5)),
    "sub number": (lambda v: v - 2, lambda x: x - 2, (-5, 5)),
    "mul number": (lambda v: v * 2.5, lambda x: x * 2.5, (-5, 5)),
    "div number": (lambda v: v / 4, lambda x: x / 4, (-5, 5)),
    "radd": (lambda v: 2 + v, lambda x: 2 + x, (-5, 5)),
    "rsub": (lambda v: 1 - v, lambda x: 1 - x, (-5, 5)),
    "rmul": (lambda v: 2 * v, lambda x: 2 * x, (-5, 5)),
    "rtruediv": (lambda v: 3 / v, lambda x: 3 / x, (0.2, 5)),
    "rpow": (lambda v: 2**v, lambda x: 2**x, (-5, 5)),
}

BINARY = {
    "+": (lambda a, b: a + b, (-5, 5), (-5, 5)),
    "-": (lambda a, b: a - b, (-5, 5), (-5, 5)),
    "*": (lambda a, b: a * b, (-5, 5), (-5, 5)),
    "/": (lambda a, b: a / b, (-5, 5), (0.2, 5)),
    "**": (lambda a, b: a**b, (0.2, 3), (-3, 3)),
}


@pytest.mark.parametrize("name", UNARY)
@settings(max_examples=30)
@given(u=st.floats(0, 1))
def test_unary_op_value_and_gradient_match_central_differences(name, u):
    op, plain, (lo, hi) = UNARY[name]
    x = lo + (hi - lo) * u
    if name == "relu" and abs(x) < 1e-3:
        x = 1e-3  # the kink: no derivative there
    v = Value(x)
    out = op(v)
    out.backward()
    assert_close(out.data, plain(x), 1e-12)
    assert_close(v.grad, central_difference(plain, x))


@pytest.mark.parametrize("name", BINARY)
@settings(max_examples=30)
@given(u=st.floats(0, 1), w=st.floats(0, 1))
def test_binary_op_value_and_gradients_match_central_differences(name, u, w):
    op, (alo, ahi), (blo, bhi) = BINARY[name]
    a, b = alo + (ahi - alo) * u, blo + (bhi - blo) * w
    va, vb = Value(a), Value(b)
    out = op(va, vb)
    out.backward()
    assert_close(out.data, op(a, b), 1e-12)
    assert_close(va.grad, central_difference(lambda x: op(x, b), a))
    assert_close(vb.grad, central_difference(lambda x: op(a, x), b))


def micrograd_readme(a, b):
    """The expression from micrograd's README, written once for Values and for torch tensors."""
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    return g


def everything(a, b, c):
    """A composite expression that uses every op and every reflected form."""
    s = (a * b).tanh() + (b / c).exp() - (c**2 + 1).log() + a.sigmoid() * (b - 1).relu()
    s = s + 2 * a - 1 / (c + 3) + 2**b + (a**c) * 0.5 - (-b) + 3 - c / 2
    return s**2 / (1 + s**2) + a ** (b * 0.3)


def torch_leaves(*xs):
    return [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]


def test_micrograd_readme_expression_matches_torch_and_the_readme():
    a, b = Value(-4.0), Value(2.0)
    g = micrograd_readme(a, b)
    g.backward()
    ta, tb = torch_leaves(-4.0, 2.0)
    tg = micrograd_readme(ta, tb)
    tg.backward()
    assert g.data == pytest.approx(tg.item(), rel=1e-12)
    assert a.grad == pytest.approx(ta.grad.item(), rel=1e-12)
    assert b.grad == pytest.approx(tb.grad.item(), rel=1e-12)
    assert (round(g.data, 4), round(a.grad, 4), round(b.grad, 4)) == (24.7041, 138.8338, 645.5773)


@settings(max_examples=40)
@given(st.floats(0.3, 2.0), st.floats(-2.0, 2.0), st.floats(0.5, 3.0))
def test_every_op_composed_matches_torch_float64(x, y, z):
    a, b, c = Value(x), Value(y), Value(z)
    out = everything(a, b, c)
    out.backward()
    ta, tb, tc = torch_leaves(x, y, z)
    tout = everything(ta, tb, tc)
    tout.backward()
    assert out.data == pytest.approx(tout.item(), rel=1e-10, abs=1e-12)
    for v, t in [(a, ta), (b, tb), (c, tc)]:
        assert v.grad == pytest.approx(t.grad.item(), rel=1e-9, abs=1e-12)


def test_value_pow_value_matches_torch_including_a_negative_base_with_an_integer_exponent():
    for x, y in [(2.0, 3.0), (0.5, -1.5), (-2.0, 3.0)]:
        a, b = Value(x), Value(y)
        (a**b).backward()
        ta, tb = torch_leaves(x, y)
        (ta**tb).backward()
        assert a.grad == pytest.approx(ta.grad.item(), rel=1e-12)
        if x > 0:
            assert b.grad == pytest.approx(tb.grad.item(), rel=1e-12)
        else:  # no real logarithm of a negative base: NaN, as in torch
            assert math.isnan(b.grad) and math.isnan(tb.grad.item())


# ---- backward: deep graphs, reused nodes, accumulation ----

def test_a_chain_of_a_million_nodes_backpropagates_without_recursion_error():
    x = Value(0.5)
    v = x
    for _ in range(1_000_000):
        v = -v
    v.backward()
    assert v.data == 0.5 and x.grad == 1.0  # an even number of negations
    del v  # freeing the chain must not overflow the C stack either


def test_reused_nodes_get_every_contribution():
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0
    x = Value(-1.5)
    (x * x).backward()
    assert x.grad == -3.0
    d = Value(2.0)
    b, c = d * 2, d * 3  # a diamond: d feeds both b and c, which meet again in e
    e = b * c  # e = 6 d^2
    e.backward()
    assert d.grad == 24.0 and b.grad == 6.0 and c.grad == 4.0


def test_second_backward_doubles_leaf_grads_but_not_intermediate_ones():
    a, b = Value(1.5), Value(-0.5)
    mid = (a * b).tanh()
    out = mid * a + b
    out.backward()
    first = (a.grad, b.grad, mid.grad)
    out.backward()
    assert (a.grad, b.grad) == (2 * first[0], 2 * first[1])  # exactly doubled, as in PyTorch
    assert mid.grad == first[2]  # recomputed, not accumulated


def test_backward_on_a_leaf_accumulates_one():
    x = Value(4.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0


def test_zero_grad_clears_every_node_behind_a_value():
    a, b = Value(2.0), Value(3.0)
    out = (a * b).exp()
    out.backward()
    assert a.grad != 0 and b.grad != 0
    out.zero_grad()
    assert (a.grad, b.grad, out.grad, out.children[0].grad) == (0.0, 0.0, 0.0, 0.0)
    out.backward()
    assert a.grad == pytest.approx(3 * math.exp(6.0))


def test_backward_step_for_one_node_is_the_chain_rule():
    a, b = Value(2.0), Value(-3.0)
    out = a * b
    out.grad = 10.0
    out._backward()
    assert (a.grad, b.grad) == (-30.0, 20.0)


# ---- the fused n-ary nodes ----

def test_weighted_sum_equals_the_chain_of_ops_in_value_and_gradients():
    ws = [Value(w) for w in (0.5, -1.2, 2.0)]
    xs = [Value(1.5), 3.0, Value(-0.7)]  # a mix of Values and plain numbers
    b = Value(0.25)
    fused = weighted_sum(ws, xs, b).tanh()
    fused.backward()
    fused_grads = [v.grad for v in ws + [xs[0], xs[2], b]]
    for v in ws + [xs[0], xs[2], b]:
        v.grad = 0.0
    chain = (sum((w * x for w, x in zip(ws, xs)), b)).tanh()
    chain.backward()
    assert fused.data == pytest.approx(chain.data, rel=1e-15)
    assert fused_grads == pytest.approx([v.grad for v in ws + [xs[0], xs[2], b]], rel=1e-14)
    assert len(fused.children[0].children) == 6  # one node: 3 weights, the 2 Value inputs and the bias


def test_weighted_sum_with_a_value_used_as_weight_and_input():
    w = Value(3.0)
    out = weighted_sum([w], [w])  # w * w
    out.backward()
    assert out.data == 9.0 and w.grad == 6.0


def test_weighted_sum_refuses_mismatched_lengths():
    with pytest.raises(ValueError, match="one input per weight, got 2 weights and 3 inputs"):
        weighted_sum([Value(1.0), Value(2.0)], [1.0, 2.0, 3.0])


def test_sum_values_is_one_node_with_gradient_one_to_each_term():
    vs = [Value(float(i)) for i in range(5)]
    total = sum_values(vs + [10])
    total.backward()
    assert total.data == 20.0 and len(total.children) == 6
    assert [v.grad for v in vs] == [1.0] * 5


# ---- bad input and IEEE values ----

def test_value_of_a_string_is_a_type_error_naming_the_type():
    with pytest.raises(TypeError, match=r"got str '3'"):
        Value("3")
    with pytest.raises(TypeError, match="got list"):
        Value(1.0) + [1.0]


@pytest.mark.parametrize("make, error, message", [
    (lambda: Value(0.0).log(), ValueError, r"positive numbers only, got log\(0\.0\)"),
    (lambda: Value(-2.5).log(), ValueError, r"log\(-2\.5\)"),
    (lambda: Value(0.0) ** -1, ZeroDivisionError, r"0\.0 \*\* -1"),
    (lambda: Value(0.0) ** Value(-2.0), ZeroDivisionError, r"0\.0 \*\* -2\.0"),
    (lambda: Value(3.0) / 0, ZeroDivisionError, r"division by zero: 3\.0 / 0\.0"),
    (lambda: 3 / Value(0.0), ZeroDivisionError, r"3\.0 / 0\.0"),
    (lambda: Value(-8.0) ** 0.5, ValueError, r"non-integer power.*-8\.0 \*\* 0\.5"),
    (lambda: Value(-8.0) ** Value(1 / 3), ValueError, r"-8\.0 \*\* 0\.333"),
])
def test_inputs_outside_an_ops_domain_raise_naming_the_operands(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_overflow_and_nan_keep_their_ieee_values():
    big = Value(1000.0)
    e = big.exp()
    e.backward()
    assert e.data == math.inf and big.grad == math.inf
    assert (Value(10.0) ** 400).data == math.inf
    assert (Value(-10.0) ** 401).data == -math.inf
    assert Value(-1000.0).sigmoid().data == 0.0 and Value(1000.0).sigmoid().data == 1.0
    nan = Value(math.nan)
    for out in [nan.tanh(), nan.relu(), nan.exp(), nan * 2, Value(math.inf) - Value(math.inf)]:
        assert math.isnan(out.data)
    z = Value(0.0)
    (z**0.5).backward()  # the slope of sqrt at 0 is infinite, as torch says
    assert z.grad == math.inf


def test_repr_shows_data_grad_label_and_op():
    a = Value(2.0, label="a")
    assert repr(a) == "Value(data=2, grad=0, label='a')"
    assert repr(a * 3) == "Value(data=6, grad=0, op='*')"
    assert Value(3).data == 3.0 and isinstance(Value(3).data, float)


def test_the_scalar_package_imports_no_numpy():
    code = ("import sys; import gradschool.scalar.engine, gradschool.scalar.nn, gradschool.scalar.graph, "
            "gradschool.scalar.gradcheck, gradschool.data.toy; "
            "assert 'numpy' not in sys.modules, 'numpy was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("a, b", [(1.0, 1e-170), (1e200, 1e200), (-3.0, 7e-160), (1e-170, 1e-170),
                                  (2.0, -5.0)])
def test_division_by_tiny_or_huge_numbers_matches_torch_and_central_differences(a, b):
    x, y = Value(a), Value(b)
    out = x / y
    out.backward()
    ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b))
    (ta / tb).backward()
    assert out.data == (ta / tb).item()
    assert (x.grad, y.grad) == pytest.approx((ta.grad.item(), tb.grad.item()), rel=1e-12)
    for i, (grad, at) in enumerate(((x.grad, a), (y.grad, b))):
        if math.isfinite(grad):  # float64 central differences with a step relative to the input
            h = 1e-6 * abs(at)
            up, down = [a, b], [a, b]
            up[i], down[i] = at + h, at - h
            assert grad == pytest.approx((up[0] / up[1] - down[0] / down[1]) / (2 * h), rel=1e-6)
