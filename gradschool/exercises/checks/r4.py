"""Checks of rung 4's exercise: count_bigrams, probabilities and average_nll (the oracle: rung 4's code)."""

import numpy as np

from gradschool.data import CharTokenizer
from gradschool.exercises.part import Part, array, number
from gradschool.rungs.r4_bigram import average_nll, bigrams, count_model

ALPHABET = "abcde"


def vocabulary() -> dict[str, int]:
    return {ch: i for i, ch in enumerate("." + ALPHABET)}


def draw_words(rng) -> list[dict]:
    def word():
        return "".join(rng.choice(list(ALPHABET), int(rng.integers(1, 6))))
    return [{"words": ["ab", "b"]}, {"words": [word() for _ in range(8)]}]


def tokenizer() -> CharTokenizer:
    """The library's tokenizer of the alphabet: '.' is 0, then the letters, as in vocabulary()."""
    return CharTokenizer.from_lines([ALPHABET])


def answer_counts(mod, case) -> dict:
    V = len(vocabulary())
    counts = mod.count_bigrams(case["words"], vocabulary())
    return {"counts": array(counts, "count_bigrams(words, stoi)", (V, V))}


def oracle_counts(case) -> dict:
    xs, ys = bigrams(case["words"], tokenizer())
    V = len(vocabulary())
    counts = np.zeros((V, V))
    np.add.at(counts, (xs, ys), 1)  # the library's bigrams of the framed words, counted
    return {"counts": counts.tolist()}


def draw_counts(rng) -> list[dict]:
    counts = rng.integers(0, 6, (6, 6))
    counts[2] = 0  # a character never seen: only the smoothing gives its row probabilities
    return [{"counts": counts.tolist(), "smoothing": 1.0}, {"counts": counts.tolist(), "smoothing": 0.5}]


def answer_probabilities(mod, case) -> dict:
    counts = np.array(case["counts"], dtype=np.float64)
    return {"P": array(mod.probabilities(counts, case["smoothing"]), "probabilities(counts, smoothing)",
                       counts.shape)}


def oracle_probabilities(case) -> dict:
    counts = np.array(case["counts"])
    xs, ys = np.nonzero(counts)
    reps = counts[xs, ys]  # the counts as a list of bigrams, for the library's counting model
    P = count_model(np.repeat(xs, reps), np.repeat(ys, reps), len(counts), case["smoothing"])
    return {"P": P.tolist()}


def draw_model(rng) -> list[dict]:
    V = len(vocabulary())
    P = rng.random((V, V)) + 0.05
    P /= P.sum(axis=1, keepdims=True)
    return [{"P": P.tolist(), "words": draw_words(rng)[1]["words"]}, {"P": P.tolist(), "words": ["a"]}]


def answer_nll(mod, case) -> dict:
    value = mod.average_nll(np.array(case["P"]), case["words"], vocabulary())
    return {"average negative log-likelihood": number(value, "average_nll(P, words, stoi)")}


def oracle_nll(case) -> dict:
    xs, ys = bigrams(case["words"], tokenizer())
    return {"average negative log-likelihood": average_nll(np.array(case["P"]), xs, ys)}


def show_model(case) -> str:
    return f"words={case['words']} (P: a random {len(case['P'])}x{len(case['P'])} table)"


PARTS = [
    Part("4.1", "count_bigrams: every word framed by '.'", draw_words, answer_counts, oracle_counts,
         "for each word, ids = [0] + [stoi[c] for c in word] + [0]; add 1 to counts[i, j] for every "
         "neighbouring pair (i, j) in ids"),
    Part("4.2", "probabilities: smoothed counts, normalized by row", draw_counts, answer_probabilities,
         oracle_probabilities,
         "add the smoothing to every count, then divide each row by its own sum (axis=1, keepdims=True)"),
    Part("4.3", "average_nll: the mean of -log P over all bigrams", draw_model, answer_nll, oracle_nll,
         "frame each word with '.' (id 0) on both sides, then average -log P[i, j] over every bigram of "
         "every word (divide by the number of bigrams, not of words)", show=show_model),
]
