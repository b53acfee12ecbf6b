"""Pictures for the rungs' --plot, drawn the one way (gradschool.plot): a figure, saved, and where it went."""

from collections.abc import Callable

from gradschool.plot import new_figure, save_figure


def figure(figsize: tuple[float, float], nrows: int = 1, ncols: int = 1):
    """A Figure and its axes for a rung; without matplotlib the rung stops with the install command."""
    try:
        return new_figure(figsize, nrows, ncols)
    except RuntimeError:
        raise SystemExit("--plot needs matplotlib: pip install 'gradschool[plot]'") from None


def save(fig, path: str) -> None:
    """Write the rung's figure to path (a PNG) and say so."""
    print(f"saved {save_figure(fig, path)}")


def save_classifier_plot(path: str, predict: Callable[[list[float]], int], xs: list[list[float]],
                         ys: list[int], losses: list[float], title: str) -> None:
    """Save a PNG: the class `predict` gives each point of the plane (labels as in `ys`), and the losses."""
    fig, (left, right) = figure((11, 4.5), 1, 2)
    lo_x, hi_x = min(x for x, _ in xs) - 0.5, max(x for x, _ in xs) + 0.5
    lo_y, hi_y = min(y for _, y in xs) - 0.5, max(y for _, y in xs) + 0.5
    n = 60  # grid resolution: each grid point is one forward pass
    gx = [lo_x + (hi_x - lo_x) * i / (n - 1) for i in range(n)]
    gy = [lo_y + (hi_y - lo_y) * j / (n - 1) for j in range(n)]
    regions = [[predict([x, y]) for x in gx] for y in gy]

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
    save(fig, path)
