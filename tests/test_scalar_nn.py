"""Neurons, layers and MLPs on the scalar engine, and the two-moons data."""

import math
import random

import pytest
import torch

from gradschool.data.toy import make_moons
from gradschool.scalar.nn import MLP, Layer, Neuron

XS = [[2.0, 3.0, -1.0, 1.0], [3.0, -1.0, 0.5, 1.0], [0.5, 1.0, 1.0, 1.0], [1.0, 1.0, -1.0, 1.0]]
YS = [1.0, -1.0, -1.0, 1.0]


def test_the_seeds_mlp_has_19_parameters_drawn_uniformly_with_zero_biases():
    model = MLP(4, [3, 1], rng=random.Random(0))
    params = model.parameters()
    assert len(params) == 19
    assert all(-1 <= w.data <= 1 for layer in model.layers for n in layer.neurons for w in n.w)
    assert [n.b.data for layer in model.layers for n in layer.neurons] == [0.0] * 4
    assert len({p.data for p in params if p.data != 0.0}) == 15  # all different


def test_a_seeded_rng_or_random_seed_reproduces_the_weights():
    same = [[p.data for p in MLP(2, [4, 1], rng=random.Random(7)).parameters()] for _ in range(2)]
    assert same[0] == same[1]
    random.seed(3)
    first = [p.data for p in MLP(2, [4, 1]).parameters()]
    random.seed(3)
    assert [p.data for p in MLP(2, [4, 1]).parameters()] == first
    random.seed(3)
    assert [random.uniform(-1, 1) for _ in range(2)] == first[:2]  # the seed's own draws, in order


def plain_forward(model, x, act):
    for layer in model.layers:
        x = [act[n.nonlin](sum(w.data * xi for w, xi in zip(n.w, x)) + n.b.data) for n in layer.neurons]
    return x


ACT = {"tanh": math.tanh, "relu": lambda v: max(v, 0.0), "linear": lambda v: v}


@pytest.mark.parametrize("nonlin, out_nonlin", [("tanh", None), ("relu", "linear"), ("linear", "tanh")])
def test_mlp_forward_is_the_weighted_sums_and_nonlinearities(nonlin, out_nonlin):
    model = MLP(3, [4, 2], nonlin=nonlin, out_nonlin=out_nonlin, rng=random.Random(1))
    assert [n.nonlin for n in model.layers[-1].neurons] == [out_nonlin or nonlin] * 2
    x = [0.5, -1.5, 2.0]
    assert [v.data for v in model(x)] == pytest.approx(plain_forward(model, x, ACT), rel=1e-14)


def test_micrograds_moons_net_is_relu_hidden_and_linear_output():
    model = MLP(2, [16, 16, 1], nonlin="relu", out_nonlin="linear", rng=random.Random(0))
    assert [layer.neurons[0].nonlin for layer in model.layers] == ["relu", "relu", "linear"]
    assert len(model.parameters()) == 337
    assert repr(model.layers[-1]) == "Layer of [LinearNeuron(16)]"


def test_mlp_gradients_match_torch_float64():
    model = MLP(4, [3, 1], rng=random.Random(2))
    loss = sum((model(x) - y) ** 2 for x, y in zip(XS, YS))
    model.zero_grad()
    loss.backward()
    params = [[torch.tensor([n.w[i].data for i in range(len(n.w))], dtype=torch.float64, requires_grad=True)
               for n in layer.neurons] for layer in model.layers]
    biases = [[torch.tensor(n.b.data, dtype=torch.float64, requires_grad=True) for n in layer.neurons]
              for layer in model.layers]
    tloss = 0
    for x, y in zip(XS, YS):
        h = torch.tensor(x, dtype=torch.float64)
        for ws, bs in zip(params, biases):
            h = torch.stack([torch.tanh(w @ h + b) for w, b in zip(ws, bs)])
        tloss = tloss + (h[0] - y) ** 2
    tloss.backward()
    assert loss.data == pytest.approx(tloss.item(), rel=1e-12)
    for layer, ws, bs in zip(model.layers, params, biases):
        for n, w, b in zip(layer.neurons, ws, bs):
            assert [p.grad for p in n.w] == pytest.approx(w.grad.tolist(), rel=1e-10, abs=1e-14)
            assert n.b.grad == pytest.approx(b.grad.item(), rel=1e-10, abs=1e-14)


def test_module_zero_grad_clears_the_accumulated_gradients():
    model = MLP(2, [3, 1], rng=random.Random(4))
    out = model([1.0, -2.0])
    out.backward()
    out.backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_layer_returns_a_list_and_mlp_a_value_for_one_output():
    layer = Layer(2, 3, rng=random.Random(0))
    assert len(layer([1.0, 2.0])) == 3 and len(layer.parameters()) == 9
    assert MLP(2, [1], rng=random.Random(0))([1.0, 2.0]).data == pytest.approx(
        Neuron(2, rng=random.Random(0))([1.0, 2.0]).data)


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match="nonlin must be one of tanh, relu, linear; got 'sigmoid'"):
        Neuron(2, nonlin="sigmoid")
    with pytest.raises(ValueError, match="at least one layer size"):
        MLP(2, [])
    with pytest.raises(ValueError, match="got 2 weights and 3 inputs"):
        MLP(2, [1], rng=random.Random(0))([1.0, 2.0, 3.0])


# ---- two moons ----

def test_make_moons_is_deterministic_balanced_and_labelled_minus_one_and_one():
    xs, ys = make_moons(n=100, noise=0.1, rng=random.Random(1))
    again = make_moons(n=100, noise=0.1, rng=random.Random(1))
    assert (xs, ys) == again
    assert len(xs) == 100 and all(len(x) == 2 for x in xs)
    assert sorted(set(ys)) == [-1, 1] and ys.count(1) == 50
    assert ys[:20] != sorted(ys[:20])  # shuffled


def test_make_moons_without_noise_lies_on_the_two_half_circles():
    xs, ys = make_moons(n=51, noise=0.0, rng=random.Random(0))
    assert ys.count(-1) == 25 and ys.count(1) == 26
    for (x0, x1), y in zip(xs, ys):
        if y == -1:  # upper moon: unit circle around (0, 0), upper half
            assert math.hypot(x0, x1) == pytest.approx(1.0) and x1 >= -1e-12
        else:  # lower moon: unit circle around (1, 0.5), lower half
            assert math.hypot(x0 - 1, x1 - 0.5) == pytest.approx(1.0) and x1 <= 0.5 + 1e-12


@pytest.mark.parametrize("kwargs, message", [
    ({"n": 1}, "n must be an integer >= 2"),
    ({"n": 10, "noise": -0.5}, "noise must be >= 0"),
])
def test_make_moons_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_moons(**kwargs)
