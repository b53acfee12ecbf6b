"""Chapter 6's race: one training step of the same MLP on the scalar engine and on the Tensor engine.

    race = engine_race(points=100, hidden=16)
    race["ms_scalar"] / race["ms_tensor"]  # how many times faster the Tensor engine is, on this machine

Rung 6's set-up: rung 2's two moons and network (Value neurons), and its exact copy as Tensor layers; one
step is the forward pass, the max-margin loss, backward() and the SGD update. Both steps start from the same
weights, so they compute the same loss: only the grouping of the arithmetic differs. The scalar step is timed
once (it is slow enough to measure), the Tensor step as the best of several (it is too fast to time once).
"""

from typing import Any

import numpy as np

from gradschool.rungs.r6_tensors import (
    graph_sizes,
    moons_loss_scalar,
    moons_loss_tensor,
    moons_lr,
    moons_models,
    tensor_copy,
    train_scalar,
    train_tensor,
)
from gradschool.tensor import Tensor

TENSOR_REPEATS = 20


def engine_race(points: int = 100, hidden: int = 16) -> dict[str, Any]:
    """The milliseconds of one step on each engine, their ratio, each engine's loss at that step, and the
    number of nodes in each engine's graph of that loss."""
    scalar_model, xs, ys = moons_models(points, hidden)
    tensor_model = tensor_copy(scalar_model)  # before the scalar step: the same starting weights
    X, Y = Tensor(np.array(xs, dtype=np.float64)), Tensor(np.array(ys, dtype=np.float64))
    nodes_scalar, nodes_tensor = graph_sizes(points, hidden)
    scalar_losses, scalar_s = train_scalar(scalar_model, lambda m: moons_loss_scalar(m, xs, ys), 1, moons_lr)
    tensor_losses, tensor_s = train_tensor(tensor_model, lambda m: moons_loss_tensor(m, X, Y), 1, moons_lr)
    for _ in range(TENSOR_REPEATS - 1):  # the same step again on a fresh copy: the best time of them all
        copy = tensor_copy(moons_models(points, hidden)[0])
        tensor_s = min(tensor_s, train_tensor(copy, lambda m: moons_loss_tensor(m, X, Y), 1, moons_lr)[1])
    parameters = sum(p.data.size for p in tensor_model.parameters())
    return {
        "points": points,
        "parameters": parameters,
        "loss_scalar": scalar_losses[0],
        "loss_tensor": tensor_losses[0],
        "ms_scalar": 1000 * scalar_s,
        "ms_tensor": 1000 * tensor_s,
        "ratio": scalar_s / tensor_s,
        "nodes_scalar": nodes_scalar,
        "nodes_tensor": nodes_tensor,
    }
