"""The bigram and MLP language models (nn.bigram, nn.mlp_lm) and sampling: PyTorch parity, what they see."""

import numpy as np
import pytest
import torch

from gradschool.data import CharTokenizer
from gradschool.data.batches import context_windows
from gradschool.nn.bigram import Bigram, BigramConfig
from gradschool.nn.mlp_lm import MLPConfig, MLPLanguageModel
from gradschool.sampling import sample_next
from gradschool.tensor import manual_seed


def test_bigram_logits_are_rows_of_the_table():
    model = Bigram(BigramConfig(5))
    model.table.data[:] = np.arange(25, dtype=np.float32).reshape(5, 5)
    idx = np.array([[0, 3], [4, 4]])
    assert np.array_equal(model(idx).data, model.table.data[idx])


def copy_to_torch(model: MLPLanguageModel):
    w = {name: torch.tensor(p.data, requires_grad=True) for name, p in model.named_parameters()}

    def forward(contexts):
        emb = w["wte.weight"][torch.tensor(contexts)]
        h = torch.tanh(emb.reshape(*contexts.shape[:-1], -1) @ w["hidden.weight"].T + w["hidden.bias"])
        return h @ w["lm_head.weight"].T + w["lm_head.bias"]

    return w, forward


def test_mlp_lm_matches_pytorch_forward_and_backward():
    manual_seed(0)
    model = MLPLanguageModel(MLPConfig(block_size=3, vocab_size=7, n_embd=4, n_hidden=9))
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    idx = np.random.default_rng(0).integers(0, 7, size=(2, 5))
    targets = np.random.default_rng(1).integers(0, 7, size=(2, 5))
    logits = model(idx)
    loss = (logits * np.eye(7)[targets]).sum()
    loss.backward()

    w, forward = copy_to_torch(model)
    ref = forward(model.contexts(idx))
    (ref * torch.tensor(np.eye(7)[targets])).sum().backward()
    np.testing.assert_allclose(logits.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, w[name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


def test_mlp_lm_sees_exactly_the_previous_block_size_tokens():
    manual_seed(0)
    model = MLPLanguageModel(MLPConfig(block_size=3, vocab_size=6, n_embd=3, n_hidden=8))
    idx = np.array([[1, 2, 3, 4, 5]])
    assert model.contexts(idx)[0].tolist() == [[0, 0, 1], [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]]
    changed = idx.copy()
    changed[0, 4] = 0  # a later token does not change earlier predictions...
    np.testing.assert_array_equal(model(changed).data[0, :4], model(idx).data[0, :4])
    changed = idx.copy()
    changed[0, 0] = 2  # ...and a token more than block_size back does not change the prediction at 4
    np.testing.assert_array_equal(model(changed).data[0, 3:], model(idx).data[0, 3:])


def test_mlp_lm_on_names_windows_equals_forward_on_whole_names():
    manual_seed(0)
    tok = CharTokenizer.from_lines(["emma", "olivia"])
    model = MLPLanguageModel(MLPConfig(block_size=3, vocab_size=tok.vocab_size, n_embd=2, n_hidden=5))
    X, _ = context_windows(["emma"], tok, 3)  # makemore part 2's examples
    whole = model(np.array([[0, *tok.encode("emma")]])).data[0]  # the loop's batches: '.' then the name
    np.testing.assert_allclose(model.forward_contexts(X).data, whole, rtol=1e-6)


def test_mlp_lm_without_a_start_token_gets_its_own_padding_token():
    model = MLPLanguageModel(MLPConfig(block_size=2, vocab_size=4, n_embd=2, n_hidden=3, pad_token=None))
    assert model.wte.weight.shape == (5, 2)
    assert model.contexts(np.array([[1, 2]]))[0].tolist() == [[4, 1], [1, 2]]


def test_sample_next_greedy_top_p_and_temperature():
    logits = np.log(np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]]))
    rng = np.random.default_rng(0)
    assert sample_next(logits, top_k=1, rng=rng).tolist() == [1, 0]
    assert sample_next(logits, top_p=0.5, rng=rng).tolist() == [1, 0]  # the smallest set reaching 0.5
    draws = np.stack([sample_next(logits, rng=rng) for _ in range(4000)])
    np.testing.assert_allclose(np.bincount(draws[:, 0], minlength=3) / 4000, [0.1, 0.6, 0.3], atol=0.03)
    top2 = np.stack([sample_next(logits, top_p=0.8, rng=rng) for _ in range(2000)])
    assert set(top2[:, 0].tolist()) == {1, 2}  # 0.6 + 0.3 reaches 0.8; 0.1 is cut
    cold = np.stack([sample_next(logits, temperature=0.05, rng=rng) for _ in range(200)])
    assert (cold[:, 0] == 1).all()
    with pytest.raises(ValueError, match="temperature must be > 0"):
        sample_next(logits, temperature=0)


def test_generate_is_reproducible_with_a_seeded_generator():
    manual_seed(0)
    model = MLPLanguageModel(MLPConfig(block_size=3, vocab_size=6, n_embd=3, n_hidden=8))
    start = np.zeros((4, 1), dtype=np.int64)
    a = model.generate(start, 10, rng=np.random.default_rng(5))
    b = model.generate(start, 10, rng=np.random.default_rng(5))
    assert a.shape == (4, 11) and np.array_equal(a, b)
    greedy = model.generate(start, 10, top_k=1)
    assert (greedy == greedy[0]).all()
