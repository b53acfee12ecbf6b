"""Causal self-attention: rung 7's loops, the fused kernel and the GPT's attention layer against PyTorch."""

import numpy as np
import pytest
import torch
from torch_gpt import CausalSelfAttention as TorchAttention

import gradschool.tensor.functional as F
from gradschool.nn.gpt import CausalSelfAttention, GPTConfig, KVCache
from gradschool.rungs.r7_attention import attention_loops, attention_vectorized
from gradschool.tensor import Tensor, manual_seed


@pytest.mark.parametrize("shape", [(2, 3, 5, 4), (1, 1, 1, 8), (3, 2, 7, 16)])
def test_sdpa_matches_torch_causal_float64(shape):
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(shape) for _ in range(3))
    g = rng.standard_normal(shape)
    gs = [Tensor(a, requires_grad=True) for a in (q, k, v)]
    out = F.scaled_dot_product_attention(*gs, is_causal=True)
    out.backward(g)
    ts = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    want = torch.nn.functional.scaled_dot_product_attention(*ts, is_causal=True)
    want.backward(torch.tensor(g))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, want.detach().numpy(), rtol=0, atol=1e-12)
    for a, t in zip(gs, ts, strict=True):
        np.testing.assert_allclose(a.grad, t.grad.numpy(), rtol=0, atol=1e-12)


def test_rung7_loops_and_matrix_products_agree_with_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 5))
    Wq, Wk, Wv = (rng.standard_normal((5, 3)) for _ in range(3))
    out_loops, w_loops = attention_loops(x.tolist(), Wq.tolist(), Wk.tolist(), Wv.tolist())
    out_vec, w_vec = attention_vectorized(x, Wq, Wk, Wv)
    q, k, v = (torch.tensor(x @ W)[None, None] for W in (Wq, Wk, Wv))
    want = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)[0, 0].numpy()
    np.testing.assert_allclose(np.array(out_loops), want, atol=1e-12)
    np.testing.assert_allclose(out_vec, want, atol=1e-12)
    np.testing.assert_allclose(np.array(w_loops), w_vec, atol=1e-12)
    assert np.all(np.triu(w_vec, k=1) == 0), "a position attended to the future"
    np.testing.assert_allclose(w_vec.sum(axis=1), 1.0)


def attention_pair(config: GPTConfig) -> tuple[CausalSelfAttention, TorchAttention]:
    """The gradschool layer in float64 and the PyTorch one with the same weights."""
    manual_seed(0)
    layer = CausalSelfAttention(config)
    for p in layer.parameters():
        p.data = p.data.astype(np.float64) + 0.1 * np.random.default_rng(p.data.size).standard_normal(p.shape)
    ref = TorchAttention(config).double()
    ref.load_state_dict({name: torch.tensor(w) for name, w in layer.state_dict().items()})
    return layer, ref


@pytest.mark.parametrize("bias", [False, True])
def test_attention_layer_forward_backward_matches_torch(bias):
    config = GPTConfig(block_size=8, vocab_size=11, n_layer=1, n_head=4, n_embd=16, bias=bias)
    layer, ref = attention_pair(config)
    x = np.random.default_rng(2).standard_normal((3, 8, 16))
    g = np.random.default_rng(3).standard_normal((3, 8, 16))
    xt = Tensor(x, requires_grad=True)
    out = layer(xt)
    out.backward(g)
    xr = torch.tensor(x, requires_grad=True)
    want = ref(xr)
    want.backward(torch.tensor(g))
    np.testing.assert_allclose(out.data, want.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(xt.grad, xr.grad.numpy(), rtol=0, atol=1e-12)
    ref_params = dict(ref.named_parameters())
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad, ref_params[name].grad.numpy(), rtol=0, atol=1e-11, err_msg=name)


def test_kv_cache_attention_matches_full_attention():
    config = GPTConfig(block_size=10, vocab_size=11, n_layer=1, n_head=2, n_embd=8)
    layer, _ = attention_pair(config)
    x = np.random.default_rng(4).standard_normal((2, 10, 8))
    full = layer(Tensor(x)).data
    cache = KVCache(capacity=10)
    steps = [layer(Tensor(x[:, :4]), cache).data]  # the prompt at once, then one position at a time
    steps += [layer(Tensor(x[:, t : t + 1]), cache).data for t in range(4, 10)]
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="one new token at a time"):
        layer(Tensor(x[:, :2]), cache)


def test_rung7_prints_the_attention_matrix_and_agreement(capsys):
    from gradschool.rungs import r7_attention

    r7_attention.main()
    out = capsys.readouterr().out
    assert "'h'   1.00  0.00" in out  # the first position can only attend to itself
    assert "all three agree." in out


def dropout_mask(shape: tuple[int, ...], p: float, seed: int) -> np.ndarray:
    """The mask the fused attention draws after manual_seed(seed): True where a weight is kept."""
    generator = manual_seed(seed)
    return generator.random(shape, dtype=np.float32) >= p


@pytest.mark.parametrize("p", [0.3, 0.9])
def test_sdpa_dropout_matches_torch_with_the_same_mask_float64(p):
    rng = np.random.default_rng(3)
    shape = (2, 3, 6, 4)
    q, k, v, g = (rng.standard_normal(shape) for _ in range(4))
    kept = dropout_mask((2, 3, 6, 6), p, seed=7)
    assert 0 < kept.mean() < 1
    manual_seed(7)
    gs = [Tensor(a, requires_grad=True) for a in (q, k, v)]
    out = F.scaled_dot_product_attention(*gs, dropout_p=p, is_causal=True)
    out.backward(g)
    ts = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]  # dropout on the weights, by hand
    scores = ts[0] @ ts[1].transpose(-1, -2) / 2.0  # sqrt(head size 4)
    scores = scores.masked_fill(~torch.tril(torch.ones(6, 6, dtype=torch.bool)), float("-inf"))
    want = (scores.softmax(-1) * torch.tensor(kept) / (1 - p)) @ ts[2]
    want.backward(torch.tensor(g))
    np.testing.assert_allclose(out.data, want.detach().numpy(), rtol=0, atol=1e-12)
    for a, t in zip(gs, ts, strict=True):
        np.testing.assert_allclose(a.grad, t.grad.numpy(), rtol=0, atol=1e-12)


def test_sdpa_dropout_gradient_matches_central_differences_for_a_fixed_mask():
    rng = np.random.default_rng(4)
    q, k, v = (rng.standard_normal((1, 2, 5, 3)) for _ in range(3))
    w = rng.standard_normal((1, 2, 5, 3))

    def loss(arrays):
        manual_seed(11)  # the same mask at every call
        ts = [Tensor(a, requires_grad=True) for a in arrays]
        out = (F.scaled_dot_product_attention(*ts, dropout_p=0.4, is_causal=True) * Tensor(w)).sum()
        return out, ts

    out, ts = loss((q, k, v))
    out.backward()
    h = 1e-6
    for i in range(3):
        flat = [a.copy() for a in (q, k, v)]
        for j in range(flat[i].size):
            up, down = [a.copy() for a in flat], [a.copy() for a in flat]
            up[i].flat[j] += h
            down[i].flat[j] -= h
            numerical = (loss(up)[0].item() - loss(down)[0].item()) / (2 * h)
            assert ts[i].grad.flat[j] == pytest.approx(numerical, abs=1e-6)


def test_sdpa_without_dropout_is_unchanged_and_refuses_a_bad_probability():
    rng = np.random.default_rng(5)
    q, k, v = (Tensor(rng.standard_normal((2, 2, 5, 4)).astype(np.float32)) for _ in range(3))
    plain = F.scaled_dot_product_attention(q, k, v, is_causal=True).data
    np.testing.assert_array_equal(F.scaled_dot_product_attention(q, k, v, dropout_p=0.0, is_causal=True).data,
                                  plain)
    with pytest.raises(ValueError, match="dropout_p must be between 0 and 1, got 1.5"):
        F.scaled_dot_product_attention(q, k, v, dropout_p=1.5)


def test_attention_layer_dropout_in_training_only():
    config = GPTConfig(block_size=8, vocab_size=11, n_layer=1, n_head=2, n_embd=8, dropout=0.5)
    manual_seed(0)
    layer = CausalSelfAttention(config)
    layer.resid_dropout.p = 0.0  # only the attention weights' dropout
    x = Tensor(np.random.default_rng(6).standard_normal((2, 8, 8)).astype(np.float32))
    layer.eval()
    evaluated = layer(x).data
    np.testing.assert_array_equal(layer(x).data, evaluated)  # eval: no dropout, deterministic
    q, k, v = layer.heads(x)
    y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(2, 8, 8)
    np.testing.assert_array_equal(evaluated, layer.c_proj(y).data)
    layer.train()
    first, second = layer(x).data, layer(x).data
    assert not np.array_equal(first, evaluated) and not np.array_equal(first, second)


def test_attention_weights_rows_sum_to_one_and_equal_a_recomputation():
    rng = np.random.default_rng(8)
    q, k = (rng.standard_normal((2, 3, 6, 4)) for _ in range(2))
    w = F.attention_weights(Tensor(q), Tensor(k), is_causal=True).data
    scores = q @ k.swapaxes(-1, -2) / 2.0
    scores = np.where(np.tri(6, dtype=bool), scores, -np.inf)
    want = np.exp(scores - scores.max(-1, keepdims=True))
    want /= want.sum(-1, keepdims=True)
    np.testing.assert_allclose(w, want, rtol=0, atol=1e-12)
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=0, atol=1e-12)


def test_attention_weights_gradient_matches_torch():
    rng = np.random.default_rng(9)
    q, k = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 3))
    g = rng.standard_normal((2, 5, 5))
    ours = [Tensor(a, requires_grad=True) for a in (q, k)]
    F.attention_weights(*ours).backward(g)
    ts = [torch.tensor(a, requires_grad=True) for a in (q, k)]
    (ts[0] @ ts[1].transpose(-1, -2) / np.sqrt(3)).softmax(-1).backward(torch.tensor(g))
    for a, t in zip(ours, ts, strict=True):
        np.testing.assert_allclose(a.grad, t.grad.numpy(), rtol=0, atol=1e-12)
