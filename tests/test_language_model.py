"""What the language models share: one generate, the block size, next_token_probs, the registry, the size."""

import dataclasses
import tracemalloc
import warnings

import numpy as np
import pytest

import gradschool.tensor.functional as F
from gradschool.nn.language_model import LanguageModel
from gradschool.nn.registry import MODELS, build_model
from gradschool.nn.size import count_params, training_memory
from gradschool.optim import AdamW
from gradschool.sampling import next_token_probs, sample_next
from gradschool.tensor import manual_seed

SMALL = {
    "bigram": {"vocab_size": 11},
    "mlp": {"vocab_size": 11, "block_size": 4, "n_embd": 3, "n_hidden": 16},
    "gpt": {"vocab_size": 11, "block_size": 8, "n_layer": 2, "n_head": 2, "n_embd": 16},
}


def small(kind: str, seed: int = 0) -> LanguageModel:
    manual_seed(seed)
    model = build_model(kind, SMALL[kind])
    rng = np.random.default_rng(seed)
    for p in model.parameters():  # sharp predictions, so that what a token sees changes what is sampled
        p.data[...] = rng.normal(0.0, 2.0, p.shape)
    return model


def test_every_kind_is_a_language_model_that_knows_its_context():
    assert set(MODELS) == {"bigram", "mlp", "gpt"}
    assert {kind: small(kind).get_block_size() for kind in MODELS} == {"bigram": 1, "mlp": 4, "gpt": 8}
    for kind in MODELS:
        assert isinstance(small(kind), LanguageModel)


@pytest.mark.parametrize("kind", ["bigram", "mlp", "gpt"])
def test_generate_samples_each_token_from_the_last_block_size_tokens(kind):
    model = small(kind)
    start = np.array([[1, 2], [3, 4]])
    out = model.generate(start, 20, temperature=0.7, top_k=5, exact_window=True, rng=np.random.default_rng(3))
    want, rng, block = start, np.random.default_rng(3), model.get_block_size()
    for _ in range(20):  # makemore's and nanoGPT's generate, a whole forward pass per token
        logits = model(want[:, -block:]).data[:, -1, :]
        want = np.concatenate([want, sample_next(logits, 0.7, 5, None, rng)[:, None]], axis=1)
    np.testing.assert_array_equal(out, want)
    assert out.dtype == np.int64


@pytest.mark.parametrize("kind", ["bigram", "mlp", "gpt"])
def test_every_kind_refuses_bad_prompts_and_options(kind):
    model = small(kind)
    with pytest.raises(ValueError, match=r"prompt token ids must be in 0\.\.10, got 0\.\.11"):
        model.generate(np.array([[0, 11]]), 3)
    with pytest.raises(ValueError, match="prompt of integer token ids"):
        model.generate(np.zeros((1, 0), dtype=np.int64), 3)
    with pytest.raises(ValueError, match="prompt of integer token ids"):
        model.generate(np.array([[0.5]]), 3)
    with pytest.raises(ValueError, match="temperature must be > 0 and finite"):
        model.generate(np.array([[1]]), 3, temperature=float("inf"))


@pytest.mark.parametrize("kind", ["bigram", "mlp", "gpt"])
def test_a_vanishing_temperature_is_greedy(kind):
    model = small(kind, seed=1)
    start = np.array([[1], [5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow, no invalid value
        cold = model.generate(start, 12, temperature=5e-324, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(cold, model.generate(start, 12, top_k=1))


def test_next_token_probs_is_softmax_with_temperature_top_k_and_top_p():
    logits = np.log(np.array([0.1, 0.6, 0.3]))
    np.testing.assert_allclose(next_token_probs(logits), [0.1, 0.6, 0.3])
    assert next_token_probs(logits).dtype == np.float64
    np.testing.assert_allclose(next_token_probs(logits, 0.5), np.array([0.01, 0.36, 0.09]) / 0.46)
    np.testing.assert_allclose(next_token_probs(logits, top_k=2), [0, 2 / 3, 1 / 3])
    np.testing.assert_allclose(next_token_probs(logits, top_p=0.5), [0, 1, 0])
    np.testing.assert_allclose(next_token_probs(logits, top_p=0.8), [0, 2 / 3, 1 / 3])
    np.testing.assert_allclose(next_token_probs(logits, 1e6), [1 / 3] * 3, atol=1e-6)
    rows = next_token_probs(np.stack([logits, logits[::-1]]), top_k=1)
    np.testing.assert_array_equal(rows, [[0, 1, 0], [0, 1, 0]])


def test_next_token_probs_at_a_vanishing_temperature_is_the_argmax_not_token_0():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for t in (5e-324, 1e-300, 1e-30):
            np.testing.assert_array_equal(next_token_probs(np.array([1.0, 3.0, 2.0]), t), [0, 1, 0])
            np.testing.assert_array_equal(next_token_probs(np.array([1e30, -1e30, 1e30]), t), [0.5, 0, 0.5])
    with pytest.raises(ValueError, match="logits are not finite"):
        next_token_probs(np.array([0.0, np.nan]))


def test_build_model_rebuilds_a_saved_config_and_refuses_unknown_settings():
    for kind in MODELS:
        model = small(kind)
        again = build_model(kind, dataclasses.asdict(model.config))
        assert again.config == model.config
    with pytest.raises(ValueError, match="the mlp model has no setting n_layer"):
        build_model("mlp", {"n_layer": 2})
    with pytest.raises(ValueError, match="unknown model 'rnn'"):
        build_model("rnn", {})


@pytest.mark.parametrize("kind, config", [
    ("bigram", {"vocab_size": 27}),
    ("mlp", {"vocab_size": 27}),
    ("mlp", {"vocab_size": 65, "block_size": 8, "n_embd": 4, "n_hidden": 32, "pad_token": None}),
    ("gpt", {"vocab_size": 65, "block_size": 64}),
    ("gpt", {"vocab_size": 13, "block_size": 16, "n_layer": 3, "n_head": 2, "n_embd": 24, "bias": True}),
])
def test_count_params_is_the_built_models_count(kind, config):
    model = build_model(kind, config)
    assert count_params(kind, config) == sum(p.data.size for p in model.parameters())


@pytest.mark.parametrize("kind, config, batch, seq_len", [
    ("bigram", {"vocab_size": 65}, 64, 64),
    ("mlp", {"vocab_size": 27, "block_size": 3, "n_embd": 10, "n_hidden": 200}, 256, 16),
    ("gpt", {"vocab_size": 65, "block_size": 64, "n_layer": 2, "n_head": 4, "n_embd": 64}, 8, 64),
])
def test_training_memory_is_a_lower_bound_within_a_small_factor_of_a_real_step(kind, config, batch, seq_len):
    rng = np.random.default_rng(0)
    x, y = (rng.integers(0, config["vocab_size"], (batch, seq_len)) for _ in range(2))
    tracemalloc.start()  # NumPy reports its arrays to tracemalloc
    try:
        model = build_model(kind, config)
        optimizer = AdamW(model.parameters(), lr=1e-3)
        for _ in range(2):  # the second step has AdamW's moments too
            logits = model(x)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            del logits, loss
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    estimate = training_memory(kind, config, batch, seq_len)
    assert estimate <= peak <= 2.5 * estimate
    assert training_memory(kind, config, 2 * batch, seq_len) > estimate  # more positions, more memory
