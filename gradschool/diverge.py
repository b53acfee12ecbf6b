"""Stop a training run that has diverged, with advice, instead of printing NaN.

A learning rate that is too large makes each step overshoot: the loss grows, then overflows to inf, then
turns into NaN, and every number after that is garbage. Training loops call `check_loss` once per step.
"""

import math


class TrainingDiverged(ArithmeticError):
    """The loss became NaN or infinite, or blew up far above where it started."""


def check_finite(loss: float, step: int, lr: float | None = None) -> None:
    """Raise TrainingDiverged if `loss` is NaN or infinite."""
    if not math.isfinite(loss):
        raise TrainingDiverged(_advice(f"the loss is {loss} at step {step}", lr))


def check_loss(loss: float, step: int, first_loss: float, lr: float | None = None,
               blowup: float = 10.0) -> None:
    """Raise TrainingDiverged if `loss` is not finite or is more than `blowup` times `first_loss`."""
    check_finite(loss, step, lr)
    if loss > blowup * max(first_loss, 1e-12):
        what = f"the loss blew up to {loss:.4g} at step {step}, over {blowup:g}x its first {first_loss:.4g}"
        raise TrainingDiverged(_advice(what, lr))


def _advice(what: str, lr: float | None) -> str:
    """The error message: what went wrong and what to do about it."""
    fix = "lower the learning rate"
    if lr is not None and math.isfinite(lr) and lr / 10 > 0:
        fix += f" (it is {lr:g}; try {lr / 10:g})"
    elif lr is not None and not math.isfinite(lr):  # never advise an infinite or NaN rate
        fix += f" (it is {lr}; try 1e-3)"
    return f"training diverged: {what}. The steps are overshooting: {fix} and run again."
