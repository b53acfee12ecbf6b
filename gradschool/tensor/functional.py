"""The functions PyTorch users know from torch.nn.functional, on gradschool Tensors.

Most are fused: one function computes the forward pass and a hand-derived backward pass, instead of a
chain of small Tensor ops. That means fewer temporary arrays and fewer graph nodes, which is where a NumPy
engine gets its speed. Matrix products go through np.matmul (BLAS) on 2-D arrays wherever possible; the
NumPy tricks behind the speed (threads, BLAS row sums, ...) are in kernels.py, with their measurements.
"""

from __future__ import annotations

import math

import numpy as np

from gradschool.tensor import kernels
from gradschool.tensor.kernels import col_sum, exp_shifted, index_add, row_dot, row_sum
from gradschool.tensor.parallel import parallel_for
from gradschool.tensor.random import generator
from gradschool.tensor.tensor import Tensor, accumulate_grad, unbroadcast


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
            accumulate_grad(x, np.matmul(g2, W).reshape(x.shape))
        if weight.requires_grad:
            accumulate_grad(weight, np.matmul(g2.T, x2))
        if bias is not None and bias.requires_grad:
            accumulate_grad(bias, col_sum(g2))
    return Tensor.from_op(y.reshape(*x.shape[:-1], n_out), parents, backward, "linear")


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
    return Tensor.from_op(np.take(weight.data, ids, axis=0), (weight,), backward, "embedding")


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
        np.subtract(X[lo:hi], row_sum(X[lo:hi]) / C, out=xh)
        np.divide(row_dot(xh, xh), C, out=r)
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
            accumulate_grad(weight, np.einsum("ni,ni->i", g2, xhat))
        if bias is not None and bias.requires_grad:
            accumulate_grad(bias, col_sum(g2))
        if not x.requires_grad:
            return
        dx = np.empty(X.shape, dtype)

        def rows(lo, hi):
            gi, xh, d = g2[lo:hi], xhat[lo:hi], dx[lo:hi]
            dxhat = gi * weight.data if weight is not None else gi
            np.multiply(xh, row_dot(dxhat, xh) / C, out=d)
            d += row_sum(dxhat) / C
            np.subtract(dxhat, d, out=d)
            d *= rstd[lo:hi]
        parallel_for(rows, len(X), X.size)
        accumulate_grad(x, dx.reshape(x.shape))
    return Tensor.from_op(y.reshape(x.shape), parents, backward, "layer_norm")


def gelu(x: Tensor) -> Tensor:
    """GELU with the tanh approximation of GPT-2: x/2 (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3).

    Computed as x sigmoid(2u) = x / (1 + exp(-2u)), the same function with one exp instead of a tanh
    (cheaper), in a few in-place passes per block of elements, the blocks spread over the cores. The
    1 + exp(-2u) of each element is kept for backward, or computed again there for a big input.
    """
    _need_tensors("gelu", x=x)
    flat = x.data.reshape(-1)  # 1-D, so the in-place steps below also work for a 0-d Tensor
    c, k = math.sqrt(2 / math.pi), 0.044715  # Python floats: they take the array's dtype
    keep = flat.size <= kernels.RECOMPUTE_ABOVE
    e, y = np.empty_like(flat) if keep else None, np.empty_like(flat)

    def one_plus_exp(xs, es):  # es = 1 + exp(-2u) = 1 / sigmoid(2u)
        np.multiply(xs, xs, out=es)
        es *= -2 * c * k
        es -= 2 * c
        es *= xs  # -2u
        np.exp(es, out=es)
        es += 1
        return es

    def forward(lo, hi):
        es = one_plus_exp(flat[lo:hi], e[lo:hi] if keep else y[lo:hi])
        np.divide(flat[lo:hi], es, out=y[lo:hi])
    with np.errstate(over="ignore"):  # exp(-2u) = inf for x < -44 gives y = x / inf = 0, as it should
        parallel_for(forward, flat.size, flat.size)

    def backward(g):  # dy/dx = s (1 + x du2 (1 - s)), s = sigmoid(2u) = 1/e, du2 = 2c (1 + 3k x^2)
        gf, d = g.reshape(-1), np.empty_like(flat)

        def rows(lo, hi):
            xs, ds = flat[lo:hi], d[lo:hi]
            es = e[lo:hi] if keep else one_plus_exp(xs, np.empty_like(xs))
            s = np.reciprocal(es, out=None if keep else es)  # sigmoid(2u); the kept e stays as it is
            np.multiply(xs, xs, out=ds)
            ds *= 6 * c * k
            ds += 2 * c
            ds *= xs
            ds *= 1 - s
            ds += 1
            ds *= s
            ds *= gf[lo:hi]
        with np.errstate(over="ignore"):
            parallel_for(rows, flat.size, flat.size)
        accumulate_grad(x, d.reshape(x.shape))
    return Tensor.from_op(y.reshape(x.shape), (x,), backward, "gelu")


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
    p, _ = exp_shifted(np.moveaxis(x.data, axis, -1))
    p /= row_sum(p)

    def backward(g):  # dx = p * (g - sum(g * p))
        gl = np.moveaxis(g, axis, -1)
        dx = gl - row_dot(gl, p)
        dx *= p
        accumulate_grad(x, np.moveaxis(dx, -1, axis))
    return Tensor.from_op(np.moveaxis(p, -1, axis), (x,), backward, "softmax")


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - log(sum(exp(x))) along axis, stable for any magnitude."""
    _need_tensors("log_softmax", x=x)
    X = np.moveaxis(x.data, axis, -1)
    p, shift = exp_shifted(X)
    sums = row_sum(p)
    p /= sums  # softmax, kept for backward
    np.log(sums, out=sums)
    sums += shift
    out = X - sums

    def backward(g):  # dx = g - softmax(x) * sum(g)
        gl = np.moveaxis(g, axis, -1)
        dx = p * -row_sum(gl)
        dx += gl
        accumulate_grad(x, np.moveaxis(dx, -1, axis))
    return Tensor.from_op(np.moveaxis(out, -1, axis), (x,), backward, "log_softmax")


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
    p, shift = exp_shifted(X)
    sums = row_sum(p)
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
        accumulate_grad(logits, dx)
    return Tensor.from_op(np.asarray(loss, dtype=X.dtype), (logits,), backward, "cross_entropy")


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
        accumulate_grad(x, g * mask)
    return Tensor.from_op(x.data * mask, (x,), backward, "dropout")


def _attention_inputs(fn: str, q: Tensor, k: Tensor, v: Tensor | None = None):
    """Check the shapes of q (..., L, D), k (..., S, D), v (..., S, Dv); their batch dims broadcast together.

    Returns q, k, v as arrays viewed with one shared batch shape `lead` (no copies), and the output's batch.
    """
    _need_tensors(fn, q=q, k=k, v=v)
    Q, K = q.data, k.data
    V = v.data if v is not None else K
    if Q.ndim < 2 or Q.shape[-1] != K.shape[-1] or K.shape[-2] != V.shape[-2]:
        raise ValueError(f"{fn}: q {Q.shape}, k {K.shape}, v {V.shape} do not fit: "
                         "need q (..., L, D), k (..., S, D), v (..., S, Dv)")
    try:
        batch = np.broadcast_shapes(Q.shape[:-2], K.shape[:-2], V.shape[:-2])
    except ValueError:
        raise ValueError(f"{fn}: the batch dims of q {Q.shape}, k {K.shape} and v {V.shape} do not broadcast "
                         "together") from None
    lead = batch or (1,)  # 2-D inputs: a batch of one
    Qb, Kb, Vb = (np.broadcast_to(a, lead + a.shape[-2:]) for a in (Q, K, V))  # views, no copies
    return Qb, Kb, Vb, batch


def _attention_softmax(Q: np.ndarray, K: np.ndarray, scale: float, keep: np.ndarray | None,
                       out: np.ndarray) -> None:
    """out = softmax(Q K^T * scale) over the keys, the positions `keep` leaves out at 0 (the causal mask)."""
    qs = Q * scale  # cheaper than scaling the (L, S) scores
    np.matmul(qs, K.swapaxes(-1, -2), out=out)
    exp_shifted(out, keep, out=out)
    out /= row_sum(out)


def attention_weights(q: Tensor, k: Tensor, is_causal: bool = False) -> Tensor:
    """softmax(q k^T / sqrt(D)) for q (..., L, D), k (..., S, D): (..., L, S), each row summing to 1.

    The weights scaled_dot_product_attention multiplies v by (before dropout), by the same code: to look at
    what each position attends to.
    """
    Qb, Kb, _, batch = _attention_inputs("attention_weights", q, k)
    (L, D), S = Qb.shape[-2:], Kb.shape[-2]
    scale = 1.0 / math.sqrt(D)
    P = np.empty(Qb.shape[:-2] + (L, S), np.result_type(Qb, Kb))
    keep = np.tri(L, S, dtype=bool) if is_causal else None

    def forward(lo, hi):
        _attention_softmax(Qb[lo:hi], Kb[lo:hi], scale, keep, P[lo:hi])
    parallel_for(forward, len(P), P.size)

    def backward(g):  # P = softmax(S), S = Q K^T * scale: dS = P * (g - sum(g * P)), dQ = dS K, dK = dS^T Q
        dS = np.broadcast_to(g, P.shape) - row_dot(np.broadcast_to(g, P.shape), P)
        dS *= P
        dS *= scale
        if q.requires_grad:
            accumulate_grad(q, unbroadcast(np.matmul(dS, Kb), q.shape))
        if k.requires_grad:
            accumulate_grad(k, unbroadcast(np.matmul(dS.swapaxes(-1, -2), Qb), k.shape))
    return Tensor.from_op(P.reshape(batch + P.shape[-2:]), (q, k), backward, "attention_weights")


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, dropout_p: float = 0.0,
                                 is_causal: bool = False) -> Tensor:
    """softmax(q k^T / sqrt(D)) v for q (..., L, D), k (..., S, D), v (..., S, Dv), like PyTorch's.

    is_causal masks out keys j > i for query i (the top-left aligned lower triangle, as PyTorch does).
    dropout_p > 0 zeroes each attention weight with that probability and scales the rest by 1/(1 - p), as
    PyTorch does in training (pass 0 in evaluation). Every (batch, head) pair is its own small problem: the
    batch is cut into blocks spread over the cores.
    """
    Qb, Kb, Vb, batch = _attention_inputs("scaled_dot_product_attention", q, k, v)
    if not 0 <= dropout_p <= 1:
        raise ValueError(f"scaled_dot_product_attention: dropout_p must be between 0 and 1, got {dropout_p}")
    (L, D), S, dtype = Qb.shape[-2:], Kb.shape[-2], np.result_type(Qb, Kb, Vb)
    lead = Qb.shape[:-2]
    scale = 1.0 / math.sqrt(D)
    P = np.empty(lead + (L, S), dtype)  # the attention weights, kept for backward
    out = np.empty(lead + (L, Vb.shape[-1]), dtype)
    keep = np.tri(L, S, dtype=bool) if is_causal else None
    if dropout_p > 0:  # drawn here, not in the threads: the generator is not thread-safe
        kept = generator().random(P.shape, dtype=np.float32) >= dropout_p
        drop_scale = 1 / (1 - dropout_p) if dropout_p < 1 else 0.0
        Pd = np.empty_like(P)  # the weights after dropout, which multiply v
    else:
        kept = Pd = None

    def forward(lo, hi):
        _attention_softmax(Qb[lo:hi], Kb[lo:hi], scale, keep, P[lo:hi])
        if Pd is None:
            np.matmul(P[lo:hi], Vb[lo:hi], out=out[lo:hi])
        else:
            np.multiply(P[lo:hi], kept[lo:hi], out=Pd[lo:hi])
            Pd[lo:hi] *= drop_scale
            np.matmul(Pd[lo:hi], Vb[lo:hi], out=out[lo:hi])
    parallel_for(forward, lead[0], P.size)

    def backward(g):  # O = Pd V, Pd = P * mask / (1 - p) (or P), P = softmax(S), S = Q K^T * scale
        gb = np.broadcast_to(g, out.shape)
        dQ, dK, dV = (np.empty(a.shape, dtype) if t.requires_grad else None
                      for a, t in ((Qb, q), (Kb, k), (Vb, v)))

        def rows(lo, hi):
            Pi, gi = P[lo:hi], gb[lo:hi]
            if dV is not None:  # dV = Pd^T dO
                np.matmul((Pi if Pd is None else Pd[lo:hi]).swapaxes(-1, -2), gi, out=dV[lo:hi])
            if dQ is None and dK is None:
                return
            dS = np.matmul(gi, Vb[lo:hi].swapaxes(-1, -2))  # dPd = dO V^T
            if Pd is not None:  # dP = dPd * mask / (1 - p)
                dS *= kept[lo:hi]
                dS *= drop_scale
            dS -= row_dot(dS, Pi)  # dS = P * (dP - sum(dP * P)), without the scale
            dS *= Pi
            for d, a, other in ((dQ, dS, Kb), (dK, dS.swapaxes(-1, -2), Qb)):
                if d is not None:  # dQ = dS K * scale, dK = dS^T Q * scale
                    np.matmul(a, other[lo:hi], out=d[lo:hi])
                    d[lo:hi] *= scale
        parallel_for(rows, lead[0], P.size)
        for t, d in ((q, dQ), (k, dK), (v, dV)):
            if d is not None:
                accumulate_grad(t, unbroadcast(d, t.shape))
    return Tensor.from_op(out.reshape(batch + out.shape[-2:]), (q, k, v), backward, "sdpa")
