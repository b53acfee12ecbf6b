"""TorchGenerator against torch's own CPU generator, and nanogpt.init_like_nanogpt against nanoGPT's init."""

import numpy as np
import pytest
import torch
from torch_gpt import TorchGPT

from gradschool.nanogpt import init_like_nanogpt, to_torch_state_dict
from gradschool.nn.gpt import GPT, GPTConfig
from gradschool.tensor.torch_random import TorchGenerator

SEEDS = [0, 1, 1337, 2**32 + 5]  # the last: torch keeps the low 32 bits for the Mersenne Twister


@pytest.mark.parametrize("seed", SEEDS)
def test_integers_are_torch_randint(seed):
    torch.manual_seed(seed)
    g = TorchGenerator(seed)
    for low, high, size in [(0, 1003854, 12), (0, 65, (3, 4)), (-5, 7, 9), (3, 2**33 + 7, (2, 5)), (0, 1, 4)]:
        expected = torch.randint(low, high, size if isinstance(size, tuple) else (size,)).numpy()
        got = g.integers(low, high, size)
        assert got.dtype == np.int64 and np.array_equal(got, expected.reshape(got.shape)), (low, high, size)


@pytest.mark.parametrize("seed", SEEDS)
def test_uniform_and_normal_are_torchs_and_keep_the_stream_in_step(seed):
    torch.manual_seed(seed)
    g = TorchGenerator(seed)
    for shape, low, high in [((7, 5), -0.3, 0.2), ((100,), 0.0, 1.0)]:
        expected = torch.empty(shape).uniform_(low, high).numpy()
        np.testing.assert_array_equal(g.uniform(low, high, shape), expected)
    # sizes that are whole blocks of 16 and sizes with a tail, which torch draws again as the last 16
    cases = [((384, 128), 0.0, 0.02), ((40,), 1.5, 2.0), ((16,), 0.0, 1.0), ((3, 11), -1.0, 0.5)]
    for shape, mean, std in cases:
        expected = torch.empty(shape).normal_(mean, std).numpy()
        got = g.normal(mean, std, shape)
        assert got.dtype == np.float32 and got.shape == shape
        # equal to a few float32 ulps: torch's vectorized log, sin and cos round a little differently
        np.testing.assert_allclose(got, expected, rtol=0, atol=2.5e-6 * std)
        # the next draws agree exactly: as many numbers were drawn as torch drew
        assert np.array_equal(g.integers(0, 1000, 3), torch.randint(1000, (3,)).numpy())


def test_small_normals_and_bad_arguments_are_refused_clearly():
    g = TorchGenerator(0)
    with pytest.raises(ValueError, match="fewer than 16 another way"):
        g.normal(0.0, 1.0, (3, 5))
    with pytest.raises(ValueError, match="low < high"):
        g.integers(5, 5, 3)
    with pytest.raises(ValueError, match="non-negative integer"):
        TorchGenerator(-1)


def test_state_round_trip_replays_the_same_draws():
    g = TorchGenerator(7)
    g.integers(0, 10, 5)
    saved = g.bit_generator.state
    first = g.integers(0, 2**40, 6), g.normal(0.0, 1.0, (32,))
    g.integers(0, 10, 100)
    g.bit_generator.state = saved
    again = g.integers(0, 2**40, 6), g.normal(0.0, 1.0, (32,))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))


@pytest.mark.parametrize("bias", [False, True])
def test_init_like_nanogpt_gives_nanogpts_weights(bias):
    config = GPTConfig(block_size=16, vocab_size=11, n_layer=2, n_head=2, n_embd=32, bias=bias)
    torch.manual_seed(1234)
    expected = TorchGPT(config).state_dict()
    model = GPT(config)
    for p in model.parameters():  # whatever it held before (a trained model, say) does not matter
        p.data[...] = 5.0
    init_like_nanogpt(model, TorchGenerator(1234))
    got = to_torch_state_dict(model)
    assert sorted(got) == sorted(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(np.asarray(got[name]), value.numpy(), rtol=0, atol=5e-8, err_msg=name)
