"""Drawing with matplotlib (the plot extra), the one way gradschool does it, and a training run's loss curves.

    fig, ax = new_figure(figsize=(7, 4))   # a matplotlib Figure, no pyplot: no window, nothing to close
    ax.plot(losses)
    save_figure(fig, "loss.png")
"""

from pathlib import Path

from gradschool.runs import METRICS, read_metrics


def new_figure(figsize: tuple[float, float], nrows: int = 1, ncols: int = 1):
    """A matplotlib Figure and its axes (one, or an array of nrows x ncols); RuntimeError naming the install
    command if matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise RuntimeError(
            "plotting needs matplotlib, which is not installed: pip install 'gradschool[plot]'"
        ) from None
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols)


def save_figure(fig, path: str | Path, dpi: int = 110) -> Path:
    """Write the figure to a PNG; returns its path."""
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return Path(path)


def plot_losses(run_dir: str | Path, png: str | Path | None = None) -> Path:
    """Draw the training loss per step and the evaluated train/val losses; returns the PNG's path."""
    records = read_metrics(run_dir)
    steps = [r for r in records if "loss" in r]
    evals = [r for r in records if "val_loss" in r]
    if not steps and not evals:
        raise ValueError(f"{Path(run_dir) / METRICS} has no losses yet; train for a few steps first")
    fig, ax = new_figure(figsize=(8, 4.5))
    if steps:
        ax.plot([r["iter"] for r in steps], [r["loss"] for r in steps], lw=0.6, alpha=0.4, label="batch loss")
    if evals:
        ax.plot([r["iter"] for r in evals], [r["train_loss"] for r in evals], "o-", label="train (eval)")
        ax.plot([r["iter"] for r in evals], [r["val_loss"] for r in evals], "o-", label="val (eval)")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy loss")
    ax.set_title(f"training run {Path(run_dir).resolve().name}")
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, Path(png) if png else Path(run_dir) / "loss.png")
