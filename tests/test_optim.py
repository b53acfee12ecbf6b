"""gradschool.optim against torch.optim: parameter trajectories, clipping, schedules, exact resume."""

import math

import numpy as np
import pytest
import torch

import gradschool.nn as nn
from gradschool.optim import SGD, Adam, AdamW, clip_grad_norm_, constant_lr, cosine_lr, step_lr
from gradschool.tensor import Tensor, manual_seed

X = np.random.default_rng(0).standard_normal((16, 3))
Y = np.random.default_rng(1).standard_normal((16, 2))


def models():
    """A small float64 MLP and its PyTorch copy, with the same weights."""
    manual_seed(0)
    ours = nn.MLP(3, [8, 2], activation=nn.Tanh, dtype=np.float64)
    ref = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)).double()
    ref.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    return ours, ref


def loss_ours(model) -> Tensor:
    return ((model(Tensor(X)) - Tensor(Y)) ** 2).mean()


def loss_ref(model) -> torch.Tensor:
    return ((model(torch.tensor(X)) - torch.tensor(Y)) ** 2).mean()


def groups(params, wd):
    """Decay the matrices only (nanoGPT's rule)."""
    params = list(params)
    return [{"params": [p for p in params if p.ndim >= 2], "weight_decay": wd},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]


def run_both(make_ours, make_ref, steps=50, lr_at=None):
    ours, ref = models()
    opt, ref_opt = make_ours(ours.parameters()), make_ref(ref.parameters())
    for it in range(steps):
        if lr_at is not None:
            for g, rg in zip(opt.param_groups, ref_opt.param_groups):
                g["lr"] = rg["lr"] = lr_at(it)
        opt.zero_grad()
        loss_ours(ours).backward()
        opt.step()
        ref_opt.zero_grad()
        loss_ref(ref).backward()
        ref_opt.step()
        want = {k: v.detach().numpy() for k, v in ref.named_parameters()}
        for name, p in ours.named_parameters():
            assert np.abs(p.data - want[name]).max() <= 1e-6, f"step {it}: {name}"
    initial = models()[0].state_dict()
    assert any(np.abs(v - initial[k]).max() > 1e-2 for k, v in ours.state_dict().items())  # it did move


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_with_momentum_and_weight_decay_follows_torch(nesterov):
    run_both(lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=nesterov),
             lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=nesterov))


def test_plain_sgd_follows_torch():
    run_both(lambda ps: SGD(ps, lr=0.2), lambda ps: torch.optim.SGD(ps, lr=0.2))


def test_adam_follows_torch():
    run_both(lambda ps: Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-7, weight_decay=0.05),
             lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-7, weight_decay=0.05))


def test_adamw_with_no_decay_group_and_schedule_follows_torch():
    run_both(lambda ps: AdamW(groups(ps, 0.1), lr=0.01, betas=(0.9, 0.95)),
             lambda ps: torch.optim.AdamW(groups(ps, 0.1), lr=0.01, betas=(0.9, 0.95)),
             lr_at=lambda it: cosine_lr(it, 0.02, 0.002, warmup_iters=5, lr_decay_iters=40))


def test_adamw_decays_weights_apart_from_the_gradient():
    p = nn.Parameter(np.full(3, 2.0))
    p.grad = np.zeros(3)
    AdamW([p], lr=0.1, weight_decay=0.5).step()  # zero gradient: only the decay acts
    assert np.allclose(p.data, 2.0 * (1 - 0.1 * 0.5))


@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_equals_torch(max_norm):
    ours, ref = models()
    loss_ours(ours).backward()
    loss_ref(ref).backward()
    norm = clip_grad_norm_(ours.parameters(), max_norm)
    want = torch.nn.utils.clip_grad_norm_(ref.parameters(), max_norm)
    assert isinstance(norm, float) and norm == pytest.approx(want.item(), rel=1e-12)
    for (name, p), (_, t) in zip(ours.named_parameters(), ref.named_parameters()):
        assert np.abs(p.grad - t.grad.numpy()).max() <= 1e-12, name
    total = math.sqrt(sum((p.grad ** 2).sum() for p in ours.parameters()))
    assert total == pytest.approx(min(norm, max_norm), rel=1e-5)


def nanogpt_get_lr(it, learning_rate=6e-4, min_lr=6e-5, warmup_iters=2000, lr_decay_iters=600000):
    """nanoGPT's train.py get_lr, copied."""
    # 1) linear warmup for warmup_iters steps
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    # 2) if it > lr_decay_iters, return min learning rate
    if it > lr_decay_iters:
        return min_lr
    # 3) in between, use cosine decay down to min learning rate
    decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
    assert 0 <= decay_ratio <= 1
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))  # coeff ranges 0..1
    return min_lr + coeff * (learning_rate - min_lr)


@pytest.mark.parametrize("it", [0, 1, 99, 100, 101, 1000, 1999, 2000, 2001, 5000])
def test_cosine_schedule_is_nanogpts(it):
    got = cosine_lr(it, 1e-3, 1e-4, warmup_iters=100, lr_decay_iters=2000)
    assert got == pytest.approx(nanogpt_get_lr(it, 1e-3, 1e-4, 100, 2000), rel=1e-15)


def test_cosine_schedule_shape_and_other_schedules():
    lrs = [cosine_lr(it, 1.0, 0.1, warmup_iters=10, lr_decay_iters=110) for it in range(120)]
    assert lrs[:10] == sorted(lrs[:10]) and lrs[10] == 1.0
    assert lrs[60] == pytest.approx(0.55) and lrs[110] == pytest.approx(0.1) and lrs[119] == 0.1
    assert [step_lr(it, 1.0, step_size=3, gamma=0.5) for it in range(7)] == [1, 1, 1, 0.5, 0.5, 0.5, 0.25]
    assert constant_lr(123, 0.3) == 0.3
    with pytest.raises(ValueError, match=r"lr_decay_iters \(10\) must be larger than warmup_iters \(10\)"):
        cosine_lr(0, 1.0, 0.1, warmup_iters=10, lr_decay_iters=10)
    with pytest.raises(ValueError, match="step_size must be a positive"):
        step_lr(0, 1.0, step_size=0)


@pytest.mark.parametrize("make", [
    lambda ps: AdamW(groups(ps, 0.1), lr=0.01),
    lambda ps: SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
])
def test_state_dict_resume_is_exact(make):
    def train(model, opt, steps):
        for _ in range(steps):
            opt.param_groups[0]["lr"] *= 0.99
            opt.zero_grad()
            loss_ours(model).backward()
            opt.step()

    straight, _ = models()
    opt = make(straight.parameters())
    train(straight, opt, 20)

    first, _ = models()
    opt = make(first.parameters())
    train(first, opt, 10)
    model_sd, opt_sd = first.state_dict(), opt.state_dict()
    train(first, opt, 3)  # changes after the snapshot must not leak into it
    resumed, _ = models()
    opt = make(resumed.parameters())
    resumed.load_state_dict(model_sd)
    opt.load_state_dict(opt_sd)
    train(resumed, opt, 10)
    for k, v in straight.state_dict().items():
        assert np.array_equal(v, resumed.state_dict()[k]), k


def test_bad_settings_are_refused_clearly():
    p = nn.Parameter(np.zeros(2))
    with pytest.raises(ValueError, match="AdamW got an empty parameter list"):
        AdamW([])
    with pytest.raises(ValueError, match="appears twice"):
        SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="SGD: lr must be >= 0, got -1"):
        SGD([p], lr=-1)
    with pytest.raises(ValueError, match=r"Adam: betas must be in \[0, 1\), got \(0.9, 1.0\)"):
        Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0"):
        SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(TypeError, match=r"takes a list of parameters \(e.g. model.parameters\(\) or \[p\]\)"):
        SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="optimizes Parameters .Tensors., got a ndarray"):
        SGD([np.zeros(2)], lr=0.1)
    q = nn.Parameter(np.zeros(3))
    q.grad = np.ones(3)
    opt = Adam([q])
    opt.step()
    with pytest.raises(ValueError, match=r"groups of \[1\] parameters, this optimizer \[2\]"):
        Adam([p, q]).load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match=r"shape \(3,\), the parameter \(2,\)"):
        Adam([p]).load_state_dict(opt.state_dict())


def test_float32_parameters_stay_float32():
    p = nn.Parameter(np.ones(4, dtype=np.float32))
    p.grad = np.ones(4, dtype=np.float32)
    opt = AdamW([p], lr=np.float64(0.1))
    for _ in range(2):
        opt.step()
    assert p.data.dtype == np.float32 and opt.state[p]["exp_avg"].dtype == np.float32
