"""gradschool.data.toy: the toy datasets of the first rungs."""

import math
import random

import pytest

from gradschool.data.toy import make_spirals


def test_make_spirals_is_deterministic_and_balanced():
    xs, ys = make_spirals(300, classes=3, noise=0.2, rng=random.Random(5))
    again, _ = make_spirals(300, classes=3, noise=0.2, rng=random.Random(5))
    assert xs == again
    assert len(xs) == 300 and all(len(x) == 2 for x in xs)
    assert sorted(set(ys)) == [0, 1, 2] and [ys.count(c) for c in range(3)] == [100, 100, 100]
    assert all(math.hypot(*x) <= 1.0 for x in xs)  # radius runs from 0 to 1


@pytest.mark.parametrize("kwargs, message", [
    ({"n": 2, "classes": 3}, "at least one point per class"),
    ({"n": 10, "classes": 0}, "classes must be at least 1"),
    ({"n": 10, "noise": -0.1}, "noise must be >= 0"),
])
def test_make_spirals_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_spirals(**kwargs)
