"""The Tensor tests' oracle: an op in gradschool and in PyTorch, values and grads compared; random inputs."""

import numpy as np
import torch

from gradschool.tensor import Tensor


def randn(shape, seed=0) -> np.ndarray:
    """Standard normal numbers of this shape, the same for the same seed."""
    return np.random.default_rng(seed).standard_normal(shape)


def positive(shape, seed=0) -> np.ndarray:
    """Numbers of at least 0.5 (inputs of log, sqrt, division)."""
    return np.abs(randn(shape, seed)) + 0.5


TOL = {np.float64: 1e-9, np.float32: 1e-5}  # float64: max abs error; float32: max error relative to the scale


def assert_close(got: np.ndarray, want: np.ndarray, dtype, what: str) -> None:
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if got.size == 0:
        return
    err = np.abs(got.astype(np.float64) - want.astype(np.float64)).max()
    bound = TOL[dtype] * (1.0 if dtype == np.float64 else max(1.0, np.abs(want).max()))
    assert err <= bound, f"{what} ({np.dtype(dtype).name}): max error {err:.3g} > {bound:.3g}"


def check_op(arrays, torch_fn, gs_fn, dtypes=(np.float64, np.float32), grad=True, seed=0) -> None:
    """Compare gs_fn(*Tensors) with torch_fn(*torch tensors): the output and each input's gradient for a
    random upstream gradient, in each dtype."""
    rng = np.random.default_rng(seed)
    for dtype in dtypes:
        xs = [Tensor(a.astype(dtype), requires_grad=grad) for a in arrays]
        out = gs_fn(*xs)
        want_dtype = torch_fn(*[torch.tensor(a.astype(dtype)) for a in arrays]).numpy().dtype
        assert out.dtype == want_dtype, f"output dtype {out.dtype}, PyTorch's is {want_dtype}"
        # the reference: PyTorch in float64 on the same (rounded) inputs, so a float32 result is judged by its
        # distance from the exact answer
        ts = [torch.tensor(a.astype(dtype).astype(np.float64), requires_grad=grad) for a in arrays]
        tout = torch_fn(*ts)
        assert_close(out.data, tout.detach().numpy(), dtype, "forward")
        if not grad:
            continue
        upstream = rng.standard_normal(out.shape).astype(dtype)
        out.backward(upstream)
        tout.backward(torch.tensor(upstream.astype(np.float64)))
        for i, (x, t) in enumerate(zip(xs, ts, strict=True)):
            want = t.grad.numpy() if t.grad is not None else np.zeros(t.shape)
            assert x.grad is not None, f"input {i} got no gradient"
            assert x.grad.dtype == dtype, f"grad {i} dtype {x.grad.dtype}"
            assert_close(x.grad, want, dtype, f"grad of input {i}")


def numerical_grads(fn, arrays, upstream, h=1e-6) -> list[np.ndarray]:
    """Central differences of sum(fn(*arrays) * upstream) in float64, one input element at a time."""
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            old = a[i]
            a[i] = old + h
            up = np.sum(fn(*arrays) * upstream)
            a[i] = old - h
            down = np.sum(fn(*arrays) * upstream)
            a[i] = old
            g[i] = (up - down) / (2 * h)
        grads.append(g)
    return grads


def check_numerically(arrays, gs_fn, seed=0, tol=1e-6) -> None:
    """The engine's float64 gradients against central differences."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    xs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = gs_fn(*xs)
    upstream = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(upstream)

    def value(*arrs):
        return gs_fn(*[Tensor(a) for a in arrs]).data

    for i, (x, want) in enumerate(zip(xs, numerical_grads(value, arrays, upstream), strict=True)):
        err = np.abs(x.grad - want).max() if want.size else 0.0
        bound = tol * max(1.0, np.abs(want).max(initial=0))
        assert err <= bound, f"input {i}: analytic vs numeric error {err:.3g}"
