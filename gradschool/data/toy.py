"""Small 2-D classification problems, made with the standard library only (no scikit-learn, no NumPy)."""

import math
import random


def make_moons(n: int = 100, noise: float = 0.1,
               rng: random.Random | None = None) -> tuple[list[list[float]], list[int]]:
    """Two interleaved half circles, like sklearn.datasets.make_moons, with labels -1 (upper) and 1 (lower).

    Returns (xs, ys): n points [x0, x1] in shuffled order and their labels. `noise` is the standard deviation
    of the Gaussian noise added to each coordinate; rng=None uses the `random` module (so random.seed works).
    """
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an integer >= 2 (at least one point per moon), got {n!r}")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    rng = rng or random
    n_upper = n // 2
    n_lower = n - n_upper
    points = []
    for i in range(n_upper):  # the upper moon: a half circle around (0, 0)
        t = math.pi * i / max(n_upper - 1, 1)
        points.append(([math.cos(t), math.sin(t)], -1))
    for i in range(n_lower):  # the lower moon: shifted right by 1 and down by 0.5, upside down
        t = math.pi * i / max(n_lower - 1, 1)
        points.append(([1 - math.cos(t), 0.5 - math.sin(t)], 1))
    rng.shuffle(points)
    xs = [[x0 + rng.gauss(0, noise), x1 + rng.gauss(0, noise)] for (x0, x1), _ in points]
    return xs, [y for _, y in points]


def make_spirals(n: int = 300, classes: int = 3, noise: float = 0.2,
                 rng: random.Random | None = None) -> tuple[list[list[float]], list[int]]:
    """`classes` spiral arms winding out from the centre, with labels 0, 1, ..., classes - 1.

    Returns (xs, ys): n points [x0, x1] in shuffled order (an equal share per arm) and their labels. Along
    each arm the radius grows from 0 to 1 while the angle turns 4 radians; `noise` is the standard deviation
    of the Gaussian noise added to the angle. rng=None uses the `random` module.
    """
    if not isinstance(classes, int) or classes < 1:
        raise ValueError(f"classes must be at least 1, got {classes!r}")
    if not isinstance(n, int) or n < classes:
        raise ValueError(f"n needs at least one point per class: got n={n!r} for {classes} classes")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    rng = rng or random
    points = []
    for c in range(classes):
        m = n // classes + (c < n % classes)  # the remainder goes to the first arms
        for i in range(m):
            r = i / max(m - 1, 1)
            t = 4.0 * (c + r) + rng.gauss(0, noise)
            points.append(([r * math.sin(t), r * math.cos(t)], c))
    rng.shuffle(points)
    return [x for x, _ in points], [y for _, y in points]
