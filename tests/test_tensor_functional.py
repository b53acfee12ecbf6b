"""gradschool.tensor.functional against torch.nn.functional, float64 and float32, and central differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st
from tensor_check import check_numerically, check_op, randn

import gradschool.tensor.functional as F
from gradschool.tensor import Tensor, manual_seed
from gradschool.tensor.random import generator, get_rng_state, set_rng_state

SETTINGS = settings(max_examples=25)


@SETTINGS
@given(lead=st.lists(st.integers(0, 3), max_size=2).map(tuple), n_in=st.integers(1, 5),
       n_out=st.integers(1, 5), bias=st.booleans())
def test_linear(lead, n_in, n_out, bias):
    arrays = [randn(lead + (n_in,), 1), randn((n_out, n_in), 2)] + ([randn((n_out,), 3)] if bias else [])
    check_op(arrays, TF.linear, F.linear)


def test_linear_numerically():
    check_numerically([randn((2, 3, 4), 1), randn((5, 4), 2), randn((5,), 3)], F.linear)


@SETTINGS
@given(ids=st.lists(st.integers(0, 4), min_size=0, max_size=8), batch=st.booleans())
def test_embedding_repeated_ids_accumulate(ids, batch):
    idx = np.array(ids, dtype=np.int64).reshape((2, -1) if batch and len(ids) % 2 == 0 else (-1,))
    check_op([randn((5, 3))], lambda w: TF.embedding(torch.tensor(idx), w), lambda w: F.embedding(idx, w))


# c >= 3: with 2 features the normalized values are exactly +-1 and the float32 gradient is all cancellation
@SETTINGS
@given(lead=st.lists(st.integers(1, 3), max_size=2).map(tuple), c=st.integers(3, 8), affine=st.booleans())
def test_layer_norm(lead, c, affine):
    x = randn(lead + (c,), 1) * 3 + 1
    if affine:
        check_op([x, randn((c,), 2), randn((c,), 3)],
                 lambda t, w, b: TF.layer_norm(t, (c,), w, b), lambda t, w, b: F.layer_norm(t, w, b))
    else:
        check_op([x], lambda t: TF.layer_norm(t, (c,)), F.layer_norm)


def test_layer_norm_numerically():
    check_numerically([randn((3, 5), 1), randn((5,), 2), randn((5,), 3)], F.layer_norm)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_and_log_softmax(axis):
    x = randn((3, 4, 5)) * 4
    check_op([x], lambda t: TF.softmax(t, dim=axis), lambda t: F.softmax(t, axis=axis))
    check_op([x], lambda t: TF.log_softmax(t, dim=axis), lambda t: F.log_softmax(t, axis=axis))
    check_op([x], lambda t: t.softmax(axis), lambda t: t.softmax(axis))
    check_numerically([randn((2, 3))], lambda t: F.softmax(t, axis))
    check_numerically([randn((2, 3))], lambda t: t.log_softmax(axis))


def test_softmax_and_attention_of_empty_inputs():
    check_op([np.zeros((0, 3))], lambda t: TF.softmax(t, dim=-1), F.softmax)
    check_op([np.zeros((2, 0))], lambda t: TF.log_softmax(t, dim=0), lambda t: F.log_softmax(t, axis=0))
    arrays = [np.zeros((1, 0, 2))] * 3
    check_op(arrays, TF.scaled_dot_product_attention, F.scaled_dot_product_attention)


def test_activations():
    x = randn((4, 5)) * 3
    check_op([x], lambda t: TF.gelu(t, approximate="tanh"), F.gelu)
    check_op([x], TF.relu, F.relu)
    check_op([x], torch.tanh, F.tanh)
    check_op([x], torch.sigmoid, F.sigmoid)


@SETTINGS
@given(n=st.integers(1, 6), c=st.integers(1, 5), data=st.data())
def test_cross_entropy_with_ignore_index(n, c, data):
    targets = np.array(data.draw(st.lists(st.integers(-1, c - 1), min_size=n, max_size=n)))
    if (targets == -1).all():
        targets[0] = 0
    check_op([randn((n, c)) * 3], lambda t: TF.cross_entropy(t, torch.tensor(targets), ignore_index=-1),
             lambda t: F.cross_entropy(t, targets))


def test_cross_entropy_numerically_and_other_ignore_index():
    targets = np.array([2, 100, 0, 1])
    check_numerically([randn((4, 3))], lambda t: F.cross_entropy(t, targets, ignore_index=100))
    check_op([randn((4, 3))], lambda t: TF.cross_entropy(t, torch.tensor(targets), ignore_index=100),
             lambda t: F.cross_entropy(t, Tensor(targets), ignore_index=100))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_stays_finite_for_huge_logits(dtype):
    logits = Tensor(np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [-1e4, -1e4, -1e4]], dtype=dtype),
                    requires_grad=True)
    targets = np.array([1, 2, 0])
    loss = F.cross_entropy(logits, targets)
    loss.backward()
    assert np.isfinite(loss.data) and np.isfinite(logits.grad).all()
    want = TF.cross_entropy(torch.tensor(logits.data, dtype=torch.float64), torch.tensor(targets))
    np.testing.assert_allclose(loss.item(), want.item(), rtol=1e-6)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("shape", [(2, 3, 5, 4), (1, 1, 1, 2), (3, 6, 8)])
def test_scaled_dot_product_attention(causal, shape):
    arrays = [randn(shape, i) for i in range(3)]
    check_op(arrays, lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=causal),
             lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=causal))


def test_attention_with_fewer_queries_than_keys():
    q, k, v = randn((2, 2, 1, 4), 0), randn((2, 2, 5, 4), 1), randn((2, 2, 5, 3), 2)
    check_op([q, k, v], TF.scaled_dot_product_attention, F.scaled_dot_product_attention)
    check_numerically([q, k, v], lambda *t: F.scaled_dot_product_attention(*t, is_causal=True))


def test_dropout_masks_forward_and_backward_alike():
    manual_seed(0)
    x = Tensor(np.ones((200, 50)), requires_grad=True)
    y = F.dropout(x, 0.25, training=True)
    kept = y.data != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y.data[kept], 1 / 0.75)
    y.backward(np.full(y.shape, 2.0))
    np.testing.assert_allclose(x.grad, np.where(kept, 2 / 0.75, 0))
    assert F.dropout(x, 0.25, training=False) is x and F.dropout(x, 0.0) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).data, 0)


def test_manual_seed_and_rng_state_reproduce_dropout():
    manual_seed(123)
    g = generator()
    first = F.dropout(Tensor(np.ones(100)), 0.5).data
    state = get_rng_state()
    second = F.dropout(Tensor(np.ones(100)), 0.5).data
    set_rng_state(state)
    np.testing.assert_array_equal(F.dropout(Tensor(np.ones(100)), 0.5).data, second)
    manual_seed(123)
    assert generator() is g  # reseeded in place
    np.testing.assert_array_equal(F.dropout(Tensor(np.ones(100)), 0.5).data, first)
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("call", [
    lambda a: F.linear(a, Tensor(np.ones((3, 2)))),
    lambda a: F.layer_norm(a, Tensor(np.ones(2)), Tensor(np.zeros(2))),
    lambda a: F.gelu(a),
    lambda a: F.softmax(a),
    lambda a: F.cross_entropy(a, np.array([0])),
    lambda a: F.scaled_dot_product_attention(a, a, a),
])
def test_a_plain_array_where_a_tensor_is_expected_is_refused_clearly(call):
    with pytest.raises(TypeError, match=r"expects a Tensor for '\w+', got ndarray; wrap it first"):
        call(np.ones((1, 2)))
