"""A part of an exercise: one TODO, the inputs it is tried on, the learner's answers and the library's.

A part is graded in two halves. In a child process, `answer` runs the learner's code on each case and turns
what it returns into plain JSON (numbers, lists, strings); anything of the wrong kind raises WrongType. In
the grader's own process, `oracle` computes the same quantities with the library (and float64 central
differences for derivatives), and the two are compared key by key with tolerances. The learner's code never
runs in the process that decides the score.
"""

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TypeVar

import numpy as np

from gradschool.tensor.random import get_rng_state, set_rng_state

T = TypeVar("T")

Case = dict  # one set of inputs, JSON-able: numbers, lists, strings
Results = dict  # what was computed for one case, by the name the report prints: "d tanh/dx" -> 0.42


@dataclass(frozen=True)
class Part:
    """One graded piece of an exercise, reported as one line."""

    id: str  # "1.2"
    title: str  # "Value.tanh and its local derivative"
    draw: Callable[[np.random.Generator], list[Case]]  # the cases it is tried on
    answer: Callable[[ModuleType, Case], Results]  # in the child: the learner's results for one case
    oracle: Callable[[Case], Results]  # in the grader: the library's results for the same case
    hint: str | dict[str, str]  # one hint, or one per result name
    uses: tuple[str, ...] = ()  # other TODO functions this part calls: the reference code stands in for them
    derive: Callable[[Case, Results], Results] | None = None  # in the grader: the learner's results, judged
    show: Callable[[Case], str] | None = None  # how to print a case (default: every input, briefly)
    rtol: float = 1e-5
    atol: float = 1e-8

    def hint_for(self, key: str) -> str:
        return self.hint.get(key, "") if isinstance(self.hint, dict) else self.hint


class WrongType(Exception):
    """The learner's code returned something of the wrong kind (a list for an array, None for a Value...)."""


def kind(x) -> str:
    """What x is, in words: 'None', 'a list', 'an array of shape (3, 4)'."""
    if x is None:
        return "None"
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape}"
    name = type(x).__name__
    return f"an {name}" if name[0] in "aeiouAEIOU" else f"a {name}"


def number(x, what: str) -> float:
    """x as a float, if it is a real number (a Python or NumPy number, or a one-element array)."""
    if isinstance(x, np.ndarray) and x.size == 1:
        x = x.reshape(())[()]
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise WrongType(f"{what} returned {kind(x)}, expected a number")
    return float(x)


def array(x, what: str, shape: tuple[int, ...] | None = None) -> list:
    """x as nested lists of floats, if it is a NumPy array of real numbers (of `shape`, if given)."""
    if isinstance(x, np.generic):  # a NumPy number, as a sum over every axis gives: a 0-d array
        x = np.asarray(x)
    if not isinstance(x, np.ndarray) or x.dtype.kind not in "biuf":
        raise WrongType(f"{what} returned {kind(x)}, expected a NumPy array of numbers"
                        + (f" of shape {shape}" if shape is not None else ""))
    if shape is not None and x.shape != tuple(shape):
        raise WrongType(f"{what} returned an array of shape {x.shape}, expected shape {tuple(shape)}")
    return x.astype(np.float64).tolist()


def instance(x, cls: type, what: str):
    """x itself, if it is a cls."""
    if not isinstance(x, cls):
        raise WrongType(f"{what} returned {kind(x)}, expected a {cls.__name__}")
    return x


def sequence(x, what: str, length: int | None = None) -> list:
    """x as a list, if it is a list or tuple (of `length` items, if given)."""
    if not isinstance(x, (list, tuple)):
        raise WrongType(f"{what} returned {kind(x)}, expected a list")
    if length is not None and len(x) != length:
        raise WrongType(f"{what} returned {len(x)} items, expected {length}")
    return list(x)


def built_quietly(build: Callable[[], T]) -> T:
    """build(), leaving the library's global generator as it was: the oracle's modules draw initial weights
    that the case's weights then replace, and a program that grades must not see its random stream move."""
    state = get_rng_state()
    try:
        return build()
    finally:
        set_rng_state(state)


def central_differences(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """d f / d x for every element of x (float64), by (f(x + h) - f(x - h)) / 2h: the oracle's derivatives."""
    x = np.array(x, dtype=np.float64)
    grad = np.empty_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = f(x)
        x[i] = old - h
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad
