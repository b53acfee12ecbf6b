"""softmax, cross_entropy and mse over Values, checked against torch float64 and central differences."""

import random

import pytest
import torch

from gradschool.scalar.engine import Value
from gradschool.scalar.losses import cross_entropy, mse, softmax

H = 1e-6


def central_difference(f, xs: list[float], i: int) -> float:
    """d f / d xs[i] by wiggling xs[i] both ways, in plain floats."""
    up, dn = list(xs), list(xs)
    up[i] += H
    dn[i] -= H
    return (f(up) - f(dn)) / (2 * H)


def random_logits(seed: int, n: int = 4, scale: float = 3.0) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(-scale, scale) for _ in range(n)]


@pytest.mark.parametrize("seed", range(5))
def test_softmax_matches_torch_in_value_and_gradient(seed):
    zs = random_logits(seed)
    weights = random_logits(seed + 100)  # a weighted sum makes every probability's gradient matter
    logits = [Value(z) for z in zs]
    probs = softmax(logits)
    out = sum((w * p for w, p in zip(weights, probs)), Value(0.0))
    out.backward()

    t = torch.tensor(zs, dtype=torch.float64, requires_grad=True)
    t_probs = torch.softmax(t, dim=0)
    (torch.tensor(weights, dtype=torch.float64) * t_probs).sum().backward()

    assert [p.data for p in probs] == pytest.approx(t_probs.tolist(), abs=1e-12)
    assert sum(p.data for p in probs) == pytest.approx(1.0, abs=1e-12)
    assert [v.grad for v in logits] == pytest.approx(t.grad.tolist(), abs=1e-12)

    def plain(z):
        return sum(w * p.data for w, p in zip(weights, softmax([Value(v) for v in z])))
    numeric = [central_difference(plain, zs, i) for i in range(len(zs))]
    assert [v.grad for v in logits] == pytest.approx(numeric, abs=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_cross_entropy_matches_torch_in_value_and_gradient(seed):
    zs = random_logits(seed, n=5)
    target = seed % 5
    logits = [Value(z) for z in zs]
    loss = cross_entropy(logits, target)
    loss.backward()

    t = torch.tensor([zs], dtype=torch.float64, requires_grad=True)
    t_loss = torch.nn.functional.cross_entropy(t, torch.tensor([target]))
    t_loss.backward()

    assert loss.data == pytest.approx(t_loss.item(), abs=1e-12)
    assert [v.grad for v in logits] == pytest.approx(t.grad[0].tolist(), abs=1e-12)
    numeric = [central_difference(lambda z: cross_entropy([Value(v) for v in z], target).data, zs, i)
               for i in range(len(zs))]
    assert [v.grad for v in logits] == pytest.approx(numeric, abs=1e-6)


def test_huge_logits_stay_finite_thanks_to_max_subtraction():
    zs = [1000.0, -1000.0, 999.0]
    logits = [Value(z) for z in zs]
    loss = cross_entropy(logits, 1)  # the right class has almost no probability: a huge but finite loss
    loss.backward()
    t = torch.tensor([zs], dtype=torch.float64, requires_grad=True)
    t_loss = torch.nn.functional.cross_entropy(t, torch.tensor([1]))
    t_loss.backward()
    assert loss.data == pytest.approx(t_loss.item(), rel=1e-12)
    assert [v.grad for v in logits] == pytest.approx(t.grad[0].tolist(), abs=1e-12)
    assert [p.data for p in softmax([Value(z) for z in zs])] == pytest.approx(torch.softmax(t[0], 0).tolist())


@pytest.mark.parametrize("seed", range(3))
def test_mse_matches_torch_in_value_and_gradient(seed):
    ps, ts = random_logits(seed, n=6), random_logits(seed + 50, n=6)
    preds = [Value(p) for p in ps]
    loss = mse(preds, ts)
    loss.backward()

    t = torch.tensor(ps, dtype=torch.float64, requires_grad=True)
    t_loss = torch.nn.functional.mse_loss(t, torch.tensor(ts, dtype=torch.float64))
    t_loss.backward()
    assert loss.data == pytest.approx(t_loss.item(), abs=1e-12)
    assert [v.grad for v in preds] == pytest.approx(t.grad.tolist(), abs=1e-12)
    def plain(p):
        return mse([Value(v) for v in p], ts).data
    numeric = [central_difference(plain, ps, i) for i in range(len(ps))]
    assert [v.grad for v in preds] == pytest.approx(numeric, abs=1e-6)


def test_mse_on_probabilities_barely_pushes_a_confidently_wrong_prediction():
    """The reason rung 3 gives: cross-entropy's gradient stays large where squared error's vanishes."""
    ce_logits = [Value(0.0), Value(0.0), Value(5.0)]
    cross_entropy(ce_logits, 0).backward()
    mse_logits = [Value(0.0), Value(0.0), Value(5.0)]
    mse(softmax(mse_logits), [1.0, 0.0, 0.0]).backward()
    assert abs(ce_logits[0].grad) > 50 * abs(mse_logits[0].grad)


@pytest.mark.parametrize("bad, message", [
    (lambda: softmax([]), "non-empty list of Values"),
    (lambda: cross_entropy([1.0, 2.0], 0), "non-empty list of Values"),
    (lambda: cross_entropy([Value(1.0), Value(2.0)], 2), "class index in 0..1, got 2"),
    (lambda: cross_entropy([Value(1.0), Value(2.0)], -1), "class index in 0..1, got -1"),
    (lambda: mse([Value(1.0)], [1.0, 2.0]), "as many targets as predictions"),
    (lambda: mse([], []), "as many targets as predictions"),
])
def test_bad_input_is_refused_clearly(bad, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        bad()
