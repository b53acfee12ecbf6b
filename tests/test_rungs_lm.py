"""Rungs 4-5: the bigram model by counting and by gradient descent agree; the MLP language model; sampling."""

import math
import re

import numpy as np
import pytest
import torch

import gradschool.tensor.functional as F
from gradschool.data import CharTokenizer, load_lines
from gradschool.data.batches import context_windows
from gradschool.nn.bigram import Bigram, BigramConfig
from gradschool.nn.mlp_lm import MLPConfig, MLPLanguageModel
from gradschool.rungs import r4_bigram, r5_embeddings
from gradschool.sampling import sample_next
from gradschool.tensor import manual_seed, no_grad


def test_count_model_by_hand():
    tok = CharTokenizer.from_lines(["ab"])  # '.', 'a', 'b'
    xs, ys = r4_bigram.bigrams(["ab"], tok)
    assert xs.tolist() == [0, 1, 2] and ys.tolist() == [1, 2, 0]  # .a ab b.
    assert r4_bigram.average_nll(r4_bigram.count_model(xs, ys, 3, 0.0), xs, ys) == 0.0  # all p = 1
    # add-one: each row has counts (2, 1, 1) in some order, so every observed bigram has p = 2/4
    assert r4_bigram.average_nll(r4_bigram.count_model(xs, ys, 3), xs, ys) == pytest.approx(math.log(2))


def test_bigram_network_reaches_the_counting_loss():
    names = load_lines("names")[:3000]
    tok = CharTokenizer.from_lines(names)
    xs, ys = r4_bigram.bigrams(names, tok)
    smoothed = r4_bigram.average_nll(r4_bigram.count_model(xs, ys, tok.vocab_size), xs, ys)
    unsmoothed = r4_bigram.average_nll(r4_bigram.count_model(xs, ys, tok.vocab_size, 0.0), xs, ys)
    model, net = r4_bigram.train_network(xs, ys, tok.vocab_size, log_every=1000)
    assert abs(net - smoothed) < 0.01
    assert net >= unsmoothed - 1e-4  # counting without smoothing is the best any bigram model can do
    with no_grad():  # the trained table, used as the model's lookup, gives the same loss
        logits = model(xs[:, None]).reshape(-1, tok.vocab_size)
        assert F.cross_entropy(logits, ys).item() == pytest.approx(net)


def test_scalar_bigram_steps_lower_the_loss():
    tok = CharTokenizer.from_lines(["emma", "ava"])
    losses = r4_bigram.scalar_steps(*r4_bigram.bigrams(["emma", "ava"], tok), tok.vocab_size, steps=4)
    assert losses[0] == pytest.approx(math.log(tok.vocab_size))  # zeros: uniform
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False))


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


def test_scalar_mlp_steps_lower_the_loss():
    tok = CharTokenizer.from_lines(["emma", "ava"])
    X, Y = context_windows(["emma", "ava"], tok, 3)
    losses = r5_embeddings.scalar_steps(X, Y, tok.vocab_size, steps=3)
    assert losses[-1] < losses[0]


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


def test_rung8_blocks_start_with_their_own_weights():
    from gradschool.nn.gpt import GPTConfig
    from gradschool.rungs.r8_transformer import DeepModel

    config = GPTConfig(block_size=8, vocab_size=11, n_layer=3, n_head=2, n_embd=16)
    manual_seed(0)
    model = DeepModel(config, residual=True, layer_norm=True)
    weights = [block.attn.c_attn.weight.data for block in model.h]
    for a, b in [(0, 1), (1, 2), (0, 2)]:
        assert not np.array_equal(weights[a], weights[b]), f"blocks h.{a} and h.{b} start alike"
    assert all(abs(w.std() - 0.02) < 0.003 for w in weights)  # GPT-2's normal(0, 0.02)
    manual_seed(0)
    again = DeepModel(config, residual=True, layer_norm=True)  # and the same seed gives the same start
    np.testing.assert_array_equal(again.h[1].attn.c_attn.weight.data, weights[1])


def test_rung5_plot_does_not_change_the_experiment(tmp_path, capsys, monkeypatch):
    def short_train(model, X, Y, steps, **kwargs):  # the same experiment, fewer steps
        return train(model, X, Y, 60, log_every=20)

    train = r5_embeddings.train
    monkeypatch.setattr(r5_embeddings, "train", short_train)
    r5_embeddings.main()
    plain = capsys.readouterr().out
    png = tmp_path / "embeddings.png"
    r5_embeddings.main(plot=str(png))
    with_plot = capsys.readouterr().out
    timing = re.compile(r"steps in .* ms/step\)")  # the one line that depends on the machine
    assert timing.sub("", with_plot) == timing.sub("", plain) + f"saved {png}\n"
    assert "embeddings of size 10" in with_plot
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
