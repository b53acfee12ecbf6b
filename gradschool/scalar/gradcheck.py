"""Check backward() against the slow, obvious way to measure a slope: wiggle an input, watch the output."""

from collections.abc import Callable

from gradschool.scalar.engine import Value


def numerical_gradient(f: Callable[[list[float]], float], params: list[float], i: int,
                       h: float = 1e-6) -> float:
    """d f / d params[i] by central differences, (f(p + h) - f(p - h)) / 2h, as in the seed."""
    up = list(params)
    up[i] += h
    dn = list(params)
    dn[i] -= h
    return (f(up) - f(dn)) / (2 * h)  # rise over run


def check_gradients(f: Callable[[list[Value]], Value], inputs: list[float], h: float = 1e-6,
                    tol: float = 1e-6) -> float:
    """Compare backward()'s gradients of f at `inputs` with central differences; return the largest error.

    The error of each input is |backward - numerical| / max(1, |backward|, |numerical|), so it is absolute for
    small gradients and relative for large ones. Raises AssertionError with a table if one exceeds tol.
    """
    values = [Value(float(x), label=f"x{i}") for i, x in enumerate(inputs)]
    out = f(values)
    if not isinstance(out, Value):
        raise TypeError(f"f must return a Value, got {type(out).__name__}")
    out.backward()

    def f_data(xs: list[float]) -> float:
        return f([Value(x) for x in xs]).data

    rows, worst = [], 0.0
    for i, v in enumerate(values):
        numerical = numerical_gradient(f_data, [float(x) for x in inputs], i, h)
        error = abs(v.grad - numerical) / max(1.0, abs(v.grad), abs(numerical))
        if not error <= tol:  # also catches NaN
            rows.append(f"  x{i:<4} {inputs[i]:>12.6g} {v.grad:>16.10g} {numerical:>16.10g} {error:>10.3g}")
        worst = max(worst, error)
    if rows:
        header = f"  {'input':<5} {'value':>12} {'backward':>16} {'numerical':>16} {'error':>10}"
        raise AssertionError(f"{len(rows)} of {len(values)} gradients disagree (tol {tol:g}):\n"
                             + "\n".join([header, *rows]))
    return worst
