"""Tensor: reverse-mode autograd over NumPy arrays.

The same idea as the scalar `Value`, one level up: every operation returns a new Tensor that remembers its
inputs (`_prev`) and a small function (`_backward`) that turns the gradient of the output into gradients of
the inputs. `backward()` visits the graph in reverse topological order and calls those functions.

An operation defined outside this file (the fused ops of functional.py, or your own) records itself the
same way: `Tensor.from_op(result, parents, backward, name)`, its backward function handing each parent its
gradient with `accumulate_grad(parent, g)`.

Three rules keep it fast and leak-free:
- a backward function receives the output's gradient as an argument and never captures the output Tensor
  itself, so the graph has no reference cycles and is freed as soon as the last Tensor goes away;
- it only computes gradients for inputs that require them;
- gradients are accumulated in place (`t.grad += g`) once a Tensor owns its gradient array.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from gradschool.tensor.kernels import index_add, stacked_matmul


class _GradMode(threading.local):
    """Whether operations record a graph; one switch per thread, so a no_grad() block in one thread (a web
    request sampling) never turns gradients off for another (a training job)."""

    enabled = True


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Whether operations in this thread record a graph (False inside no_grad())."""
    return _grad_mode.enabled


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Within this block operations record no graph (evaluation, sampling, optimizer updates)."""
    previous, _grad_mode.enabled = _grad_mode.enabled, False
    try:
        yield
    finally:
        _grad_mode.enabled = previous


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `grad` over the axes that broadcasting stretched, so it has `shape` again.

    Broadcasting copies an input along new leading axes and along axes of size 1. Each copy contributed to
    the output, so the input's gradient is the sum of the gradients of all its copies.
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    return grad.sum(axis=axes, keepdims=True).reshape(shape)


def accumulate_grad(t: Tensor, g: np.ndarray) -> None:
    """Add g to t.grad, for a backward function; the first gradient is stored as is, not copied, so g must
    not be shared with another Tensor."""
    if g.dtype != t.data.dtype:
        g = g.astype(t.data.dtype)
    if t.grad is None:
        t.grad = g if type(g) is np.ndarray else np.asarray(g)
    else:
        t.grad += g


def _accumulate_at(t: Tensor, index, g: np.ndarray, basic: bool) -> None:
    """Add g into t.grad[index]; integer-array indices may repeat, so they scatter-add."""
    if t.grad is None:
        t.grad = np.zeros(t.data.shape, dtype=t.data.dtype)
    if basic:
        t.grad[index] += g
    elif (isinstance(index, np.ndarray) and index.dtype.kind in "iu" and index.size
          and t.grad.flags.c_contiguous):
        index_add(t.grad.reshape(len(t.grad), -1), index.reshape(-1), g.reshape(index.size, -1))
    else:
        np.add.at(t.grad, index, g)


def _refuse_non_numbers(data, what: str) -> None:
    """Raise TypeError for None, alone or in a list: NumPy would quietly turn it into NaN."""
    if data is None or (isinstance(data, (list, tuple)) and any(
            x is None for x in np.asarray(data, dtype=object).flat)):
        shown = repr(data) if len(repr(data)) < 60 else repr(data)[:57] + "..."
        raise TypeError(f"{what}, got {type(data).__name__} {shown} (None has no value; give a number)")


def _freed(g: np.ndarray) -> None:
    raise RuntimeError(
        "backward() through this graph a second time: its buffers were freed by the first backward(). "
        "Call backward(retain_graph=True) the first time if you need to go through it twice."
    )


def _as_index(index):
    """Turn Tensors and lists inside an index into ndarrays; report whether it is basic (slices/ints only)."""
    parts = index if isinstance(index, tuple) else (index,)
    parts = tuple(p.data if isinstance(p, Tensor) else np.asarray(p) if isinstance(p, list) else p
                  for p in parts)
    basic = all(p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer))
                and not isinstance(p, bool) for p in parts)
    return (parts if isinstance(index, tuple) else parts[0]), basic


def _reduced_axes(ndim: int, axis) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(a % ndim for a in axes)


def _expand_reduced(g: np.ndarray, ndim: int, axis, keepdims: bool) -> np.ndarray:
    """Put back the axes a reduction removed, so g broadcasts against the input."""
    if keepdims or axis is None:
        return g
    return np.expand_dims(g, _reduced_axes(ndim, axis))


class Tensor:
    """An n-dimensional array with a gradient. float32 unless asked otherwise."""

    __array_ufunc__ = None  # make `ndarray + Tensor` call Tensor.__radd__ instead of looping in NumPy

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        elif not isinstance(data, (np.ndarray, np.generic)):
            _refuse_non_numbers(data, "a Tensor holds numbers")
        if dtype is not None:
            data = np.asarray(data, dtype=dtype)
        elif isinstance(data, (np.ndarray, np.generic)):
            data = np.asarray(data)  # ndarrays keep their dtype and are not copied
        else:
            data = np.asarray(data, dtype=np.float32)  # Python numbers and lists
        if requires_grad and data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point Tensors can require gradients, got dtype {data.dtype}; "
                "create it with dtype=np.float32 (or float64) if it is a parameter"
            )
        self.data: np.ndarray = data
        self.grad: np.ndarray | None = None
        self.requires_grad = requires_grad
        self._prev: tuple[Tensor, ...] = ()
        self._backward: Callable[[np.ndarray], None] | None = None
        self._op = ""

    @staticmethod
    def from_op(data, parents: tuple[Tensor, ...], backward: Callable[[np.ndarray], None], op: str) -> Tensor:
        """The result of an operation on parents, recorded in the graph only if one needs a gradient.

        backward(g) receives d(loss)/d(result) and calls accumulate_grad(parent, ...) for each parent that
        requires a gradient; it must not capture the result itself (no reference cycles).
        """
        out = Tensor.__new__(Tensor)
        out.data = data if type(data) is np.ndarray else np.asarray(data)
        out.grad = None
        out._op = op
        if _grad_mode.enabled and any(p.requires_grad for p in parents):
            out.requires_grad = True
            out._prev = tuple(p for p in parents if p.requires_grad)
            out._backward = backward
        else:
            out.requires_grad = False
            out._prev = ()
            out._backward = None
        return out

    def _lift(self, other) -> Tensor:
        """Wrap a number or array as a constant Tensor; numbers and int arrays take a float Tensor's dtype."""
        if isinstance(other, Tensor):
            return other
        arr = np.asarray(other)
        if arr.dtype.kind == "O":
            _refuse_non_numbers(other, "a Tensor combines with numbers, arrays and Tensors")
        if self.data.dtype.kind == "f" and (not isinstance(other, np.ndarray) or arr.dtype.kind in "biu"):
            arr = arr.astype(self.data.dtype)
        return Tensor(arr)

    # ---- properties -------------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def parents(self) -> tuple[Tensor, ...]:
        """The inputs of the operation that made this Tensor and need a gradient (() for a leaf)."""
        return self._prev

    @property
    def T(self) -> Tensor:
        """All axes reversed (for a matrix: the transpose)."""
        return self.permute(*reversed(range(self.ndim)))

    def item(self) -> float:
        return self.data.item()

    def numpy(self) -> np.ndarray:
        return self.data

    def detach(self) -> Tensor:
        """The same data, cut off from the graph."""
        return Tensor(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __float__(self) -> float:
        return float(self.data.item())

    def __bool__(self) -> bool:
        """Truth of a one-element Tensor (`if loss < 2:`); more elements are ambiguous, as in NumPy."""
        return bool(self.data)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({np.array2string(self.data, precision=4, separator=', ')}, dtype={self.dtype}{grad})"

    # ---- backward ---------------------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Fill .grad of every leaf that requires a gradient with d(self)/d(leaf); leaf grads accumulate."""
        if not self.requires_grad:
            raise RuntimeError("backward() on a Tensor that does not require grad (no input had "
                               "requires_grad=True, or it was computed under no_grad())")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(f"backward() without a gradient works only for a single number, but this "
                                   f"Tensor has shape {self.shape}; reduce it first (e.g. .sum() or .mean()) "
                                   f"or pass grad= an array of shape {self.shape}")
            grad = np.ones_like(self.data)
        else:
            grad = np.array(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)  # a copy
            if grad.shape != self.shape:
                raise ValueError(f"backward(grad) needs grad of shape {self.shape}, got {grad.shape}")
        topo, visited, stack = [], set(), [(self, False)]
        while stack:  # iterative depth-first search: children are appended before their parents
            node, children_done = stack.pop()
            if children_done:
                topo.append(node)
            elif id(node) not in visited:
                visited.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in node._prev if id(p) not in visited)
        accumulate_grad(self, grad)
        for node in reversed(topo):
            if node._backward is None:  # a leaf: keep its gradient
                continue
            g, node.grad = node.grad, None  # intermediates keep no gradient (like PyTorch)
            if g is not None:
                node._backward(g)
            if not retain_graph:
                node._prev, node._backward = (), _freed

    # ---- elementwise arithmetic -------------------------------------------------------------------------
    def _binary(self, other, fn, op: str) -> tuple[Tensor, Tensor, np.ndarray]:
        a, b = self, self._lift(other)
        try:
            return a, b, fn(a.data, b.data)
        except ValueError:
            try:
                np.broadcast_shapes(a.shape, b.shape)
            except ValueError:
                raise ValueError(f"'{op}': shapes {a.shape} and {b.shape} cannot be broadcast together; each "
                                 "dimension must be equal or 1 (counting from the right)") from None
            raise

    def __add__(self, other) -> Tensor:
        a, b, data = self._binary(other, np.add, "+")

        def backward(g):  # d(a+b)/da = d(a+b)/db = 1
            ga = unbroadcast(g, a.shape) if a.requires_grad else None
            if b.requires_grad:
                gb = unbroadcast(g, b.shape)
                accumulate_grad(b, gb.copy() if gb is ga else gb)  # never hand one array to two Tensors
            if ga is not None:
                accumulate_grad(a, ga)
        return Tensor.from_op(data, (a, b), backward, "+")

    def __sub__(self, other) -> Tensor:
        a, b, data = self._binary(other, np.subtract, "-")

        def backward(g):  # d(a-b)/da = 1, d(a-b)/db = -1
            if a.requires_grad:
                accumulate_grad(a, unbroadcast(g, a.shape))
            if b.requires_grad:
                accumulate_grad(b, unbroadcast(-g, b.shape))
        return Tensor.from_op(data, (a, b), backward, "-")

    def __mul__(self, other) -> Tensor:
        a, b, data = self._binary(other, np.multiply, "*")

        def backward(g):  # d(ab)/da = b, d(ab)/db = a
            if a.requires_grad:
                accumulate_grad(a, unbroadcast(g * b.data, a.shape))
            if b.requires_grad:
                accumulate_grad(b, unbroadcast(g * a.data, b.shape))
        return Tensor.from_op(data, (a, b), backward, "*")

    def __truediv__(self, other) -> Tensor:
        a, b, data = self._binary(other, np.divide, "/")

        def backward(g):  # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -(a/b)/b
            ga = g / b.data
            if b.requires_grad:
                accumulate_grad(b, unbroadcast(-ga * data, b.shape))
            if a.requires_grad:
                accumulate_grad(a, unbroadcast(ga, a.shape))
        return Tensor.from_op(data, (a, b), backward, "/")

    def __pow__(self, exponent) -> Tensor:
        if isinstance(exponent, (int, float)):
            x, n = self, exponent
            data = x.data * x.data if n == 2 else x.data ** n

            def backward(g):  # d(x^n)/dx = n x^(n-1)
                accumulate_grad(x, g * (2 * x.data if n == 2 else n * x.data ** (n - 1)))
            return Tensor.from_op(data, (x,), backward, f"**{n}")
        a, b, data = self._binary(exponent, np.power, "**")

        def backward_tensor(g):  # d(a^b)/da = b a^(b-1), d(a^b)/db = a^b log(a)
            if a.requires_grad:
                accumulate_grad(a, unbroadcast(g * b.data * a.data ** (b.data - 1), a.shape))
            if b.requires_grad:
                accumulate_grad(b, unbroadcast(g * data * np.log(a.data), b.shape))
        return Tensor.from_op(data, (a, b), backward_tensor, "**")

    def __neg__(self) -> Tensor:
        x = self

        def backward(g):  # d(-x)/dx = -1
            accumulate_grad(x, -g)
        return Tensor.from_op(-x.data, (x,), backward, "neg")

    def __radd__(self, other) -> Tensor:
        return self + other

    def __rsub__(self, other) -> Tensor:
        return self._lift(other) - self

    def __rmul__(self, other) -> Tensor:
        return self * other

    def __rtruediv__(self, other) -> Tensor:
        return self._lift(other) / self

    def __rpow__(self, other) -> Tensor:
        return self._lift(other) ** self

    # ---- comparisons: boolean masks, no gradient --------------------------------------------------------
    def __lt__(self, other) -> Tensor:
        return Tensor(self._binary(other, np.less, "<")[2])

    def __le__(self, other) -> Tensor:
        return Tensor(self._binary(other, np.less_equal, "<=")[2])

    def __gt__(self, other) -> Tensor:
        return Tensor(self._binary(other, np.greater, ">")[2])

    def __ge__(self, other) -> Tensor:
        return Tensor(self._binary(other, np.greater_equal, ">=")[2])

    def eq(self, other) -> Tensor:
        """Elementwise ==, as a boolean mask (`==` stays identity, so Tensors work in sets and lists)."""
        return Tensor(self._binary(other, np.equal, "eq")[2])

    def ne(self, other) -> Tensor:
        """Elementwise !=, as a boolean mask."""
        return Tensor(self._binary(other, np.not_equal, "ne")[2])

    # ---- elementwise functions --------------------------------------------------------------------------
    def exp(self) -> Tensor:
        x, data = self, np.exp(self.data)

        def backward(g):  # d(e^x)/dx = e^x
            accumulate_grad(x, g * data)
        return Tensor.from_op(data, (x,), backward, "exp")

    def log(self) -> Tensor:
        x = self

        def backward(g):  # d(log x)/dx = 1/x
            accumulate_grad(x, g / x.data)
        return Tensor.from_op(np.log(x.data), (x,), backward, "log")

    def sqrt(self) -> Tensor:
        x, data = self, np.sqrt(self.data)

        def backward(g):  # d(sqrt x)/dx = 1/(2 sqrt x)
            accumulate_grad(x, g * 0.5 / data)
        return Tensor.from_op(data, (x,), backward, "sqrt")

    def tanh(self) -> Tensor:
        x, data = self, np.tanh(self.data)

        def backward(g):  # d(tanh x)/dx = 1 - tanh(x)^2
            accumulate_grad(x, g * (1 - data * data))
        return Tensor.from_op(data, (x,), backward, "tanh")

    def sigmoid(self) -> Tensor:
        x = self
        data = np.tanh(0.5 * x.data)  # sigmoid(x) = (1 + tanh(x/2)) / 2, which never overflows
        data += 1
        data *= 0.5

        def backward(g):  # d(sigmoid x)/dx = s (1 - s)
            accumulate_grad(x, g * data * (1 - data))
        return Tensor.from_op(data, (x,), backward, "sigmoid")

    def relu(self) -> Tensor:
        x, data = self, np.maximum(self.data, 0)

        def backward(g):  # d(relu x)/dx = 1 if x > 0 else 0
            accumulate_grad(x, g * (data > 0))
        return Tensor.from_op(data, (x,), backward, "relu")

    def gelu(self) -> Tensor:
        """GELU with the tanh approximation of GPT-2 (fused: gradschool.tensor.functional.gelu)."""
        from gradschool.tensor.functional import gelu
        return gelu(self)

    def maximum(self, other) -> Tensor:
        """Elementwise max; on ties the gradient is split evenly, as in PyTorch."""
        a, b, data = self._binary(other, np.maximum, "maximum")

        def backward(g):  # d max(a,b)/da = 1 where a > b, 1/2 where a == b, 0 elsewhere
            share = (a.data > b.data) + 0.5 * (a.data == b.data)
            if a.requires_grad:
                accumulate_grad(a, unbroadcast(g * share, a.shape))
            if b.requires_grad:
                accumulate_grad(b, unbroadcast(g * (1 - share), b.shape))
        return Tensor.from_op(data, (a, b), backward, "maximum")

    def clip(self, lo: float | None = None, hi: float | None = None) -> Tensor:
        """Clamp into [lo, hi]; the gradient passes where lo <= x <= hi (like torch.clamp)."""
        x = self
        data = np.clip(x.data, lo, hi)

        def backward(g):  # d clip(x)/dx = 1 inside [lo, hi], 0 outside
            inside = np.ones(x.shape, dtype=bool)
            if lo is not None:
                inside &= x.data >= lo
            if hi is not None:
                inside &= x.data <= hi
            accumulate_grad(x, g * inside)
        return Tensor.from_op(data, (x,), backward, "clip")

    def masked_fill(self, mask, value: float) -> Tensor:
        """Where mask is True put value; elsewhere keep x. The mask broadcasts against x."""
        x, m = self, np.asarray(mask.data if isinstance(mask, Tensor) else mask, dtype=bool)
        try:
            data = np.where(m, np.asarray(value, dtype=x.dtype), x.data)
        except ValueError:
            data = None
        if data is None or data.shape != x.shape:
            raise ValueError(f"masked_fill: mask of shape {m.shape} cannot be broadcast to {x.shape}")

        def backward(g):  # filled positions are constants: gradient 0 there, 1 elsewhere
            accumulate_grad(x, np.where(m, 0, g))
        return Tensor.from_op(data, (x,), backward, "masked_fill")

    def astype(self, dtype) -> Tensor:
        """A copy in another float dtype (float32 <-> float64); the gradient is cast back."""
        x = self

        def backward(g):  # the identity, up to rounding
            accumulate_grad(x, g.astype(x.dtype))
        return Tensor.from_op(x.data.astype(dtype), (x,), backward, "astype")

    # ---- reductions -------------------------------------------------------------------------------------
    def sum(self, axis=None, keepdims: bool = False) -> Tensor:
        x = self

        def backward(g):  # every input element contributes once: copy g back over the reduced axes
            full = np.empty(x.shape, dtype=g.dtype)
            full[...] = _expand_reduced(g, x.ndim, axis, keepdims)
            accumulate_grad(x, full)
        return Tensor.from_op(np.sum(x.data, axis=axis, keepdims=keepdims), (x,), backward, "sum")

    def mean(self, axis=None, keepdims: bool = False) -> Tensor:
        x = self
        n = int(np.prod([x.shape[a] for a in _reduced_axes(x.ndim, axis)]))

        def backward(g):  # each element contributes 1/n
            full = np.empty(x.shape, dtype=g.dtype)
            full[...] = _expand_reduced(g, x.ndim, axis, keepdims)
            full /= n
            accumulate_grad(x, full)
        return Tensor.from_op(np.mean(x.data, axis=axis, keepdims=keepdims), (x,), backward, "mean")

    def max(self, axis=None, keepdims: bool = False) -> Tensor:
        """Maximum over axis; ties share the gradient evenly (like torch.amax)."""
        x = self
        data = np.max(x.data, axis=axis, keepdims=keepdims)

        def backward(g):  # the gradient goes to the position(s) holding the maximum
            top = _expand_reduced(data, x.ndim, axis, keepdims)
            hit = x.data == top
            share = hit / np.sum(hit, axis=axis, keepdims=True)
            accumulate_grad(x, share * _expand_reduced(g, x.ndim, axis, keepdims))
        return Tensor.from_op(data, (x,), backward, "max")

    def var(self, axis=None, keepdims: bool = False, correction: int = 1) -> Tensor:
        """Variance sum((x - mean)^2) / (n - correction): correction=1 (unbiased) as torch, 0 as NumPy."""
        x = self
        n = int(np.prod([x.shape[a] for a in _reduced_axes(x.ndim, axis)]))
        centered = x.data - np.mean(x.data, axis=axis, keepdims=True)
        data = np.sum(centered * centered, axis=axis, keepdims=keepdims) / (n - correction)

        def backward(g):  # d var/dx = 2 (x - mean) / (n - correction)
            scale = _expand_reduced(g, x.ndim, axis, keepdims) * (2 / (n - correction))
            accumulate_grad(x, centered * scale)
        return Tensor.from_op(data, (x,), backward, "var")

    # ---- matrix multiplication --------------------------------------------------------------------------
    def __matmul__(self, other) -> Tensor:
        a, b = self, self._lift(other)
        try:
            data = stacked_matmul(a.data, b.data)
        except ValueError:
            raise _matmul_error(a.shape, b.shape) from None

        def backward(g):  # C = A B: dA = dC B^T, dB = A^T dC (summed over broadcast batch dims)
            A = a.data[None, :] if a.ndim == 1 else a.data  # treat vectors as 1-row / 1-column matrices
            B = b.data[:, None] if b.ndim == 1 else b.data
            if b.ndim == 1:
                g = g[..., None]
            if a.ndim == 1:
                g = g[..., None, :]
            if a.requires_grad:
                dA = stacked_matmul(g, B.swapaxes(-1, -2))
                accumulate_grad(a, unbroadcast(dA, A.shape).reshape(a.shape))
            if b.requires_grad:
                dB = stacked_matmul(A.swapaxes(-1, -2), g)
                accumulate_grad(b, unbroadcast(dB, B.shape).reshape(b.shape))
        return Tensor.from_op(data, (a, b), backward, "@")

    def __rmatmul__(self, other) -> Tensor:
        return self._lift(other) @ self

    def matmul(self, other) -> Tensor:
        return self @ other

    # ---- shape operations -------------------------------------------------------------------------------
    def reshape(self, *shape) -> Tensor:
        x = self
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        try:
            data = x.data.reshape(shape)
        except ValueError:
            raise ValueError(f"cannot reshape a Tensor of shape {x.shape} ({x.data.size} elements) "
                             f"into shape {tuple(shape)}") from None

        def backward(g):  # same numbers, old shape
            accumulate_grad(x, g.reshape(x.shape))
        return Tensor.from_op(data, (x,), backward, "reshape")

    view = reshape

    def permute(self, *dims) -> Tensor:
        x = self
        dims = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        inverse = tuple(np.argsort(dims))

        def backward(g):  # undo the permutation
            accumulate_grad(x, g.transpose(inverse))
        return Tensor.from_op(x.data.transpose(dims), (x,), backward, "permute")

    def transpose(self, a: int = -2, b: int = -1) -> Tensor:
        """Swap two axes (by default the last two)."""
        dims = list(range(self.ndim))
        dims[a], dims[b] = dims[b], dims[a]
        return self.permute(*dims)

    def split(self, size: int | Sequence[int], axis: int = 0) -> list[Tensor]:
        """Pieces of `size` along axis (the last may be smaller), or pieces of the listed sizes."""
        x = self
        n = x.shape[axis]
        sizes = [min(size, n - i) for i in range(0, n, size)] if isinstance(size, int) else list(size)
        if sum(sizes) != n:
            raise ValueError(f"split sizes {sizes} add up to {sum(sizes)}, but axis {axis} has length {n}")
        pieces, start = [], 0
        for s in sizes:
            index = (slice(None),) * (axis % x.ndim) + (slice(start, start + s),)

            def backward(g, index=index):  # the piece's gradient lands in its slice of x
                _accumulate_at(x, index, g, basic=True)
            pieces.append(Tensor.from_op(x.data[index], (x,), backward, "split"))
            start += s
        return pieces

    def __getitem__(self, index) -> Tensor:
        x = self
        index, basic = _as_index(index)
        try:
            data = x.data[index]
        except IndexError as e:
            raise IndexError(f"index into a Tensor of shape {x.shape}: {e}") from None

        def backward(g):  # scatter g back to the positions read; repeated positions add up
            _accumulate_at(x, index, g, basic)
        return Tensor.from_op(data, (x,), backward, "index")

    # ---- functions that are also methods, as in PyTorch -------------------------------------------------
    def softmax(self, axis: int = -1) -> Tensor:
        from gradschool.tensor.functional import softmax
        return softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        from gradschool.tensor.functional import log_softmax
        return log_softmax(self, axis)


def _matmul_error(sa: tuple[int, ...], sb: tuple[int, ...]) -> ValueError:
    if len(sa) == 0 or len(sb) == 0:
        return ValueError(f"matmul needs at least 1-D Tensors, got shapes {sa} and {sb}; use * for scalars")
    ka, kb = sa[-1], sb[-2] if len(sb) > 1 else sb[-1]
    which = "second-to-last" if len(sb) > 1 else "only"
    if ka != kb:
        return ValueError(f"matmul: shapes {sa} and {sb} do not line up: the last dim of the first ({ka}) "
                          f"must equal the {which} dim of the second ({kb})")
    return ValueError(f"matmul: the batch dims of shapes {sa} and {sb} cannot be broadcast together")


def where(cond, a, b) -> Tensor:
    """Elementwise `a if cond else b`, with broadcasting; the gradient flows to the branch taken."""
    c = np.asarray(cond.data if isinstance(cond, Tensor) else cond, dtype=bool)
    a = a if isinstance(a, Tensor) else (b._lift(a) if isinstance(b, Tensor) else Tensor(a))
    b = a._lift(b)
    try:
        data = np.where(c, a.data, b.data)
    except ValueError:
        raise ValueError(f"where: shapes {c.shape}, {a.shape} and {b.shape} cannot be broadcast together"
                         ) from None

    def backward(g):  # d/da = cond, d/db = not cond
        if a.requires_grad:
            accumulate_grad(a, unbroadcast(np.where(c, g, 0), a.shape))
        if b.requires_grad:
            accumulate_grad(b, unbroadcast(np.where(c, 0, g), b.shape))
    return Tensor.from_op(data, (a, b), backward, "where")


def cat(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join Tensors along an existing axis."""
    tensors = tuple(tensors)
    try:
        data = np.concatenate([t.data for t in tensors], axis=axis)
    except ValueError:
        raise ValueError(f"cat along axis {axis}: shapes {[t.shape for t in tensors]} must agree "
                         "on every other axis") from None
    bounds = np.cumsum([0] + [t.shape[axis] for t in tensors])

    def backward(g):  # each input gets back its own slice of g
        for t, lo, hi in zip(tensors, bounds[:-1], bounds[1:], strict=True):
            if t.requires_grad:
                accumulate_grad(t, g[(slice(None),) * (axis % g.ndim) + (slice(lo, hi),)])
    return Tensor.from_op(data, tensors, backward, "cat")


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join same-shape Tensors along a new axis."""
    tensors = tuple(tensors)
    try:
        data = np.stack([t.data for t in tensors], axis=axis)
    except ValueError:
        raise ValueError(f"stack needs Tensors of one shape, got {[t.shape for t in tensors]}") from None

    def backward(g):  # each input gets back its own slice of g
        for i, t in enumerate(tensors):
            if t.requires_grad:
                accumulate_grad(t, np.take(g, i, axis=axis))
    return Tensor.from_op(data, tensors, backward, "stack")
