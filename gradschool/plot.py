"""Loss curves of a training run, drawn from its metrics.jsonl (needs the matplotlib extra)."""

from pathlib import Path

from gradschool.runs import METRICS, read_metrics


def require_matplotlib():
    """Import matplotlib.pyplot (without a display), or explain how to install it."""
    try:
        import matplotlib
    except ModuleNotFoundError:
        raise RuntimeError(
            "plotting needs matplotlib, which is not installed: pip install 'gradschool[plot]'"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_losses(run_dir: str | Path, png: str | Path | None = None) -> Path:
    """Draw the training loss per step and the evaluated train/val losses; returns the PNG's path."""
    records = read_metrics(run_dir)
    steps = [r for r in records if "loss" in r]
    evals = [r for r in records if "val_loss" in r]
    if not steps and not evals:
        raise ValueError(f"{Path(run_dir) / METRICS} has no losses yet; train for a few steps first")
    plt = require_matplotlib()
    fig, ax = plt.subplots(figsize=(8, 4.5))
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
    png = Path(png) if png else Path(run_dir) / "loss.png"
    fig.savefig(png, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return png
