"""Chapter 3's softmax figure: logits -> probabilities -> one class's cross-entropy -> each logit's slope.

    softmax_figure([2.0, 1.0, 0.1], target=0)["probs"]  # [0.659, 0.242, 0.099]

Computed by the scalar engine (gradschool.scalar.losses and backward()), as rung 3 computes it; the slope of
the loss with respect to each logit comes out as (softmax - one-hot) / temperature.
"""

from typing import TYPE_CHECKING, Any

from gradschool.scalar.engine import Value
from gradschool.scalar.losses import cross_entropy, softmax

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def softmax_figure(logits: list[float], target: int, temperature: float = 1.0) -> dict[str, Any]:
    """softmax(logits / temperature), the target's cross-entropy, and d loss / d logit for every logit."""
    if not 0 <= target < len(logits):
        raise ValueError(f"target must be one of the {len(logits)} classes, 0 to {len(logits) - 1}")
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    scores = [Value(z) for z in logits]
    scaled = [z * (1.0 / temperature) for z in scores]
    loss = cross_entropy(scaled, target)
    loss.backward()
    return {
        "probs": [p.data for p in softmax(scaled)],
        "loss": loss.data,
        "grads": [z.grad for z in scores],
    }


def draw(classes: str = "3", logits: str = "2,1,0.1", target: int = 0, temperature: float = 1.0) -> "Figure":
    """The figure with matplotlib (the notebook's form): probabilities beside each logit's slope."""
    from gradschool.plot import new_figure

    values = [float(z) for z in logits.split(",")][: int(classes)]
    numbers = softmax_figure(values, int(target), float(temperature))
    fig, ax = new_figure((6, 3))
    xs = range(len(values))
    ax.bar([x - 0.2 for x in xs], numbers["probs"], width=0.4, label="probability")
    ax.bar([x + 0.2 for x in xs], numbers["grads"], width=0.4, label="d loss / d logit")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xticks(list(xs), [f"class {x}" for x in xs])
    ax.set_title(f"cross-entropy of class {target}: {numbers['loss']:.4f}")
    ax.legend()
    return fig
