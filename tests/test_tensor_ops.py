"""Every Tensor op, forward and backward, against PyTorch (float64 and float32) and central differences."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes
from strategies import matmul_shapes, pair_shapes, shape_and_axis, shapes
from tensor_check import check_numerically, check_op, positive, randn

from gradschool.tensor import Tensor, cat, stack, where
from gradschool.tensor.kernels import index_add

SETTINGS = settings(max_examples=30)


BINARY = {
    "add": (lambda a, b: a + b, randn),
    "sub": (lambda a, b: a - b, randn),
    "mul": (lambda a, b: a * b, randn),
    "div": (lambda a, b: a / b, positive),
    "pow": (lambda a, b: a ** b, positive),
    "maximum": (None, randn),
}


@pytest.mark.parametrize("name", BINARY)
@SETTINGS
@given(s=pair_shapes)
def test_binary_ops_broadcast(name, s):
    fn, make = BINARY[name]
    a, b = make(s.input_shapes[0], 1), make(s.input_shapes[1], 2)
    if name == "maximum":
        check_op([a, b], torch.maximum, lambda x, y: x.maximum(y))
    else:
        check_op([a, b], fn, fn)


def test_broadcast_column_with_row():
    a, b = randn((3, 1), 1), randn((1, 4), 2)
    for fn in (lambda x, y: x + y, lambda x, y: x * y, lambda x, y: x - y, lambda x, y: x / (y * y + 1)):
        check_op([a, b], fn, fn)
        check_numerically([a, b], fn)


def test_same_tensor_on_both_sides():
    check_op([randn((2, 3))], lambda x: x + x, lambda x: x + x)
    check_op([randn((2, 3))], lambda x: x * x - x / (x * x + 1), lambda x: x * x - x / (x * x + 1))


def test_numbers_and_arrays_as_operands():
    c = randn((3,), 5)
    def fn(x, c):
        return (2.0 - x) * 3 + 1 / (x * x + 1) - x / 4 + 2 ** x + c * x
    check_op([randn((2, 3))], lambda x: fn(x, torch.tensor(c)), lambda x: fn(x, c))
    assert (Tensor([1.0, 2.0]) * 0.1).dtype == np.float32  # Python numbers take the Tensor's dtype
    assert (Tensor(np.ones(2)) + np.arange(2)).dtype == np.float64
    assert (Tensor(np.float32(2.0)) * np.float64(0.5)).dtype == np.float32  # NumPy scalars too
    np.testing.assert_array_equal((Tensor(np.arange(3)) * 0.5).data, [0.0, 0.5, 1.0])  # not truncated


UNARY = {
    "neg": (lambda x: -x, lambda x: -x, randn),
    "exp": (torch.exp, Tensor.exp, randn),
    "log": (torch.log, Tensor.log, positive),
    "sqrt": (torch.sqrt, Tensor.sqrt, positive),
    "tanh": (torch.tanh, Tensor.tanh, randn),
    "relu": (torch.relu, Tensor.relu, randn),
    "sigmoid": (torch.sigmoid, Tensor.sigmoid, randn),
    "gelu": (lambda x: torch.nn.functional.gelu(x, approximate="tanh"), Tensor.gelu, randn),
    "square": (lambda x: x ** 2, lambda x: x ** 2, randn),
    "cube": (lambda x: x ** 3, lambda x: x ** 3, randn),
    "power_half": (lambda x: x ** 0.5, lambda x: x ** 0.5, positive),
    "clip": (lambda x: x.clamp(-0.5, 0.7), lambda x: x.clip(-0.5, 0.7), randn),
    "clip_low": (lambda x: x.clamp(min=0.1), lambda x: x.clip(0.1), randn),
}


@pytest.mark.parametrize("name", UNARY)
@SETTINGS
@given(shape=shapes)
def test_unary_ops(name, shape):
    torch_fn, gs_fn, make = UNARY[name]
    check_op([make(shape) * 3 if make is randn else make(shape)], torch_fn, gs_fn)


@pytest.mark.parametrize("name", ["exp", "log", "tanh", "sigmoid", "gelu", "clip", "power_half"])
def test_unary_numerically(name):
    _, gs_fn, make = UNARY[name]
    check_numerically([make((3, 4))], gs_fn)


def test_sigmoid_and_tanh_saturate_without_nan():
    x = Tensor(np.array([-1e4, -50.0, 0.0, 50.0, 1e4]), requires_grad=True)
    y = x.sigmoid() + x.tanh()
    y.sum().backward()
    assert np.isfinite(y.data).all() and np.isfinite(x.grad).all()
    np.testing.assert_allclose(x.sigmoid().data, [0, 0, 0.5, 1, 1], atol=1e-12)


@SETTINGS
@given(s=mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, min_side=0, max_side=3))
def test_where_broadcast(s):
    cond = randn(s.input_shapes[0], 3) > 0
    check_op([randn(s.input_shapes[1], 1), randn(s.input_shapes[2], 2)],
             lambda a, b: torch.where(torch.tensor(cond), a, b), lambda a, b: where(cond, a, b))


@SETTINGS
@given(s=mutually_broadcastable_shapes(num_shapes=1, min_dims=1, max_dims=3, min_side=1, max_side=4))
def test_masked_fill(s):
    x = randn(s.result_shape)
    mask = randn(s.input_shapes[0], 4) > 0
    check_op([x], lambda t: t.masked_fill(torch.tensor(mask), -3.0), lambda t: t.masked_fill(mask, -3.0))


def test_comparisons_are_masks_without_gradient():
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    for got, want in [(a < 2, [1, 0, 0]), (a <= 2, [1, 1, 0]), (a > 2, [0, 0, 1]), (a >= 2, [0, 1, 1]),
                      (a.eq(2), [0, 1, 0]), (a.ne(2), [1, 0, 1])]:
        assert got.dtype == bool and not got.requires_grad
        np.testing.assert_array_equal(got.data, np.array(want, dtype=bool))
    assert bool(Tensor(3.0) > 2) and not Tensor([1.0]) > 2
    with pytest.raises(ValueError, match="ambiguous"):
        bool(a > 1)


def torch_dims(shape, axis):
    """PyTorch's dim for our axis: None (all axes) becomes every axis."""
    return axis if axis is not None else tuple(range(len(shape)))


# (our reduction, torch's name for it, smallest side: mean and max of an empty axis are undefined)
REDUCTIONS = [("sum", "sum", 0), ("mean", "mean", 1), ("max", "amax", 1)]


@pytest.mark.parametrize("ours, theirs, min_side", REDUCTIONS)
def test_reduction(ours, theirs, min_side):
    @SETTINGS
    @given(sak=shape_and_axis(min_side=min_side))
    def check(sak):
        shape, axis, keep = sak
        dim = torch_dims(shape, axis)
        check_op([randn(shape)], lambda t: getattr(t, theirs)(dim=dim, keepdim=keep),
                 lambda t: getattr(t, ours)(axis=axis, keepdims=keep))
    check()


@SETTINGS
@given(sak=shape_and_axis(min_side=2), correction=st.sampled_from([0, 1]))
def test_var(sak, correction):
    shape, axis, keep = sak
    dim = torch_dims(shape, axis)
    check_op([randn(shape)], lambda t: t.var(dim=dim, keepdim=keep, correction=correction),
             lambda t: t.var(axis=axis, keepdims=keep, correction=correction))


def test_reductions_numerically():
    x = [randn((3, 4))]
    check_numerically(x, lambda t: t.sum(axis=0))
    check_numerically(x, lambda t: t.mean(axis=1, keepdims=True))
    check_numerically(x, lambda t: t.max(axis=1))
    check_numerically(x, lambda t: t.var(axis=(0, 1)))


def test_max_splits_gradient_between_ties_like_amax():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    check_op([x], lambda t: t.amax(dim=1), lambda t: t.max(axis=1))
    check_op([x], lambda t: t.amax(), lambda t: t.max())
    check_op([x], lambda a: torch.maximum(a, torch.tensor(2.0, dtype=a.dtype)), lambda a: a.maximum(2.0))


@SETTINGS
@given(ab=matmul_shapes())
def test_matmul(ab):
    check_op([randn(ab[0], 1), randn(ab[1], 2)], torch.matmul, lambda a, b: a @ b)


def test_matmul_numerically():
    check_numerically([randn((2, 3, 4), 1), randn((4, 2), 2)], lambda a, b: a @ b)
    check_numerically([randn((4,), 1), randn((2, 4, 3), 2)], lambda a, b: a @ b)


@SETTINGS
@given(shape=shapes, data=st.data())
def test_reshape_and_view(shape, data):
    size = int(np.prod(shape))
    new = (size,) if size == 0 else data.draw(st.sampled_from([(size,), (1, size), (size, 1), (-1,)]))
    check_op([randn(shape)], lambda t: t.reshape(new), lambda t: t.reshape(*new))
    check_op([randn(shape)], lambda t: t.view(new), lambda t: t.view(new))


@SETTINGS
@given(shape=array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=4), data=st.data())
def test_permute_transpose_T(shape, data):
    dims = tuple(data.draw(st.permutations(range(len(shape)))))
    check_op([randn(shape)], lambda t: t.permute(dims), lambda t: t.permute(*dims))
    check_op([randn(shape)], lambda t: t.permute(*reversed(range(t.ndim))), lambda t: t.T)
    if len(shape) >= 2:
        check_op([randn(shape)], lambda t: t.transpose(0, -1), lambda t: t.transpose(0, -1))


def test_split():
    x = randn((3, 7, 2))
    check_op([x], lambda t: torch.cat([p * (i + 1) for i, p in enumerate(t.split(3, dim=1))], 1),
             lambda t: cat([p * (i + 1) for i, p in enumerate(t.split(3, axis=1))], 1))
    check_op([x], lambda t: t.split([1, 2], dim=0)[1], lambda t: t.split([1, 2], axis=0)[1])


@SETTINGS
@given(shape=array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3), n=st.integers(1, 3),
       data=st.data())
def test_cat_and_stack(shape, n, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    arrays = [randn(shape, i) for i in range(n)]
    check_op(arrays, lambda *ts: torch.cat(ts, axis), lambda *ts: cat(ts, axis))
    check_op(arrays, lambda *ts: torch.stack(ts, axis), lambda *ts: stack(ts, axis))


INDICES = [
    np.s_[1], np.s_[-1], np.s_[1:3], np.s_[:, -1, :], np.s_[..., 0], np.s_[None, 2], np.s_[::2, 1:],
    np.s_[[0, 2, 2, 3]], np.s_[[3, 3, 3]], np.s_[:, [0, 0, 1]], np.s_[[0, 1], [2, 2]],
]


@pytest.mark.parametrize("index", INDICES, ids=str)
def test_indexing(index):
    def torch_index(i):
        if isinstance(i, tuple):
            return tuple(torch_index(j) for j in i)
        return torch.tensor(i) if isinstance(i, list) else i
    check_op([randn((4, 3, 2))], lambda t: t[torch_index(index)], lambda t: t[index])


def test_repeated_indices_accumulate():
    x = Tensor(np.zeros(4), requires_grad=True)
    x[np.array([1, 1, 1, 3])].sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 3, 0, 1])
    idx = Tensor(np.array([[0, 0], [2, 0]]))  # an integer Tensor works as an index too
    y = Tensor(np.ones((3, 2)), requires_grad=True)
    (y[idx] * 2).sum().backward()
    np.testing.assert_array_equal(y.grad, [[6, 6], [0, 0], [2, 2]])


# a small table is updated by a one-hot matrix product, a big one by np.add.at
@pytest.mark.parametrize("rows", [7, 5000])
def test_index_add_both_ways(rows):
    rng = np.random.default_rng(0)
    ids, values = rng.integers(-rows, rows, size=1000), rng.standard_normal((1000, 3))
    want = np.zeros((rows, 3))
    for i, v in zip(ids, values, strict=True):
        want[i] += v
    got = np.zeros((rows, 3))
    index_add(got, ids, values)
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_astype_round_trip():
    check_op([randn((2, 3))], lambda t: (t.float() * 3).double() if t.dtype == torch.float64 else t * 3,
             lambda t: (t.astype(np.float32) * 3).astype(np.float64) if t.dtype == np.float64 else t * 3,
             dtypes=(np.float32,))
    x = Tensor(randn((2, 3)), requires_grad=True)
    x.astype(np.float32).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, np.ones((2, 3)))
