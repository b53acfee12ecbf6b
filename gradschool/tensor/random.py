"""The one random number generator behind parameter init and dropout, so one seed reproduces a run."""

from typing import Any

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the global generator (in place, so generators already handed out follow the new seed)."""
    _generator.bit_generator.state = np.random.default_rng(seed).bit_generator.state
    return _generator


def generator() -> np.random.Generator:
    """The global np.random.Generator."""
    return _generator


def get_rng_state() -> dict[str, Any]:
    """A snapshot of the generator's state (a plain dict: safe to pickle into a checkpoint)."""
    return _generator.bit_generator.state


def set_rng_state(state: dict[str, Any]) -> None:
    """Continue from a snapshot taken by get_rng_state()."""
    _generator.bit_generator.state = state
