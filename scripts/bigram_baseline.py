"""The bigram counting baseline of a line corpus: average negative log-likelihood over all its bigrams.

    python scripts/bigram_baseline.py names          # the shipped names
    python scripts/bigram_baseline.py PATH           # any file with one example per line

Every line is framed by the boundary token ('.name.'), so "ab" has the three bigrams .a ab b. .
The count model predicts P(next | previous) = (count + k) / (row total + k * vocab_size), with k = 1
(add-one smoothing) or k = 0; its loss on the very bigrams it counted is what a trained bigram net must reach.
"""

import argparse
import math
from collections import Counter

from gradschool.data import CharTokenizer, load_lines


def bigram_nll(lines: list[str], smoothing: float = 1.0) -> tuple[float, int]:
    """(average negative log-likelihood, number of bigrams) of the count model scored on its own bigrams."""
    tok = CharTokenizer.from_lines(lines)
    pairs = Counter()
    for line in lines:
        ids = [tok.boundary_id, *tok.encode(line), tok.boundary_id]
        pairs.update(zip(ids[:-1], ids[1:], strict=True))
    row_totals = Counter()
    for (a, _), n in pairs.items():
        row_totals[a] += n
    n_bigrams = sum(pairs.values())
    log_likelihood = 0.0
    for (a, _), n in pairs.items():
        log_likelihood += n * math.log((n + smoothing) / (row_totals[a] + smoothing * tok.vocab_size))
    return -log_likelihood / n_bigrams, n_bigrams


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", nargs="?", default="names", help="a shipped corpus name or a file path")
    args = parser.parse_args()
    lines = load_lines(args.data)
    smoothed, n_bigrams = bigram_nll(lines, 1.0)
    unsmoothed, _ = bigram_nll(lines, 0.0)
    print(f"{args.data}: {len(lines):,} lines, {n_bigrams:,} bigrams")
    print(f"add-one smoothing: {smoothed:.4f}   unsmoothed: {unsmoothed:.4f}")


if __name__ == "__main__":
    main()
