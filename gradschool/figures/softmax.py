"""Chapter 3's softmax figure: logits -> probabilities -> one class's cross-entropy -> each logit's slope.

    softmax_figure([2.0, 1.0, 0.1], target=0)["probs"]  # [0.659, 0.242, 0.099]

Computed by the scalar engine (gradschool.scalar.losses and backward()), as rung 3 computes it; the slope of
the loss with respect to each logit comes out as (softmax - one-hot) / temperature.
"""

from typing import Any

from gradschool.scalar.engine import Value
from gradschool.scalar.losses import cross_entropy, softmax


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
