"""Chapter 6's broadcasting explorer: two shapes and an operation in, the Tensor engine's answer out.

    broadcast_figure((3, 1), (4,), "+")["shape"]    # [3, 4]
    broadcast_figure((3, 2), (4,), "+")["error"]    # the engine's own message
    broadcast_figure((3, 1), (4,), "*")["grad_b"]   # d sum(a * b) / d b, summed back to b's shape (4,)

The inputs hold 1, 2, 3, ... in order (b divided by 10, to tell them apart); the output is reduced by sum(),
so backward() starts from a gradient of ones and each input's gradient shows how many times, and with which
weights, broadcasting used each of its numbers.
"""

from typing import Any

import numpy as np

from gradschool.tensor import Tensor

OPERATIONS = {"+": lambda a, b: a + b, "*": lambda a, b: a * b, "@": lambda a, b: a @ b}


def parse_shape(text: str, name: str) -> tuple[int, ...]:
    """'3, 1' -> (3, 1); a ValueError saying how to write a shape otherwise."""
    parts = [p.strip() for p in text.strip().strip("()[]").split(",")]
    parts = parts[:-1] if len(parts) > 1 and parts[-1] == "" else parts  # "3," is (3,)
    if not all(p.isdigit() for p in parts) or not parts:
        raise ValueError(f"the shape of {name} is sizes separated by commas, like 3,1 or 4 (got {text!r})")
    return tuple(int(p) for p in parts)


def example_inputs(shape_a: tuple[int, ...], shape_b: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """a = 1, 2, 3, ... and b = 0.1, 0.2, 0.3, ... in the given shapes, both recording gradients."""
    a = np.arange(1, int(np.prod(shape_a)) + 1, dtype=np.float64).reshape(shape_a)
    b = np.arange(1, int(np.prod(shape_b)) + 1, dtype=np.float64).reshape(shape_b) / 10
    return Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)


def summed_axes(out_shape: tuple[int, ...], shape: tuple[int, ...]) -> list[int]:
    """The axes of the output an input was stretched along (new leading axes, and its axes of size 1), which
    its gradient is summed over; for an elementwise operation."""
    lead = len(out_shape) - len(shape)
    return list(range(lead)) + [lead + i for i, n in enumerate(shape) if n == 1 and out_shape[lead + i] != 1]


def broadcast_figure(shape_a: tuple[int, ...], shape_b: tuple[int, ...], op: str = "+") -> dict[str, Any]:
    """out = a OP b on the engine: its shape and values, and after out.sum().backward() each input's
    gradient; or, if the engine refuses the shapes, its error message (and shape None)."""
    if op not in OPERATIONS:
        raise ValueError(f"op must be one of {', '.join(OPERATIONS)}")
    a, b = example_inputs(shape_a, shape_b)
    answer: dict[str, Any] = {"a": a.data.tolist(), "b": b.data.tolist(), "shape": None, "error": None}
    try:
        out = OPERATIONS[op](a, b)
    except ValueError as e:
        return answer | {"error": str(e)}
    out.sum().backward()
    elementwise = op != "@"
    return answer | {
        "shape": list(out.shape),
        "out": out.data.tolist(),
        "grad_a": a.grad.tolist(),
        "grad_b": b.grad.tolist(),
        "summed_a": summed_axes(out.shape, a.shape) if elementwise else None,
        "summed_b": summed_axes(out.shape, b.shape) if elementwise else None,
    }
