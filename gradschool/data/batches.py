"""Inputs and targets for the language models, as int64 NumPy arrays.

Three ways to cut text into examples, one per kind of model:
- get_batch: random windows of running text (nanoGPT); y is x shifted left by one character.
- line_examples: a row per line framed by the boundary token, targets padded with -1 (makemore's CharDataset).
- context_windows: every character of every line with the `block_size` characters before it (makemore's MLP);
  block_size=1 gives the bigrams of the bigram model.
get_example_batch then draws a random minibatch of rows from the last two.
"""

from collections.abc import Sequence

import numpy as np

from gradschool.data.corpus import DataError
from gradschool.data.tokenizer import CharTokenizer

IGNORE_INDEX = -1  # targets with this value are left out of the loss (cross_entropy's ignore_index)


def _check_positive(**sizes: int) -> None:
    for name, size in sizes.items():
        if not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"{name} must be a positive integer, got {size!r}")


def check_enough_text(n_tokens: int, block_size: int, what: str = "the text") -> None:
    """A batch of windows needs block_size + 1 characters (inputs plus the one-shifted targets)."""
    if n_tokens < block_size + 1:
        raise DataError(
            f"{what} has {n_tokens} characters, but one batch with block_size {block_size} needs at least "
            f"{block_size + 1}; use a longer text or a smaller block size"
        )


def get_batch(
    data: Sequence[int] | np.ndarray, batch_size: int, block_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """batch_size windows at random offsets: x (B, T) and y (B, T), where y[:, t] == data[offset + t + 1]."""
    _check_positive(batch_size=batch_size, block_size=block_size)
    data = np.asarray(data, dtype=np.int64)
    check_enough_text(len(data), block_size)
    offsets = rng.integers(0, len(data) - block_size, size=batch_size)
    rows = offsets[:, None] + np.arange(block_size)
    return data[rows], data[rows + 1]


def line_examples(
    lines: Sequence[str], tokenizer: CharTokenizer, block_size: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """One row per line: x = [boundary, c1..cn, 0...], y = [c1..cn, boundary, -1...], shapes (N, block_size).

    block_size defaults to the longest line + 1, so every line fits with its start and end token.
    """
    if tokenizer.boundary_id is None:
        raise DataError("line examples need a tokenizer with a boundary token: CharTokenizer.from_lines")
    longest = max((len(line) for line in lines), default=0)
    if block_size is None:
        block_size = longest + 1
    _check_positive(block_size=block_size)
    if longest + 1 > block_size:
        raise DataError(
            f"the longest line has {longest} characters and needs block_size >= {longest + 1}, "
            f"got {block_size}; raise the block size or leave it out"
        )
    x = np.full((len(lines), block_size), tokenizer.boundary_id, dtype=np.int64)
    y = np.full((len(lines), block_size), IGNORE_INDEX, dtype=np.int64)
    for row, line in enumerate(lines):
        ids = tokenizer.encode(line)
        x[row, 1 : len(ids) + 1] = ids
        y[row, : len(ids)] = ids
        y[row, len(ids)] = tokenizer.boundary_id
    return x, y


def context_windows(
    lines: Sequence[str], tokenizer: CharTokenizer, block_size: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """X (N, block_size): the characters before each character of each line (boundary-padded); Y (N,): it."""
    if tokenizer.boundary_id is None:
        raise DataError("context windows need a tokenizer with a boundary token: CharTokenizer.from_lines")
    _check_positive(block_size=block_size)
    xs, ys = [], []
    for line in lines:
        context = [tokenizer.boundary_id] * block_size
        for ix in [*tokenizer.encode(line), tokenizer.boundary_id]:
            xs.append(context)
            ys.append(ix)
            context = context[1:] + [ix]
    return np.array(xs, dtype=np.int64).reshape(-1, block_size), np.array(ys, dtype=np.int64)


def get_example_batch(
    x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """batch_size rows drawn at random (with replacement) from examples x and their targets y."""
    _check_positive(batch_size=batch_size)
    if len(x) == 0:
        raise DataError("there are no examples to draw a batch from; give more lines")
    rows = rng.integers(0, len(x), size=batch_size)
    return x[rows], y[rows]
