# Rung 5 exercise: embeddings and the MLP language model. Fill in each TODO, then check your work with
#     gradschool check 5 exercise_5.py
"""Bengio et al. (2003), as in makemore part 2: each token has a learned vector (its embedding, a row of the
table C); the embeddings of the last block_size tokens are concatenated and go through a tanh hidden layer
to the logits of the next token.
"""

import numpy as np


def embed(C: np.ndarray, contexts: np.ndarray) -> np.ndarray:
    """TODO: the embedding of every token of every context: (N, block_size, n_embd).

    C (V, n_embd) is the table, one row per token id; contexts (N, block_size) holds token ids.
    emb[n, t] = C[contexts[n, t]]: NumPy's integer-array indexing does all of them in one step.
    """
    raise NotImplementedError("TODO: write embed")


def mlp_forward(C: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray,
                contexts: np.ndarray) -> np.ndarray:
    """TODO: the next-token logits of each context: (N, V).

    emb = embed(C, contexts)                        (N, block_size, n_embd)
    x = emb.reshape(N, block_size * n_embd)         each context's embeddings side by side
    h = tanh(x @ W1 + b1)                           (N, n_hidden); W1 (block_size * n_embd, n_hidden)
    logits = h @ W2 + b2                            (N, V); W2 (n_hidden, V)
    """
    raise NotImplementedError("TODO: write mlp_forward")


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    V, block_size, n_embd, n_hidden = 27, 3, 2, 8
    C = rng.normal(size=(V, n_embd))
    W1, b1 = rng.normal(size=(block_size * n_embd, n_hidden)), np.zeros(n_hidden)
    W2, b2 = rng.normal(size=(n_hidden, V)), np.zeros(V)
    contexts = np.array([[0, 0, 0], [0, 0, 5], [0, 5, 13]])  # '...', '..e', '.em'
    print("logits of shape", mlp_forward(C, W1, b1, W2, b2, contexts).shape)
