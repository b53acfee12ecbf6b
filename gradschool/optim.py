"""Optimizers, gradient clipping and learning-rate schedules, computing exactly what PyTorch's do.

    optimizer = AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    for it in range(max_iters):
        for group in optimizer.param_groups:
            group["lr"] = cosine_lr(it, 1e-3, 1e-4, warmup_iters=100, lr_decay_iters=max_iters)
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

An optimizer takes a list of parameters, or of parameter groups: dicts with "params" and any setting that
differs for those parameters, e.g. [{"params": matrices, "weight_decay": 0.1}, {"params": biases,
"weight_decay": 0.0}]. Each group's settings live in `optimizer.param_groups[i]`, where they can be changed
between steps. Updates happen in place on `p.data`, with few temporary arrays.

Schedules are plain functions of the step number that return a learning rate: `constant_lr`, `step_lr`,
`cosine_lr` (linear warmup, then cosine decay to a floor, as nanoGPT's get_lr).
"""

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from gradschool.tensor import Tensor
from gradschool.tensor.kernels import for_each_in_parallel


class Optimizer:
    """Holds the parameter groups and the per-parameter state; subclasses write `step`."""

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], defaults: dict[str, Any]):
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__} takes a list of parameters (e.g. model.parameters() or "
                            "[p]), not a single Tensor")
        items = list(params)
        if not items:
            raise ValueError(f"{type(self).__name__} got an empty parameter list: pass model.parameters()")
        groups = items if isinstance(items[0], dict) else [{"params": items}]
        self.param_groups: list[dict[str, Any]] = []
        seen = set()
        for group in groups:
            group = {**defaults, **group, "params": list(group["params"])}
            for p in group["params"]:
                if not isinstance(p, Tensor):
                    raise TypeError(f"{type(self).__name__} optimizes Parameters (Tensors), got a "
                                    f"{type(p).__name__}")
                if id(p) in seen:
                    raise ValueError(f"a parameter of shape {p.shape} appears twice in the parameter groups "
                                     f"of {type(self).__name__}; list each parameter once")
                seen.add(id(p))
            _check_settings(type(self).__name__, group)
            self.param_groups.append(group)
        self.state: dict[Tensor, dict[str, Any]] = {}  # e.g. Adam's moving averages, per parameter

    def zero_grad(self) -> None:
        """Forget the gradients (set to None, as PyTorch does by default)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """The settings and state, with parameters replaced by their position in the groups (as PyTorch)."""
        index = {}  # id(parameter) -> 0, 1, 2, ... in the order of the groups
        groups = [{**group, "params": [index.setdefault(id(p), len(index)) for p in group["params"]]}
                  for group in self.param_groups]
        state = {index[id(p)]: {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in s.items()}
                 for p, s in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Continue from the state_dict() of an optimizer over parameters of the same shapes and order."""
        groups = state_dict["param_groups"]
        sizes = [len(g["params"]) for g in self.param_groups]
        if [len(g["params"]) for g in groups] != sizes:
            raise ValueError(f"optimizer state_dict has groups of {[len(g['params']) for g in groups]} "
                             f"parameters, this optimizer {sizes}: it belongs to another model or grouping")
        params = [p for group in self.param_groups for p in group["params"]]
        state = {}
        for i, s in state_dict["state"].items():
            p = params[int(i)]
            for k, v in s.items():
                if isinstance(v, np.ndarray) and v.shape != p.shape:
                    raise ValueError(f"optimizer state '{k}' of parameter {i} has shape {v.shape}, the "
                                     f"parameter {p.shape}: it belongs to another model")
            state[p] = {k: v.astype(p.dtype) if isinstance(v, np.ndarray) else v for k, v in s.items()}
        for group, saved in zip(self.param_groups, groups):
            group.update({k: tuple(v) if k == "betas" else v for k, v in saved.items() if k != "params"})
        self.state = state


def _check_settings(name: str, group: dict[str, Any]) -> None:
    """Refuse settings that cannot work, naming them."""
    for key in ("lr", "eps", "weight_decay", "momentum"):
        if key in group and not group[key] >= 0:
            raise ValueError(f"{name}: {key} must be >= 0, got {group[key]}")
    if "betas" in group and not all(0 <= b < 1 for b in group["betas"]):
        raise ValueError(f"{name}: betas must be in [0, 1), got {group['betas']}")
    if group.get("nesterov") and group["momentum"] == 0:
        raise ValueError(f"{name}: nesterov=True needs momentum > 0")


class SGD(Optimizer):
    """Stochastic gradient descent: p -= lr * g, optionally with momentum, (Nesterov) and L2 weight decay.

    With momentum the step follows a running sum of gradients, buf = momentum * buf + g (PyTorch's form).
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov))

    def step(self) -> None:
        for group in self.param_groups:
            lr, momentum, wd = float(group["lr"]), float(group["momentum"]), float(group["weight_decay"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + wd * p.data if wd else p.grad  # L2 penalty wd/2 |p|^2 adds wd * p to g
                if momentum:
                    state = self.state.setdefault(p, {})
                    if "momentum_buffer" not in state:
                        buf = state["momentum_buffer"] = np.array(g)  # a copy: the first step is plain SGD
                    else:
                        buf = state["momentum_buffer"]
                        buf *= momentum
                        buf += g
                    g = g + momentum * buf if group["nesterov"] else buf
                p.data -= lr * g


class Adam(Optimizer):
    """Adam: each parameter moves by lr * m / (sqrt(v) + eps), with m and v running averages of g and g^2.

    Both averages start at 0 and are divided by (1 - beta^t) so the first steps are not too small. Adam's
    weight_decay is the L2 penalty added to the gradient (for the decoupled kind, use AdamW).
    """

    decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay))

    def step(self) -> None:
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            for p in params:
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = dict(step=0, exp_avg=np.zeros_like(p.data),
                                                 exp_avg_sq=np.zeros_like(p.data))
                state["step"] += 1
            # the parameters are independent: their updates run at once over the engine's threads
            for_each_in_parallel(params, lambda p, group=group: self._update(p, group), lambda p: p.data.size)

    def _update(self, p: Tensor, group: dict) -> None:
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        g = p.grad
        if wd and self.decoupled:  # AdamW: shrink the weights directly, apart from the gradient
            p.data *= 1 - lr * wd
        elif wd:
            g = g + wd * p.data
        state = self.state[p]
        m, v, t = state["exp_avg"], state["exp_avg_sq"], state["step"]
        tmp = g * (1 - beta1)
        m *= beta1
        m += tmp  # m = beta1 m + (1 - beta1) g
        np.multiply(g, g, out=tmp)
        tmp *= 1 - beta2
        v *= beta2
        v += tmp  # v = beta2 v + (1 - beta2) g^2
        np.sqrt(v, out=tmp)
        tmp *= 1 / math.sqrt(1 - beta2**t)
        tmp += eps  # sqrt(v / (1 - beta2^t)) + eps
        np.divide(m, tmp, out=tmp)
        tmp *= -lr / (1 - beta1**t)
        p.data += tmp  # p -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr * weight_decay each step, then the Adam step.

    Put parameters that should not decay (biases, norms) in a group with "weight_decay": 0.0.
    """

    decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float) -> float:
    """Scale all gradients together so their global L2 norm is at most max_norm; returns the norm before.

    As PyTorch: the scale is max_norm / (norm + 1e-6), applied only when it is below 1.
    """
    grads = [p.grad for p in ([parameters] if isinstance(parameters, Tensor) else parameters)
             if p.grad is not None]
    total = math.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in grads))
    scale = max_norm / (total + 1e-6)
    if scale < 1:  # False for a NaN norm: the gradients are left as they are
        for g in grads:
            g *= scale
    return total


# ---- learning-rate schedules: step number -> learning rate ----------------------------------------------
def constant_lr(it: int, lr: float) -> float:
    """The same learning rate at every step."""
    return lr


def step_lr(it: int, lr: float, step_size: int, gamma: float = 0.1) -> float:
    """lr, multiplied by gamma every step_size steps (PyTorch's StepLR)."""
    if step_size <= 0:
        raise ValueError(f"step_lr: step_size must be a positive number of steps, got {step_size}")
    return lr * gamma ** (it // step_size)


def cosine_lr(it: int, lr: float, min_lr: float, warmup_iters: int, lr_decay_iters: int) -> float:
    """nanoGPT's get_lr: linear warmup for warmup_iters steps, cosine decay to min_lr at lr_decay_iters."""
    if lr_decay_iters <= warmup_iters:
        raise ValueError(f"cosine_lr: lr_decay_iters ({lr_decay_iters}) must be larger than warmup_iters "
                         f"({warmup_iters})")
    if it < warmup_iters:
        return lr * (it + 1) / (warmup_iters + 1)
    if it > lr_decay_iters:
        return min_lr
    decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)  # 0 -> 1
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))  # 1 -> 0
    return min_lr + coeff * (lr - min_lr)
