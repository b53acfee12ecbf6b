# Rung 4 exercise: the bigram language model by counting. Fill in each TODO, then check your work with
#     gradschool check 4 exercise_4.py
"""A bigram model predicts the next character from the current one only: count how often each character
follows each other one, turn each row of counts into probabilities, and judge the model by the average
negative log-likelihood of the text (lower is better; log(V) is a model that knows nothing).

Every word is framed by the boundary token '.', id 0: 'ab' gives the bigrams ('.', 'a'), ('a', 'b') and
('b', '.'), so the model also learns how words start and end.
"""

import numpy as np


def count_bigrams(words: list[str], stoi: dict[str, int]) -> np.ndarray:
    """TODO: N[i, j] = how many times character j follows character i in the words, shape (V, V).

    V = len(stoi); stoi maps each character to its id, and '.' to 0. Frame every word with '.' on both
    sides and count each pair of neighbours (an integer or float array, both are fine).
    """
    raise NotImplementedError("TODO: write count_bigrams")


def probabilities(counts: np.ndarray, smoothing: float = 1.0) -> np.ndarray:
    """TODO: P[i, j] = (N[i, j] + smoothing) / sum_k (N[i, k] + smoothing), shape (V, V); each row sums to 1.

    The smoothing (add-one when 1.0) gives every bigram some probability, so none of them costs log(0).
    """
    raise NotImplementedError("TODO: write probabilities")


def average_nll(P: np.ndarray, words: list[str], stoi: dict[str, int]) -> float:
    """TODO: the average negative log-likelihood of every bigram of every word (framed by '.') under P.

    -(1/n) * sum of log P[i, j] over the n bigrams (i, j), as a float.
    """
    raise NotImplementedError("TODO: write average_nll")


if __name__ == "__main__":
    words = ["emma", "olivia", "ava", "isabella", "sophia"]
    stoi = {ch: i for i, ch in enumerate(".abcdefghijklmnopqrstuvwxyz")}
    P = probabilities(count_bigrams(words, stoi))
    print(f"average negative log-likelihood {average_nll(P, words, stoi):.4f} (knowing nothing: "
          f"{np.log(len(stoi)):.4f})")
