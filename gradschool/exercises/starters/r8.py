# Rung 8 exercise: layer norm's backward pass and the transformer block. Fill in each TODO, then check your
# work with
#     gradschool check 8 exercise_8.py
"""A transformer block lets every position gather information from the positions before it (causal
self-attention), then think about it on its own (an MLP), each as a residual branch on a layer-normalized
input. Layer norm rescales each position's vector to mean 0 and variance 1, then by a learned gamma and beta.

The weights come in a dict `p` under nanoGPT's names ('ln_1.weight', 'attn.c_attn.weight', ...); a linear
layer's weight is (out_features, in_features), as in PyTorch: y = x @ W.T + b.
"""

import numpy as np


def layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5):
    """Each row of x (N, C) to mean 0 and variance 1, then times gamma plus beta (C,): returns (y, cache)."""
    mean = x.mean(axis=-1, keepdims=True)
    rstd = 1 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)  # 1 / standard deviation, (N, 1)
    xhat = (x - mean) * rstd
    return gamma * xhat + beta, (xhat, rstd, gamma)


def layer_norm_backward(dy: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TODO: the gradients (dx, dgamma, dbeta) of layer_norm, given dy = dL/dy (N, C) and its cache.

    cache = (xhat, rstd, gamma), as layer_norm returns it.
    dbeta = dy summed over the rows (C,); dgamma = (dy * xhat) summed over the rows (C,);
    dxhat = dy * gamma, and then, with the means over the last axis (keepdims=True),
    dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))   (N, C)
    (the two means are what the mean and the variance of each row pass back).
    """
    raise NotImplementedError("TODO: write layer_norm_backward")


def linear(x: np.ndarray, p: dict, name: str) -> np.ndarray:
    return x @ p[f"{name}.weight"].T + p[f"{name}.bias"]


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU, with GPT-2's tanh approximation."""
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def attention(x: np.ndarray, p: dict, n_head: int) -> np.ndarray:
    """Multi-head causal self-attention of x (T, C): n_head heads of size C // n_head, side by side."""
    T, C = x.shape
    D = C // n_head
    q, k, v = np.split(linear(x, p, "attn.c_attn"), 3, axis=1)
    heads = []
    for h in range(n_head):
        part = slice(h * D, (h + 1) * D)
        scores = q[:, part] @ k[:, part].T / np.sqrt(D)
        scores[np.triu_indices(T, 1)] = -np.inf  # the causal mask
        weights = np.exp(scores - scores.max(axis=1, keepdims=True))
        heads.append(weights / weights.sum(axis=1, keepdims=True) @ v[:, part])
    return linear(np.concatenate(heads, axis=1), p, "attn.c_proj")


def mlp(x: np.ndarray, p: dict) -> np.ndarray:
    """Per position: widen 4x, GELU, project back."""
    return linear(gelu(linear(x, p, "mlp.c_fc")), p, "mlp.c_proj")


def block_forward(x: np.ndarray, p: dict, n_head: int) -> np.ndarray:
    """TODO: a pre-LayerNorm transformer block (GPT-2's): x (T, C) -> (T, C).

    First communicate, then compute, each as a residual branch on a normalized input:
    x = x + attention(layer_norm(x, p['ln_1.weight'], p['ln_1.bias'])[0], p, n_head)
    x = x + mlp(layer_norm(x, p['ln_2.weight'], p['ln_2.bias'])[0], p)
    """
    raise NotImplementedError("TODO: write block_forward")


if __name__ == "__main__":
    rng = np.random.default_rng(8)
    x, gamma, beta = rng.normal(size=(4, 6)), rng.normal(size=6), rng.normal(size=6)
    y, cache = layer_norm(x, gamma, beta)
    dx, dgamma, dbeta = layer_norm_backward(np.ones_like(y), cache)
    print("dx rows sum to 0:", np.allclose(dx.sum(axis=1), 0))
    C = 8
    shapes = {"ln_1.weight": (C,), "ln_1.bias": (C,), "ln_2.weight": (C,), "ln_2.bias": (C,),
              "attn.c_attn.weight": (3 * C, C), "attn.c_attn.bias": (3 * C,),
              "attn.c_proj.weight": (C, C), "attn.c_proj.bias": (C,),
              "mlp.c_fc.weight": (4 * C, C), "mlp.c_fc.bias": (4 * C,),
              "mlp.c_proj.weight": (C, 4 * C), "mlp.c_proj.bias": (C,)}
    p = {name: rng.normal(0, 0.2, shape) for name, shape in shapes.items()}
    print("block output shape:", block_forward(rng.normal(size=(5, C)), p, n_head=2).shape)
