"""The functions PyTorch users know from torch.nn.functional, on gradschool Tensors.

Most are fused: one function computes the forward pass and a hand-derived backward pass, instead of a
chain of small Tensor ops. That means fewer temporary arrays and fewer graph nodes, which is where a NumPy
engine gets its speed. Matrix products go through np.matmul (BLAS) on 2-D arrays wherever possible.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from gradschool.tensor.parallel import parallel_for
from gradschool.tensor.random import generator
from gradschool.tensor.tensor import Tensor, _accumulate, index_add, unbroadcast


@functools.cache
def _ones(n: int, dtype: np.dtype) -> np.ndarray:
    ones = np.ones(n, dtype=dtype)
    ones.flags.writeable = False
    return ones


def _row_sum(a: np.ndarray) -> np.ndarray:
    """Sum over the last axis, keeping it, as a matrix-vector product: BLAS does it several times faster."""
    return np.matmul(a, _ones(a.shape[-1], a.dtype))[..., None]


def _col_sum(a: np.ndarray) -> np.ndarray:
    """Sum of the rows of a 2-D array (e.g. a bias gradient), as a vector-matrix product."""
    return np.matmul(_ones(a.shape[0], a.dtype), a)


def _row_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum(a * b) over the last axis, keeping it, without building a * b.

    For long rows a batch of (1, n) @ (n, 1) products is faster than einsum (19 vs 29 us for 768 rows of
    128 floats); for short rows einsum is.
    """
    if a.shape[-1] >= 128:
        return np.matmul(a[..., None, :], b[..., :, None])[..., 0]
    return np.einsum("...i,...i->...", a, b)[..., None]


EXP_COST = 8  # np.exp's time per float32, in plain elementwise passes (1.7 vs 0.2 ns on this CPU)


def _exp_shifted(s: np.ndarray, keep: np.ndarray | None = None, out: np.ndarray | None = None):
    """exp(s - shift) and the shift, for softmax-like functions (which do not change when s is shifted).

    The shift must make the largest value of each row at most 0 (no overflow) and leave each row at least
    one value that does not underflow. The row maximum does both, but a maximum along a short axis is a
    slow reduction in NumPy; when all values lie within 60 of each other one global maximum does both too.
    `keep` (a boolean mask, e.g. causal) zeroes the positions it leaves out.
    """
    if s.size == 0:
        return np.exp(s), 0.0
    hi = s.max()
    if hi - s.min() < 60:
        shift = hi
    else:
        if keep is not None:
            s = np.where(keep, s, -np.inf)
        shift = s.max(axis=-1, keepdims=True)
    e = np.subtract(s, shift, out=out)
    if e.ndim and len(e) > 1:  # split by rows; exp's cost makes it pay at a smaller size than a plain pass
        parallel_for(lambda lo, hi: np.exp(e[lo:hi], out=e[lo:hi]), len(e), EXP_COST * e.size)
    else:
        np.exp(e, out=e)
    if keep is not None:
        e *= keep
    return e, shift


def _need_tensors(fn: str, **args) -> None:
    """Refuse a plain array (or anything else) where a Tensor is expected, as PyTorch does, clearly."""
    for name, value in args.items():
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"{fn}() expects a Tensor for {name!r}, got {type(value).__name__}; "
                            f"wrap it first: Tensor({name})")


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b, with W of shape (out_features, in_features) as in PyTorch; x is (..., in_features)."""
    _need_tensors("linear", x=x, weight=weight, bias=bias)
    W = weight.data
    n_out, n_in = W.shape
    if x.shape[-1:] != (n_in,):
        raise ValueError(f"linear: input of shape {x.shape} does not fit a weight of shape {W.shape}: "
                         f"the input's last dim must be in_features = {n_in}")
    x2 = x.data.reshape(-1, n_in)  # all leading dims as rows: one big matrix product
    y = np.matmul(x2, W.T)
    if bias is not None:
        y += bias.data
    parents = (x, weight) if bias is None else (x, weight, bias)

    def backward(g):  # y = x W^T + b: dx = g W, dW = g^T x, db = sum of g over rows
        g2 = g.reshape(-1, n_out)
        if x.requires_grad:
            _accumulate(x, np.matmul(g2, W).reshape(x.shape))
        if weight.requires_grad:
            _accumulate(weight, np.matmul(g2.T, x2))
        if bias is not None and bias.requires_grad:
            _accumulate(bias, _col_sum(g2))
    return Tensor._make(y.reshape(*x.shape[:-1], n_out), parents, backward, "linear")


def embedding(idx, weight: Tensor) -> Tensor:
    """Rows of weight picked by the integer array idx: (...,) -> (..., embedding_dim)."""
    ids = np.asarray(idx.data if isinstance(idx, Tensor) else idx)
    n = weight.shape[0]
    if ids.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= n):  # no negative ids: -1 would quietly be the last row
        bad = ids.min() if ids.min() < 0 else ids.max()
        raise IndexError(f"embedding: id {bad} is out of range for a vocabulary of size {n} "
                         f"(valid ids: 0..{n - 1})")

    def backward(g):  # each looked-up row gets its gradient added back; repeated ids add up
        if weight.grad is None:
            weight.grad = np.zeros(weight.shape, dtype=weight.dtype)
        if ids.size:
            index_add(weight.grad, ids.reshape(-1), g.reshape(ids.size, -1))
    return Tensor._make(np.take(weight.data, ids, axis=0), (weight,), backward, "embedding")


def layer_norm(x: Tensor, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalize the last axis to mean 0 and variance 1, then scale by weight and shift by bias."""
    _need_tensors("layer_norm", x=x, weight=weight, bias=bias)
    C = x.shape[-1]
    X = x.data.reshape(-1, C)  # one row per position
    dtype = np.result_type(*(t.data for t in (x, weight, bias) if t is not None))
    xhat, y, rstd = np.empty(X.shape, dtype), np.empty(X.shape, dtype), np.empty((len(X), 1), dtype)

    def forward(lo, hi):
        xh, r = xhat[lo:hi], rstd[lo:hi]
        np.subtract(X[lo:hi], _row_sum(X[lo:hi]) / C, out=xh)
        np.divide(_row_dot(xh, xh), C, out=r)
        r += eps
        np.sqrt(r, out=r)
        np.reciprocal(r, out=r)  # 1 / sqrt(var + eps)
        xh *= r  # (x - mean) / sqrt(var + eps)
        if weight is not None:
            np.multiply(xh, weight.data, out=y[lo:hi])
        else:
            y[lo:hi] = xh
        if bias is not None:
            y[lo:hi] += bias.data
    parallel_for(forward, len(X), X.size)
    parents = tuple(t for t in (x, weight, bias) if t is not None)

    def backward(g):  # dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), with dxhat = g * weight
        g2 = g.reshape(-1, C)
        if weight is not None and weight.requires_grad:
            _accumulate(weight, np.einsum("ni,ni->i", g2, xhat))
        if bias is not None and bias.requires_grad:
            _accumulate(bias, _col_sum(g2))
        if not x.requires_grad:
            return
        dx = np.empty(X.shape, dtype)

        def rows(lo, hi):
            gi, xh, d = g2[lo:hi], xhat[lo:hi], dx[lo:hi]
            dxhat = gi * weight.data if weight is not None else gi
            np.multiply(xh, _row_dot(dxhat, xh) / C, out=d)
            d += _row_sum(dxhat) / C
            np.subtract(dxhat, d, out=d)
            d *= rstd[lo:hi]
        parallel_for(rows, len(X), X.size)
        _accumulate(x, dx.reshape(x.shape))
    return Tensor._make(y.reshape(x.shape), parents, backward, "layer_norm")


def gelu(x: Tensor) -> Tensor:
    """GELU, tanh approximation (GPT-2)."""
    _need_tensors("gelu", x=x)
    return x.gelu()


def relu(x: Tensor) -> Tensor:
    _need_tensors("relu", x=x)
    return x.relu()


def tanh(x: Tensor) -> Tensor:
    _need_tensors("tanh", x=x)
    return x.tanh()


def sigmoid(x: Tensor) -> Tensor:
    _need_tensors("sigmoid", x=x)
    return x.sigmoid()


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along axis, with a shift so that it never overflows."""
    _need_tensors("softmax", x=x)
    p, _ = _exp_shifted(np.moveaxis(x.data, axis, -1))
    p /= _row_sum(p)

    def backward(g):  # dx = p * (g - sum(g * p))
        gl = np.moveaxis(g, axis, -1)
        dx = gl - _row_dot(gl, p)
        dx *= p
        _accumulate(x, np.moveaxis(dx, -1, axis))
    return Tensor._make(np.moveaxis(p, -1, axis), (x,), backward, "softmax")


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - log(sum(exp(x))) along axis, stable for any magnitude."""
    _need_tensors("log_softmax", x=x)
    X = np.moveaxis(x.data, axis, -1)
    p, shift = _exp_shifted(X)
    sums = _row_sum(p)
    p /= sums  # softmax, kept for backward
    np.log(sums, out=sums)
    sums += shift
    out = X - sums

    def backward(g):  # dx = g - softmax(x) * sum(g)
        gl = np.moveaxis(g, axis, -1)
        dx = p * -_row_sum(gl)
        dx += gl
        _accumulate(x, np.moveaxis(dx, -1, axis))
    return Tensor._make(np.moveaxis(out, -1, axis), (x,), backward, "log_softmax")


def cross_entropy(logits: Tensor, targets, ignore_index: int = -1) -> Tensor:
    """Mean of -log softmax(logits)[target] over the rows whose target is not ignore_index.

    Fused: the backward pass is (softmax - onehot(target)) / n_rows, with no log or division that could
    produce inf or NaN, whatever the size of the logits.
    """
    _need_tensors("cross_entropy", logits=logits)
    t = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy expects logits of shape (N, C), got {logits.shape}; for (B, T, C) "
                         "logits use logits.reshape(-1, C) and targets.reshape(-1)")
    N, C = logits.shape
    if t.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy targets must be integer class indices, got dtype {t.dtype}; "
                        "convert with targets.astype(np.int64)")
    if t.shape != (N,):
        raise ValueError(f"cross_entropy: targets of shape {t.shape} do not match logits of shape "
                         f"{logits.shape}; expected targets of shape ({N},)")
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= C))
    if bad.any():
        raise ValueError(f"cross_entropy: target {t[bad][0]} is out of range for {C} classes "
                         f"(valid: 0..{C - 1}, or ignore_index={ignore_index})")
    n = int(valid.sum())
    if n == 0:
        raise ValueError(f"cross_entropy: no targets to average over (an empty batch, or every target equals "
                         f"ignore_index={ignore_index}); leave such batches out")
    rows = np.arange(N)
    tt = np.where(valid, t, 0)
    X = logits.data
    p, shift = _exp_shifted(X)
    sums = _row_sum(p)
    p /= sums  # the softmax probabilities, kept for backward
    losses = np.log(sums[:, 0])  # -log p[target] = log(sum(exp(x - shift))) + shift - x[target]
    losses += shift if np.ndim(shift) == 0 else shift[:, 0]
    losses -= X[rows, tt]
    loss = (losses.sum() if n == N else losses[valid].sum()) / n

    def backward(g):  # d loss / d logits = (softmax - onehot(target)) / n on the rows that count
        scale = g / n
        dx = p * scale
        dx[rows, tt] -= scale
        if n != N:
            dx[~valid] = 0
        _accumulate(logits, dx)
    return Tensor._make(np.asarray(loss, dtype=X.dtype), (logits,), backward, "cross_entropy")


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """In training, zero each element with probability p and scale the rest by 1/(1-p); else the identity."""
    _need_tensors("dropout", x=x)
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability must be between 0 and 1, got {p}")
    if not training or p == 0:
        return x
    mask = (generator().random(x.shape, dtype=np.float32) >= p).astype(x.dtype)
    if p < 1:
        mask *= 1 / (1 - p)

    def backward(g):  # dropped elements get no gradient, kept ones are scaled like the forward
        _accumulate(x, g * mask)
    return Tensor._make(x.data * mask, (x,), backward, "dropout")


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, is_causal: bool = False) -> Tensor:
    """softmax(q k^T / sqrt(D)) v for q (..., L, D), k (..., S, D), v (..., S, Dv), like PyTorch's.

    is_causal masks out keys j > i for query i (the top-left aligned lower triangle, as PyTorch does).
    Every (batch, head) pair is its own small problem: the batch is cut into blocks spread over the cores.
    """
    _need_tensors("scaled_dot_product_attention", q=q, k=k, v=v)
    Q, K, V = q.data, k.data, v.data
    if Q.ndim < 2 or Q.shape[-1] != K.shape[-1] or K.shape[-2] != V.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: q {Q.shape}, k {K.shape}, v {V.shape} do not fit: "
                         "need q (..., L, D), k (..., S, D), v (..., S, Dv)")
    try:
        batch = np.broadcast_shapes(Q.shape[:-2], K.shape[:-2], V.shape[:-2])
    except ValueError:
        raise ValueError(f"scaled_dot_product_attention: the batch dims of q {Q.shape}, k {K.shape} and "
                         f"v {V.shape} do not broadcast together") from None
    lead = batch or (1,)  # 2-D inputs: a batch of one
    Qb, Kb, Vb = (np.broadcast_to(a, lead + a.shape[-2:]) for a in (Q, K, V))  # views, no copies
    (L, D), S, dtype = Q.shape[-2:], K.shape[-2], np.result_type(Q, K, V)
    scale = 1.0 / math.sqrt(D)
    P = np.empty(lead + (L, S), dtype)  # the attention weights, kept for backward
    out = np.empty(lead + (L, V.shape[-1]), dtype)
    keep = np.tri(L, S, dtype=bool) if is_causal else None

    def forward(lo, hi):
        qs = Qb[lo:hi] * scale  # cheaper than scaling the (L, S) scores
        np.matmul(qs, Kb[lo:hi].swapaxes(-1, -2), out=P[lo:hi])
        _exp_shifted(P[lo:hi], keep, out=P[lo:hi])
        P[lo:hi] /= _row_sum(P[lo:hi])
        np.matmul(P[lo:hi], Vb[lo:hi], out=out[lo:hi])
    parallel_for(forward, lead[0], P.size)

    def backward(g):  # O = P V, P = softmax(S), S = Q K^T * scale
        gb = np.broadcast_to(g, out.shape)
        dQ, dK, dV = (np.empty(a.shape, dtype) if t.requires_grad else None
                      for a, t in ((Qb, q), (Kb, k), (Vb, v)))

        def rows(lo, hi):
            Pi, gi = P[lo:hi], gb[lo:hi]
            if dV is not None:  # dV = P^T dO
                np.matmul(Pi.swapaxes(-1, -2), gi, out=dV[lo:hi])
            if dQ is None and dK is None:
                return
            dS = np.matmul(gi, Vb[lo:hi].swapaxes(-1, -2))  # dP = dO V^T
            dS -= _row_dot(dS, Pi)  # dS = P * (dP - sum(dP * P)), without the scale
            dS *= Pi
            for d, a, other in ((dQ, dS, Kb), (dK, dS.swapaxes(-1, -2), Qb)):
                if d is not None:  # dQ = dS K * scale, dK = dS^T Q * scale
                    np.matmul(a, other[lo:hi], out=d[lo:hi])
                    d[lo:hi] *= scale
        parallel_for(rows, lead[0], P.size)
        for t, d, shape in ((q, dQ, Q.shape), (k, dK, K.shape), (v, dV, V.shape)):
            if d is not None:
                _accumulate(t, unbroadcast(d, shape))
    return Tensor._make(out.reshape(batch + out.shape[-2:]), (q, k, v), backward, "sdpa")
