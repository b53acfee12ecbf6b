"""Chapter 1's tanh figure: the S-curve tanh(x) and its slope 1 - tanh(x)^2, both from the scalar engine.

    tanh_figure(0.34)["slope"]  # 0.8926..., what backward() gives through Value.tanh

The slope is not written down here: each point's comes from backward() through Value.tanh, as a neuron's does.
"""

from typing import Any

from gradschool.scalar.engine import Value

LOW, HIGH, POINTS = -4.0, 4.0, 81


def tanh_and_slope(x: float) -> tuple[float, float]:
    """tanh(x) and d tanh(x) / dx, by the engine's forward and backward pass."""
    v = Value(x)
    out = v.tanh()
    out.backward()
    return out.data, v.grad


def tanh_figure(x: float) -> dict[str, Any]:
    """The operating point x: tanh(x) and its slope; and the curve [x, tanh, slope] from LOW to HIGH."""
    t, slope = tanh_and_slope(x)
    grid = [LOW + (HIGH - LOW) * i / (POINTS - 1) for i in range(POINTS)]
    return {"x": x, "t": t, "slope": slope, "curve": [[g, *tanh_and_slope(g)] for g in grid]}
