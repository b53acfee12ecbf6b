"""Loss functions over lists of Values: softmax, cross-entropy for classes, mean squared error."""

from gradschool.scalar.engine import Value, sum_values


def softmax(logits: list[Value]) -> list[Value]:
    """Turn scores into probabilities that are positive and sum to 1."""
    _check_logits(logits)
    m = max(v.data for v in logits)  # subtracting the max changes nothing but keeps exp() from overflowing
    counts = [(v - m).exp() for v in logits]
    total = sum_values(counts)
    return [c / total for c in counts]


def cross_entropy(logits: list[Value], target: int) -> Value:
    """-log(softmax(logits)[target]): small when the right class gets most of the probability."""
    _check_logits(logits)
    if not isinstance(target, int) or not 0 <= target < len(logits):
        raise ValueError(f"target must be a class index in 0..{len(logits) - 1}, got {target!r}")
    # log-sum-exp form: -log(e^z_t / sum_j e^z_j) = log(sum_j e^(z_j - m)) + m - z_t, never log(0)
    m = max(v.data for v in logits)
    counts = [(v - m).exp() for v in logits]
    return sum_values(counts).log() + m - logits[target]


def mse(preds: list[Value], targets: list[float]) -> Value:
    """Mean of the squared differences between predictions and targets."""
    if len(preds) != len(targets) or not preds:
        raise ValueError(f"mse needs as many targets as predictions (at least one), got {len(preds)} and "
                         f"{len(targets)}")
    return sum_values([(p - t) ** 2 for p, t in zip(preds, targets)]) / len(preds)


def _check_logits(logits: list[Value]) -> None:
    if not logits or not all(isinstance(v, Value) for v in logits):
        raise ValueError("logits must be a non-empty list of Values (one score per class)")
