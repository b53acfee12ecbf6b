"""gradcheck: the seed's central difference and check_gradients, which must catch a wrong backward rule."""

import math

import pytest

from gradschool.scalar.engine import Value
from gradschool.scalar.gradcheck import check_gradients, numerical_gradient


def test_numerical_gradient_is_the_slope():
    f = lambda p: p[0] ** 3 + math.sin(p[1])  # noqa: E731
    params = [1.5, 0.3]
    assert numerical_gradient(f, params, 0) == pytest.approx(3 * 1.5**2, rel=1e-8)
    assert numerical_gradient(f, params, 1) == pytest.approx(math.cos(0.3), rel=1e-8)
    assert params == [1.5, 0.3]  # the caller's list is not changed


def test_check_gradients_passes_a_correct_engine_and_returns_a_small_error():
    def f(v):
        return (v[0] * v[1]).tanh() + v[2].exp() / (1 + v[0] ** 2) - v[1].sigmoid() * v[2].log()

    error = check_gradients(f, [0.3, -1.2, 0.8])
    assert 0 <= error < 1e-7


def test_check_gradients_catches_a_wrong_local_derivative_with_a_table():
    def wrong_mul(v):
        a, b = v
        return Value(a.data * b.data, (a, b), "*", (b.data, 5.0))  # d(a*b)/db should be a (= 2), not 5

    with pytest.raises(AssertionError) as info:
        check_gradients(wrong_mul, [2.0, 3.0])
    message = str(info.value)
    assert "1 of 2 gradients disagree" in message
    assert "backward" in message and "numerical" in message
    row = [line for line in message.splitlines() if line.strip().startswith("x1")][0].split()
    assert float(row[2]) == 5.0 and float(row[3]) == pytest.approx(2.0)


def test_check_gradients_flags_nan():
    with pytest.raises(AssertionError, match="disagree"):
        check_gradients(lambda v: v[0] * math.nan, [1.0])


def test_check_gradients_wants_a_value_back():
    with pytest.raises(TypeError, match="f must return a Value, got float"):
        check_gradients(lambda v: 1.0, [1.0])


def test_check_gradients_handles_an_input_used_twice():
    assert check_gradients(lambda v: v[0] * v[0] + v[0], [1.7]) < 1e-7
