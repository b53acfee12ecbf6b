"""Rung 6: the Tensor engine trains the rung-2 networks to the same losses as the scalar engine."""

import random

import numpy as np
import pytest

from gradschool.rungs import r2_mlp, r6_tensors
from gradschool.scalar.nn import MLP as ScalarMLP
from gradschool.tensor import Tensor


def test_tensor_copy_computes_what_the_scalar_mlp_computes():
    scalar = ScalarMLP(2, [4, 4, 3], nonlin="relu", out_nonlin="linear", rng=random.Random(0))
    model = r6_tensors.tensor_copy(scalar)
    xs = [[0.3, -1.2], [1.5, 0.7], [-0.4, 0.1]]
    want = [[v.data for v in scalar(x)] for x in xs]
    assert np.abs(model(Tensor(np.array(xs))).data - np.array(want)).max() <= 1e-12
    with pytest.raises(ValueError, match="relu hidden layers and a linear output layer"):
        r6_tensors.tensor_copy(ScalarMLP(2, [4, 1], nonlin="tanh"))


def test_moons_trajectories_agree():
    r = r6_tensors.run_moons(steps=4, n=20)
    assert len(r["scalar"]) == len(r["tensor"]) == 4
    assert r["scalar"][0] != r["scalar"][-1]  # it trained
    assert max(abs(a - b) for a, b in zip(r["scalar"], r["tensor"])) <= 1e-6


def test_spirals_trajectories_agree():
    r = r6_tensors.run_spirals(steps=4, n=15)
    assert r["scalar"][0] != r["scalar"][-1]
    assert max(abs(a - b) for a, b in zip(r["scalar"], r["tensor"])) <= 1e-6


def test_moons_start_from_rung_2s_data_and_weights():
    _, _, _, rung2 = r2_mlp.train_moons(steps=2)
    ours = r6_tensors.run_moons(steps=2)["tensor"]
    assert abs(ours[0] - rung2[0]) <= 1e-9 and abs(ours[1] - rung2[1]) <= 1e-9  # lr 1.0 at step 0 in both
