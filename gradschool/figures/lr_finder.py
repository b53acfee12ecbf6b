"""Chapter 5's learning-rate finder: one short training whose learning rate grows exponentially every step.

    found = lr_finder(lo=-3, hi=0, steps=300)
    found["exponents"][i], found["losses"][i]  # step i trained at rate 10**exponents[i]; its minibatch loss

As in makemore part 2: while the rate is too small the loss barely moves, then it falls fastest, then it
becomes noisy and climbs. A good rate sits where the fall is steepest, well before the climb. The sweep
stops early once a minibatch loss is four times the best so far (it has diverged: later steps tell nothing).
"""

from typing import Any

import numpy as np

from gradschool.figures.embeddings import EmbeddingRun


def lr_exponents(lo: float, hi: float, steps: int) -> np.ndarray:
    """Each step's exponent: evenly spaced from lo to hi, so the rates 10**e grow geometrically."""
    if not lo < hi:
        raise ValueError(f"the lowest exponent ({lo:g}) must be below the highest ({hi:g})")
    if steps < 2:
        raise ValueError("steps must be at least 2")
    return np.linspace(lo, hi, steps)


def smooth(losses: list[float], beta: float = 0.9) -> list[float]:
    """A running average of the minibatch losses, each step weighing the past by beta (bias-corrected, as
    Adam corrects its averages), so the curve's shape shows through the minibatch noise."""
    out, average = [], 0.0
    for i, loss in enumerate(losses):
        average = beta * average + (1 - beta) * loss
        out.append(average / (1 - beta ** (i + 1)))
    return out


def lr_finder(lo: float = -3.0, hi: float = 0.0, steps: int = 300, seed: int = 42,
              batch_size: int = 32) -> dict[str, Any]:
    """Train a fresh seeded model (rung 5's, with 2-D embeddings) one step at each rate 10**e in turn."""
    exponents = lr_exponents(lo, hi, steps)
    run = EmbeddingRun(seed=seed, lr=10 ** exponents[0], batch_size=batch_size)
    for e in exponents:
        run.lr = 10 ** e
        try:
            run.train(1)
        except FloatingPointError:
            run.losses.pop()  # not a number: nothing to draw
            break
        if run.losses[-1] > 4 * min(run.losses):
            break
    n = len(run.losses)
    smoothed = smooth(run.losses)
    best = int(np.argmin(smoothed))
    return {
        "exponents": exponents[:n].tolist(),
        "losses": run.losses,
        "smoothed": smoothed,
        "stopped_early": n < steps,  # it diverged before the last rate
        "lowest": {"exponent": float(exponents[best]), "loss": smoothed[best]},  # of the smoothed curve
    }
