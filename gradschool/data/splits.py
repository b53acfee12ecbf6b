"""Deterministic train/validation(/test) splits.

A model is judged on data it never trained on. Running text is cut in one place, like nanoGPT (the first 90%
trains, the last 10% validates), so no sentence leaks across; separate lines (names) are shuffled with a fixed
seed and cut 80/10/10 into train/dev/test, exactly like makemore (random.seed(42); random.shuffle(words)).
"""

import random
from collections.abc import Sequence
from typing import TypeVar

from gradschool.data.corpus import DataError

T = TypeVar("T")


def split_text(data: Sequence[T], train_fraction: float = 0.9) -> tuple[Sequence[T], Sequence[T]]:
    """(train, val): the first `train_fraction` of `data` (a string, list or array of ids) and the rest."""
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must be between 0 and 1, got {train_fraction}")
    n = int(train_fraction * len(data))
    if n == 0 or n == len(data):
        raise DataError(
            f"the text has only {len(data)} characters, too few to split into training and validation parts; "
            "use a longer text"
        )
    return data[:n], data[n:]


def split_lines(
    lines: Sequence[T], fractions: tuple[float, float] = (0.8, 0.9), seed: int = 42
) -> tuple[list[T], list[T], list[T]]:
    """(train, dev, test): the lines shuffled with `seed`, cut at the cumulative `fractions` (80/10/10)."""
    lines = list(lines)
    random.Random(seed).shuffle(lines)
    n1, n2 = int(fractions[0] * len(lines)), int(fractions[1] * len(lines))
    if not 0 < n1 < n2 < len(lines):
        raise DataError(
            f"{len(lines)} lines are too few to split into non-empty train, dev and test parts at "
            f"{fractions}; use a file with more lines"
        )
    return lines[:n1], lines[n1:n2], lines[n2:]
