"""The engine's own threads: parallel_for itself, and the ops that use it, at sizes big enough to be split."""

import multiprocessing
import threading
import tracemalloc

import numpy as np
import pytest
import torch
from tensor_check import check_op

import gradschool.tensor.functional as F
from gradschool.optim import AdamW
from gradschool.tensor import Tensor, get_num_threads, set_num_threads
from gradschool.tensor.kernels import stacked_matmul
from gradschool.tensor.parallel import MIN_WORK, parallel_for


@pytest.fixture
def threads():
    """Run the test with the given number of threads, then put the old number back."""
    before = get_num_threads()
    yield set_num_threads
    set_num_threads(before)


@pytest.mark.parametrize("n_threads, n", [(1, 10), (2, 10), (3, 10), (4, 3), (2, 1)])
def test_parallel_for_covers_every_index_once(threads, n_threads, n):
    threads(n_threads)
    seen, pieces, names = np.zeros(n, dtype=int), [], set()

    def piece(lo, hi):
        seen[lo:hi] += 1
        pieces.append(hi - lo)
        names.add(threading.current_thread().name)
    parallel_for(piece, n, work=MIN_WORK)
    assert seen.tolist() == [1] * n
    assert len(pieces) == min(n_threads, n) and max(pieces) - min(pieces) <= 1  # even pieces, one per thread
    assert threading.current_thread().name in names and len(names) <= min(n_threads, n)


def test_small_work_runs_in_one_call_in_this_thread(threads):
    threads(2)
    calls = []
    parallel_for(lambda lo, hi: calls.append((lo, hi, threading.current_thread())), 100, work=MIN_WORK - 1)
    assert calls == [(0, 100, threading.current_thread())]


def test_an_error_in_a_worker_piece_reaches_the_caller(threads):
    threads(2)

    def piece(lo, hi):
        if lo > 0:
            raise KeyError("from the worker")
    with pytest.raises(KeyError, match="from the worker"):
        parallel_for(piece, 2, work=MIN_WORK)


def test_pieces_run_under_the_callers_errstate(threads):
    threads(2)
    big = np.full(MIN_WORK, 1000.0)

    def piece(lo, hi):
        np.exp(big[lo:hi])  # overflows in every piece
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        parallel_for(piece, len(big), big.size)
    with np.errstate(over="ignore"), np.testing.assert_no_warnings():
        parallel_for(piece, len(big), big.size)


def test_a_piece_that_splits_again_runs_its_part_whole(threads):
    threads(2)
    inner_calls = []

    def piece(lo, hi):
        parallel_for(lambda a, b: inner_calls.append((a, b)), 10, work=MIN_WORK)
    parallel_for(piece, 2, work=MIN_WORK)  # finishes: a worker never waits on the pool it belongs to
    assert inner_calls == [(0, 10), (0, 10)]  # neither piece split again: the other thread was busy
    parallel_for(lambda a, b: inner_calls.append((a, b)), 10, work=MIN_WORK)
    assert sorted(inner_calls[2:]) == [(0, 5), (5, 10)]  # and after the job, the caller splits again


def test_set_num_threads_refuses_nonsense():
    for bad in (0, -1, 1.5, "2"):
        with pytest.raises(ValueError, match="positive integer"):
            set_num_threads(bad)


def _child_sum(queue):
    x = Tensor(np.ones((160, 1024), dtype=np.float32), requires_grad=True)
    F.gelu(x).sum().backward()
    queue.put(float(x.grad.sum()))


def test_a_forked_child_makes_its_own_threads(threads):
    threads(2)
    F.gelu(Tensor(np.ones((160, 1024), dtype=np.float32)))  # the parent's pool exists now
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_sum, args=(queue,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    want = 160 * 1024 * float(torch.ops.aten.gelu_backward(torch.ones(1), torch.ones(1), approximate="tanh"))
    assert queue.get(timeout=5) == pytest.approx(want, rel=1e-5)


# ---- the split ops against PyTorch, at sizes that are split, with 1 and with 3 threads -------------------
BIG = np.random.default_rng(0)


@pytest.mark.parametrize("n_threads", [1, 3])
def test_split_gelu_matches_torch(threads, n_threads):
    threads(n_threads)
    x = BIG.standard_normal((MIN_WORK // 1000 + 5, 1000)) * 3
    check_op([x], lambda x: torch.nn.functional.gelu(x, approximate="tanh"), F.gelu)


@pytest.mark.parametrize("n_threads", [1, 3])
def test_split_layer_norm_matches_torch(threads, n_threads):
    threads(n_threads)
    x = BIG.standard_normal((MIN_WORK // 128 + 7, 128)) * 2 + 1
    w, b = BIG.standard_normal(128), BIG.standard_normal(128)
    check_op([x, w, b], lambda x, w, b: torch.nn.functional.layer_norm(x, (128,), w, b), F.layer_norm)


@pytest.mark.parametrize("n_threads", [1, 3])
@pytest.mark.parametrize("k_batch", [(8, 4), (1, 4)])  # k and v the same batch as q, or broadcast over it
def test_split_attention_matches_torch(threads, n_threads, k_batch):
    threads(n_threads)
    q = BIG.standard_normal((8, 4, 64, 16))  # 8 * 4 * 64 * 64 = MIN_WORK attention weights
    k, v = BIG.standard_normal((*k_batch, 64, 16)), BIG.standard_normal((*k_batch, 64, 16))
    check_op([q, k, v],
             lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True),
             lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True))


@pytest.mark.parametrize("n_threads", [1, 3])
def test_split_exp_in_softmax_and_cross_entropy_matches_torch(threads, n_threads):
    threads(n_threads)
    x = BIG.standard_normal((MIN_WORK // (8 * 65) + 3, 65)) * 4  # enough rows that np.exp is split
    targets = BIG.integers(0, 65, len(x))
    check_op([x], lambda x: torch.softmax(x, -1), F.softmax)
    check_op([x], lambda x: torch.log_softmax(x, -1), F.log_softmax)
    check_op([x], lambda x: torch.nn.functional.cross_entropy(x, torch.tensor(targets)),
             lambda x: F.cross_entropy(x, targets))


@pytest.mark.parametrize("n_threads", [1, 3])
@pytest.mark.parametrize("b_batch", [(8, 4), (1, 4), (4,)])  # b the same stack as a, or broadcast over it
def test_split_stacked_matmul_matches_torch(threads, n_threads, b_batch):
    threads(n_threads)
    a, b = BIG.standard_normal((8, 4, 64, 16)), BIG.standard_normal((*b_batch, 64, 16))
    check_op([a, b], lambda a, b: a @ b.transpose(-2, -1), lambda a, b: a @ b.transpose(-2, -1))


def test_stacked_matmul_splits_and_still_names_bad_shapes(threads):
    threads(2)
    a, b = BIG.standard_normal((8, 4, 64, 16)), BIG.standard_normal((8, 4, 16, 64))
    seen = set()
    original = np.matmul

    def spy(*args, **kwargs):
        seen.add(threading.current_thread().name)
        return original(*args, **kwargs)
    np.matmul = spy
    try:
        out = stacked_matmul(a, b)
    finally:
        np.matmul = original
    np.testing.assert_allclose(out, a @ b, rtol=1e-12)
    assert len(seen) == 2  # this thread and a worker each did a block
    with pytest.raises(ValueError, match=r"\(8, 4, 64, 16\).*\(8, 4, 64, 16\)"):
        Tensor(a) @ Tensor(a)


@pytest.mark.parametrize("n_threads", [1, 3])
def test_recomputed_gelu_matches_torch(threads, monkeypatch, n_threads):
    threads(n_threads)
    monkeypatch.setattr("gradschool.tensor.kernels.RECOMPUTE_ABOVE", 0)  # every input is "big"
    x = BIG.standard_normal((MIN_WORK // 1000 + 5, 1000)) * 3
    x[0, :3] = [-50.0, -1e4, 60.0]  # exp(-2u) overflows to inf: y = 0 and dy/dx = 0, with no warning
    with np.testing.assert_no_warnings():
        check_op([x], lambda x: torch.nn.functional.gelu(x, approximate="tanh"), F.gelu)


def retained_bytes(fn) -> int:
    """Bytes of NumPy memory still held after fn() returns, while its result is alive."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    result = fn()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del result
    return held


def test_recomputing_gelus_sigmoid_keeps_less_for_backward(monkeypatch):
    x = Tensor(BIG.standard_normal((64, 1000)), requires_grad=True)
    kept = retained_bytes(lambda: F.gelu(x))
    monkeypatch.setattr("gradschool.tensor.kernels.RECOMPUTE_ABOVE", 0)
    assert retained_bytes(lambda: F.gelu(x)) <= kept - x.data.nbytes  # one array of x's size less


def test_split_adamw_matches_torch_over_steps(threads):
    threads(3)
    rng = np.random.default_rng(1)
    shapes = [(256, 128), (128,), (400, 300), (7, 3), (64, 512)]  # more than MIN_WORK in all
    start = [rng.standard_normal(s) for s in shapes]
    ours = [Tensor(a.copy(), requires_grad=True) for a in start]
    theirs = [torch.tensor(a, requires_grad=True) for a in start]
    opt = AdamW(ours, lr=1e-2, betas=(0.9, 0.99), weight_decay=0.1)
    ref = torch.optim.AdamW(theirs, lr=1e-2, betas=(0.9, 0.99), weight_decay=0.1)
    for _ in range(10):
        grads = [rng.standard_normal(s) for s in shapes]
        for p, t, g in zip(ours, theirs, grads, strict=True):
            p.grad, t.grad = g.copy(), torch.tensor(g)
        opt.step()
        ref.step()
    for p, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=0, atol=1e-9)
