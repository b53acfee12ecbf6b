"""Pictures for the rungs: a classifier's decision regions beside its loss curve (needs matplotlib)."""

from collections.abc import Callable


def save_classifier_plot(path: str, predict: Callable[[list[float]], int], xs: list[list[float]],
                         ys: list[int], losses: list[float], title: str) -> None:
    """Save a PNG: the class `predict` gives each point of the plane (labels as in `ys`), and the losses."""
    try:
        from matplotlib.figure import Figure  # no pyplot: nothing opens a window
    except ImportError:
        raise SystemExit("--plot needs matplotlib: pip install 'gradschool[plot]'") from None

    lo_x, hi_x = min(x for x, _ in xs) - 0.5, max(x for x, _ in xs) + 0.5
    lo_y, hi_y = min(y for _, y in xs) - 0.5, max(y for _, y in xs) + 0.5
    n = 60  # grid resolution: each grid point is one forward pass
    gx = [lo_x + (hi_x - lo_x) * i / (n - 1) for i in range(n)]
    gy = [lo_y + (hi_y - lo_y) * j / (n - 1) for j in range(n)]
    regions = [[predict([x, y]) for x in gx] for y in gy]

    fig = Figure(figsize=(11, 4.5))
    left, right = fig.subplots(1, 2)
    colors = dict(cmap="viridis", vmin=min(ys), vmax=max(ys))
    left.pcolormesh(gx, gy, regions, shading="nearest", alpha=0.3, **colors)
    left.scatter([x for x, _ in xs], [y for _, y in xs], c=ys, s=20, edgecolors="k", **colors)
    left.set_title(f"decision regions: {title}")
    right.plot(losses)
    right.set_xlabel("step")
    right.set_ylabel("loss")
    right.set_yscale("log")
    right.set_title("training loss")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
