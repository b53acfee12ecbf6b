"""The Tensor engine itself: construction, backward, accumulation, no_grad, errors, no reference cycles."""

import gc
import weakref

import numpy as np
import pytest

import gradschool.tensor.functional as F
from gradschool.tensor import Tensor, cat, no_grad, stack, where


def test_construction_dtypes():
    assert Tensor([1, 2]).dtype == np.float32 and Tensor(3).dtype == np.float32
    assert Tensor([1.0], dtype=np.float64).dtype == np.float64
    assert Tensor(np.zeros(2)).dtype == np.float64
    assert Tensor(np.arange(3)).dtype == np.int64
    a = np.ones(3, dtype=np.float32)
    t = Tensor(a, requires_grad=True)
    assert t.data is a and t.shape == (3,) and t.ndim == 1 and t.grad is None
    assert Tensor(2.5).item() == 2.5 and float(Tensor([[4.0]])) == 4.0 and len(Tensor(np.zeros((5, 2)))) == 5
    assert "requires_grad=True" in repr(t)
    assert t.numpy() is a and t.detach().data is a and not t.detach().requires_grad


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="only floating-point Tensors can require gradients, got dtype int64"):
        Tensor(np.arange(3), requires_grad=True)


def test_backward_of_non_scalar_needs_a_gradient():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"has shape \(2, 3\); reduce it first"):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"needs grad of shape \(2, 3\), got \(3,\)"):
        (x * 2).backward(np.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).sum().backward()


def test_shape_errors_show_both_shapes():
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) do not line up"):
        a @ b
    with pytest.raises(ValueError, match=r"batch dims of shapes \(2, 2, 3\) and \(3, 3, 1\)"):
        Tensor(np.ones((2, 2, 3))) @ Tensor(np.ones((3, 3, 1)))
    with pytest.raises(ValueError, match=r"at least 1-D Tensors, got shapes \(\) and \(3,\)"):
        Tensor(1.0) @ Tensor(np.ones(3))
    for op in ("+", "-", "*", "/"):
        with pytest.raises(ValueError, match=rf"'\{op}': shapes \(2, 3\) and \(4, 5\) cannot be broadcast"):
            eval(f"a {op} b")
    with pytest.raises(ValueError, match=r"reshape a Tensor of shape \(2, 3\) \(6 elements\) into shape"):
        a.reshape(4, 2)
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 3\) does not fit a weight of shape"):
        F.linear(a, Tensor(np.ones((5, 4))))
    with pytest.raises(ValueError, match=r"cat along axis 0: shapes \[\(2, 3\), \(4, 5\)\]"):
        cat([a, b])
    with pytest.raises(ValueError, match=r"stack needs Tensors of one shape"):
        stack([a, b])
    with pytest.raises(ValueError, match=r"where: shapes \(2,\), \(2, 3\) and \(4, 5\)"):
        where(np.ones(2, dtype=bool), a, b)
    with pytest.raises(ValueError, match=r"split sizes \[1, 1\] add up to 2"):
        a.split([1, 1], axis=1)
    with pytest.raises(IndexError, match=r"index into a Tensor of shape \(2, 3\)"):
        a[5]
    with pytest.raises(ValueError, match=r"mask of shape \(4,\) cannot be broadcast to \(2, 3\)"):
        a.masked_fill(np.ones(4, dtype=bool), 0.0)


def test_cross_entropy_bad_targets():
    logits = Tensor(np.zeros((3, 4)), requires_grad=True)
    with pytest.raises(TypeError, match="targets must be integer class indices, got dtype float64"):
        F.cross_entropy(logits, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"target 4 is out of range for 4 classes \(valid: 0..3"):
        F.cross_entropy(logits, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=r"target -2 is out of range"):
        F.cross_entropy(logits, np.array([0, -2, 1]))
    with pytest.raises(ValueError, match=r"targets of shape \(2,\) do not match logits of shape \(3, 4\)"):
        F.cross_entropy(logits, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"expects logits of shape \(N, C\), got \(1, 3, 4\)"):
        F.cross_entropy(logits.reshape(1, 3, 4), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="no targets to average over .* every target equals ignore_index=-1"):
        F.cross_entropy(logits, np.array([-1, -1, -1]))


def test_other_bad_inputs():
    with pytest.raises(IndexError, match=r"embedding: id 5 is out of range for a vocabulary of size 5"):
        F.embedding(np.array([0, 5]), Tensor(np.ones((5, 2))))
    with pytest.raises(TypeError, match="embedding: indices must be integers, got dtype float64"):
        F.embedding(np.array([0.0]), Tensor(np.ones((5, 2))))
    with pytest.raises(ValueError, match="dropout probability must be between 0 and 1, got 1.5"):
        F.dropout(Tensor(np.ones(2)), 1.5)
    with pytest.raises(ValueError, match=r"q \(2, 4\), k \(2, 3\), v \(2, 3\) do not fit"):
        F.scaled_dot_product_attention(*[Tensor(np.ones(s)) for s in [(2, 4), (2, 3), (2, 3)]])


def test_leaf_gradients_accumulate_across_backward_calls():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * x).sum().backward()
    first = x.grad
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [5.0, 7.0])
    assert x.grad is first  # accumulated in place


def test_gradient_of_a_tensor_used_many_times():
    x = Tensor(np.array([3.0]), requires_grad=True)
    y = x + x  # both sides of an add share one upstream gradient: it must not be aliased
    z = y * x + x
    z.backward()
    np.testing.assert_array_equal(x.grad, [4 * 3.0 + 1])
    a, b = Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(2), requires_grad=True)
    s = a + b
    (s + a * 2).sum().backward()
    np.testing.assert_array_equal(a.grad, [3.0, 3.0])
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_only_inputs_that_require_grad_get_one():
    x, c = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(3))
    (x * c + c).sum().backward()
    assert c.grad is None and x.grad is not None


def test_no_grad_records_nothing():
    x = Tensor(np.ones(3), requires_grad=True)
    with no_grad():
        y = (x * 2).exp().sum()
    assert not y.requires_grad and y.parents == ()
    z = (x * 2).sum()  # recording is back on after the block
    assert z.requires_grad

    @no_grad()
    def evaluate():
        return x * 2
    assert not evaluate().requires_grad


def test_backward_twice_through_a_freed_graph_is_refused():
    x = Tensor(np.ones(2), requires_grad=True)
    y = (x * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 4.0])
    with pytest.raises(RuntimeError, match="a second time.*retain_graph=True"):
        y.backward()


def test_intermediates_keep_no_gradient():
    x = Tensor(np.ones(2), requires_grad=True)
    h = x * 2
    h.sum().backward()
    assert h.grad is None


def test_deep_graph_does_not_recurse():
    x = Tensor(np.array([1.0]), requires_grad=True)
    y = x
    for _ in range(5000):  # deeper than Python's recursion limit
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad, [1.0001 ** 5000])


def test_graph_has_no_reference_cycles():
    gc.collect()
    gc.disable()
    try:
        x = Tensor(np.random.default_rng(0).standard_normal((4, 8)), requires_grad=True)
        w = Tensor(np.random.default_rng(1).standard_normal((3, 8)), requires_grad=True)
        h = F.gelu(F.layer_norm(F.linear(x, w), None, None))
        q = h.reshape(1, 1, 4, 3)
        att = F.scaled_dot_product_attention(q, q, q, is_causal=True)
        y = (F.softmax(h) * att.reshape(4, 3)).split(1, axis=1)[0].sum() + h[[0, 0, 1]].max()
        loss = y + F.cross_entropy(h, np.array([0, 1, 2, 1]))
        probe = weakref.ref(h)
        del h, q, att, y
        assert probe() is not None  # still held by the graph of loss
        loss.backward(retain_graph=True)
        del loss
        assert probe() is None  # reference counting alone freed the whole graph
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_no_grad_in_one_thread_leaves_other_threads_recording():
    import threading

    from gradschool.tensor import Tensor, no_grad

    inside, release = threading.Event(), threading.Event()

    def sampler():
        with no_grad():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=sampler)
    t.start()
    inside.wait(5)
    try:
        x = Tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()  # this thread is not inside no_grad(): the graph must be recorded
        y.backward()
        assert x.grad.tolist() == [2.0, 4.0]
    finally:
        release.set()
        t.join()


@pytest.mark.parametrize("make", [lambda: Tensor(None), lambda: Tensor([1.0, None]),
                                  lambda: Tensor(None, dtype=np.float64)])
def test_tensor_of_none_is_refused_not_nan(make):
    with pytest.raises(TypeError, match=r"a Tensor holds numbers, got .*None"):
        make()


@pytest.mark.parametrize("op", [lambda t: t + None, lambda t: None * t, lambda t: t - [1.0, None],
                                lambda t: t @ None])
def test_arithmetic_with_none_is_refused_not_nan(op):
    with pytest.raises(TypeError, match=r"a Tensor combines with numbers, arrays and Tensors, got .*None"):
        op(Tensor([1.0, 2.0], requires_grad=True))


@pytest.mark.parametrize("bad", [-1, -5, 5, 9])
def test_embedding_refuses_ids_outside_the_vocabulary_naming_both(bad):
    from gradschool.nn import Embedding

    emb = Embedding(5, 2)
    with pytest.raises(IndexError, match=rf"id {bad} is out of range for a vocabulary of size 5 \(valid ids"):
        emb(np.array([[0, bad, 1]]))
    with pytest.raises(IndexError, match=rf"id {bad} is out of range for a vocabulary of size 5"):
        F.embedding(np.array([bad]), emb.weight)
