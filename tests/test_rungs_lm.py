"""Rungs 4-5: the bigram model by counting and by gradient descent agree; the MLP language model; sampling."""

import math
import re

import numpy as np
import pytest

import gradschool.tensor.functional as F
from gradschool.data import CharTokenizer, load_lines
from gradschool.data.batches import context_windows
from gradschool.rungs import r4_bigram, r5_embeddings
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


def test_scalar_mlp_steps_lower_the_loss():
    tok = CharTokenizer.from_lines(["emma", "ava"])
    X, Y = context_windows(["emma", "ava"], tok, 3)
    losses = r5_embeddings.scalar_steps(X, Y, tok.vocab_size, steps=3)
    assert losses[-1] < losses[0]


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
    chapter = "\nchapter 5 of the course: `gradschool serve`, then http://127.0.0.1:8000/chapter/5\n"
    assert plain.endswith(chapter)  # the program ends by naming its chapter
    assert timing.sub("", with_plot) == timing.sub("", plain).replace(chapter, f"saved {png}\n{chapter}")
    assert "embeddings of size 10" in with_plot
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
