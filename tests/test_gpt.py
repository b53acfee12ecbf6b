"""The GPT (gradschool.nn.gpt) against nanoGPT's architecture in PyTorch; its KV cache, sampling, export."""

import json
import math

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch_gpt import Block as TorchBlock
from torch_gpt import TorchGPT

from gradschool.nanogpt import load_torch, load_torch_state_dict, save_torch, to_torch_state_dict
from gradschool.nn.gpt import GPT, Block, GPTConfig, KVCache
from gradschool.sampling import sample_next
from gradschool.tensor import Tensor, manual_seed

CONFIG = GPTConfig(block_size=16, vocab_size=13, n_layer=2, n_head=2, n_embd=16, dropout=0.0, bias=True)


def make_gpt(config: GPTConfig = CONFIG, dtype=np.float32, seed: int = 0) -> GPT:
    manual_seed(seed)
    model = GPT(config)
    for p in model.parameters():
        p.data = p.data.astype(dtype)
    return model


def torch_copy(model: GPT) -> TorchGPT:
    """nanoGPT's architecture in PyTorch with the model's weights, loaded through the torch export."""
    ref = TorchGPT(model.config)
    if model.transformer.wte.weight.dtype == np.float64:
        ref = ref.double()
    ref.load_state_dict(to_torch_state_dict(model))
    return ref


def batch(config: GPTConfig, B: int = 3, T: int | None = None, seed: int = 1):
    rng = np.random.default_rng(seed)
    T = T or config.block_size
    return rng.integers(0, config.vocab_size, (B, T)), rng.integers(0, config.vocab_size, (B, T))


def test_state_dict_has_nanogpt_names_and_shapes():
    model = make_gpt()
    ours = {name: tuple(t.shape) for name, t in to_torch_state_dict(model).items()}
    want = {name: tuple(t.shape) for name, t in TorchGPT(CONFIG).state_dict().items()}
    assert ours == want
    assert "transformer.h.0.attn.c_attn.weight" in ours and ours["lm_head.weight"] == (13, 16)


def test_embeddings_are_tied_and_init_is_gpt2():
    config = GPTConfig(block_size=32, vocab_size=50, n_layer=8, n_head=4, n_embd=64)
    model = make_gpt(config)
    assert model.lm_head.weight is model.transformer.wte.weight
    assert len({id(p) for p in model.parameters()}) == len(list(model.parameters()))
    named = dict(model.named_parameters())
    proj = np.concatenate([named[f"transformer.h.{i}.{m}.c_proj.weight"].data.ravel()
                           for i in range(8) for m in ("attn", "mlp")])
    fc = np.concatenate([named[f"transformer.h.{i}.mlp.c_fc.weight"].data.ravel() for i in range(8)])
    assert proj.std() == pytest.approx(0.02 / math.sqrt(2 * 8), rel=0.05)
    assert fc.std() == pytest.approx(0.02, rel=0.05)
    assert np.all(named["transformer.ln_f.weight"].data == 1)
    n_all = sum(p.data.size for p in model.parameters())
    assert model.get_num_params(non_embedding=False) == n_all
    assert model.get_num_params() == n_all - 32 * 64


@pytest.mark.parametrize("bias", [False, True])
def test_block_forward_backward_matches_torch_float64(bias):
    config = GPTConfig(block_size=8, vocab_size=11, n_layer=2, n_head=4, n_embd=16, bias=bias)
    manual_seed(3)
    block = Block(config)
    rng = np.random.default_rng(3)
    for p in block.parameters():  # random values everywhere, so no weight hides behind a 0 or a 1
        p.data = p.data.astype(np.float64) + 0.1 * rng.standard_normal(p.shape)
    ref = TorchBlock(config).double()
    ref.load_state_dict({name: torch.tensor(w) for name, w in block.state_dict().items()})
    x, g = rng.standard_normal((2, 8, 16)), rng.standard_normal((2, 8, 16))
    xt = Tensor(x, requires_grad=True)
    block(xt).backward(g)
    xr = torch.tensor(x, requires_grad=True)
    want = ref(xr)
    want.backward(torch.tensor(g))
    np.testing.assert_allclose(block(Tensor(x)).data, want.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(xt.grad, xr.grad.numpy(), rtol=0, atol=1e-12)
    ref_params = dict(ref.named_parameters())
    for name, p in block.named_parameters():
        np.testing.assert_allclose(p.grad, ref_params[name].grad.numpy(), rtol=0, atol=1e-11, err_msg=name)


@pytest.mark.parametrize("bias", [False, True])
def test_gpt_forward_backward_matches_torch_float64(bias):
    config = GPTConfig(block_size=16, vocab_size=13, n_layer=2, n_head=2, n_embd=16, bias=bias)
    model = make_gpt(config, np.float64)
    ref = torch_copy(model)
    x, y = batch(config)
    y[0, :5] = -1  # ignored targets
    logits, loss = model(x, y)
    loss.backward()
    want_logits, want_loss = ref(torch.tensor(x), torch.tensor(y))
    want_loss.backward()
    np.testing.assert_allclose(logits.data, want_logits.detach().numpy(), rtol=0, atol=1e-12)
    assert loss.item() == pytest.approx(want_loss.item(), abs=1e-12)
    ref_params = dict(ref.named_parameters())  # the tied lm_head.weight is listed once, as wte.weight
    checked = 0
    for name, p in model.named_parameters():
        if name in ref_params:
            want = ref_params[name].grad.numpy()
            np.testing.assert_allclose(p.grad, want, rtol=0, atol=1e-11, err_msg=name)
            checked += 1
    assert checked == len(ref_params)


def test_forward_without_targets_and_too_long_input():
    model = make_gpt()
    x, _ = batch(CONFIG, T=5)
    assert model(x).shape == (3, 5, 13)
    with pytest.raises(ValueError, match="block_size is 16"):
        model(np.zeros((1, 17), dtype=np.int64))
    with pytest.raises(ValueError, match="integer token ids"):
        model(np.zeros((1, 4)))


def test_exported_torch_file_gives_the_same_logits_float32(tmp_path):
    model = make_gpt(GPTConfig(block_size=32, vocab_size=65, n_layer=2, n_head=4, n_embd=32), seed=5)
    path = tmp_path / "model.pt"
    save_torch(model, path)
    ref = TorchGPT(model.config)
    ref.load_state_dict(torch.load(path, weights_only=True))
    x, _ = batch(model.config, B=2)
    ours = model(x).data
    want = ref(torch.tensor(x)).detach().numpy()
    assert ours.dtype == want.dtype == np.float32
    assert np.abs(ours - want).max() <= 1e-5
    back = load_torch(path, model.config)  # and the way back
    np.testing.assert_array_equal(back(x).data, ours)


def test_import_refuses_untied_head_and_wrong_names(tmp_path):
    model = make_gpt()
    sd = to_torch_state_dict(model)
    sd["lm_head.weight"] = sd["lm_head.weight"].clone() + 1
    with pytest.raises(ValueError, match="tied"):
        load_torch_state_dict(make_gpt(), sd)
    sd = to_torch_state_dict(model)
    sd["transformer.h.9.mlp.c_fc.weight"] = sd.pop("transformer.h.1.mlp.c_fc.weight")
    with pytest.raises(ValueError, match=r"missing keys.*h\.1\.mlp\.c_fc\.weight"):
        load_torch_state_dict(make_gpt(), sd)


def test_kv_cache_logits_equal_full_forward_logits():
    model = make_gpt(dtype=np.float64)
    x, _ = batch(CONFIG, B=2)
    full = model(x).data
    caches = [KVCache(CONFIG.block_size) for _ in model.transformer.h]
    steps = [model(x[:, :5], caches=caches).data] + [model(x[:, t : t + 1], caches=caches).data
                                                      for t in range(5, CONFIG.block_size)]
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, rtol=0, atol=1e-12)


def test_sampling_with_a_seed_is_reproducible():
    model = make_gpt()
    prompt = np.zeros((2, 3), dtype=np.int64)
    a = model.generate(prompt, 40, rng=np.random.default_rng(7))
    b = model.generate(prompt, 40, rng=np.random.default_rng(7))
    c = model.generate(prompt, 40, rng=np.random.default_rng(8))
    assert a.shape == (2, 43) and np.array_equal(a[:, :3], prompt)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_top_k_1_is_greedy_and_matches_the_full_forward():
    model = make_gpt(seed=2)
    out = model.generate(np.array([[1, 2]]), CONFIG.block_size - 2, top_k=1, rng=np.random.default_rng(0))
    want = np.array([[1, 2]])
    for _ in range(CONFIG.block_size - 2):  # greedy without a cache: a whole forward pass per token
        want = np.concatenate([want, model(want).data[:, -1].argmax(-1)[:, None]], axis=1)
    np.testing.assert_array_equal(out, want)


def test_generation_past_block_size_keeps_going():
    model = make_gpt()
    out = model.generate(np.array([[3]]), 3 * CONFIG.block_size, top_k=1)
    assert out.shape == (1, 1 + 3 * CONFIG.block_size)
    assert out.min() >= 0 and out.max() < CONFIG.vocab_size


def test_exact_window_past_block_size_samples_as_nanogpts_cropped_forward():
    model = make_gpt(seed=6)
    for p in model.parameters():
        p.data *= 4  # sharper predictions, so that the context a token sees changes what is sampled
    n, start = 2 * CONFIG.block_size + 3, np.array([[5, 1]])
    out = model.generate(start, n, exact_window=True, rng=np.random.default_rng(3))
    want, rng = start, np.random.default_rng(3)
    for _ in range(n):  # nanoGPT's generate: crop to block_size, a whole forward pass per token
        logits = model(want[:, -CONFIG.block_size :]).data[:, -1, :]
        want = np.concatenate([want, sample_next(logits, 1.0, None, None, rng)[:, None]], axis=1)
    np.testing.assert_array_equal(out, want)
    restarted = model.generate(start, n, rng=np.random.default_rng(3))  # the default: the cache restarts
    assert not np.array_equal(restarted, want)


def test_long_prompt_is_cropped_to_block_size():
    model = make_gpt(seed=4)
    prompt = np.random.default_rng(0).integers(0, 13, (1, CONFIG.block_size + 7))
    out = model.generate(prompt, 1, top_k=1)
    np.testing.assert_array_equal(out[:, :-1], prompt)
    assert out[0, -1] == model(prompt[:, -CONFIG.block_size :]).data[0, -1].argmax()


def test_bad_prompts_and_options_are_refused():
    model = make_gpt()
    with pytest.raises(ValueError, match=r"prompt token ids must be in 0\.\.12"):
        model.generate(np.array([[13]]), 5)
    with pytest.raises(ValueError, match="prompt of integer token ids"):
        model.generate(np.zeros((1, 0), dtype=np.int64), 5)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        model.generate(np.array([[1]]), 5, temperature=0)


def tiny_run(out_dir, max_iters: int = 2, **overrides):
    """A few steps of `gradschool train --model gpt` on the shipped Shakespeare, with a tiny model."""
    from gradschool.train import make_config, train

    settings = dict(max_iters=max_iters, lr_decay_iters=4, eval_interval=2, eval_iters=1, batch_size=2,
                    block_size=16, n_layer=1, n_head=2, n_embd=16, out_dir=str(out_dir))
    config = make_config("gpt", "shakespeare", **{**settings, **overrides})
    return config, train(config, progress=False)


def step_losses(out_dir) -> list[float]:
    records = [json.loads(line) for line in (out_dir / "metrics.jsonl").read_text().splitlines()]
    return [r["loss"] for r in records if "loss" in r]


def test_resume_after_a_stop_matches_the_uninterrupted_gpt_run(tmp_path):
    from gradschool.train import resume_config, train

    tiny_run(tmp_path / "whole", max_iters=4, dropout=0.1)  # dropout: the resumed run needs the RNG state too
    tiny_run(tmp_path / "parts", max_iters=2, dropout=0.1)
    train(resume_config(tmp_path / "parts", max_iters=4), resume=True, progress=False)
    whole = step_losses(tmp_path / "whole")
    assert len(whole) == 4
    assert step_losses(tmp_path / "parts") == whole


def test_cli_export_to_torch_and_back(tmp_path):
    from gradschool.cli import cli
    from gradschool.runs import load_model
    from gradschool.sample import sample

    tiny_run(tmp_path / "run")
    runner = CliRunner()
    result = runner.invoke(cli, ["export", str(tmp_path / "run"), "--to", "torch", str(tmp_path / "exp")])
    assert result.exit_code == 0, result.output
    model, _, _ = load_model(tmp_path / "run")
    meta = json.loads((tmp_path / "exp" / "config.json").read_text())
    ref = TorchGPT(GPTConfig(**meta["model_config"]))
    ref.load_state_dict(torch.load(tmp_path / "exp" / "model.pt", weights_only=True))
    x, _ = batch(model.config, B=2)
    assert np.abs(model(x).data - ref(torch.tensor(x)).detach().numpy()).max() <= 1e-5

    result = runner.invoke(cli, ["export", "--from", "torch", str(tmp_path / "exp" / "model.pt"),
                                 "--out", str(tmp_path / "back")])
    assert result.exit_code == 0, result.output
    assert sample(tmp_path / "back", num=2, max_new_tokens=20, seed=3) == sample(
        tmp_path / "run", num=2, max_new_tokens=20, seed=3)

    result = runner.invoke(cli, ["export", str(tmp_path / "run")])
    assert result.exit_code == 2 and "either RUN --to FORMAT PATH (torch DIR, nanogpt DIR" in result.output
    (tmp_path / "exp" / "config.json").unlink()
    result = runner.invoke(cli, ["export", "--from", "torch", str(tmp_path / "exp" / "model.pt"),
                                 "--out", str(tmp_path / "other")])
    assert result.exit_code != 0 and "config.json" in result.output and "is missing" in result.output


def test_prompt_with_characters_outside_the_vocabulary_is_refused(tmp_path):
    from gradschool.data import DataError
    from gradschool.sample import sample

    tiny_run(tmp_path / "run")
    with pytest.raises(DataError, match="characters not in the vocabulary: .*€"):
        sample(tmp_path / "run", num=1, prompt="To be €", max_new_tokens=5)
    assert sample(tmp_path / "run", num=1, prompt="To be", max_new_tokens=5, seed=0)[0].startswith("To be")


def test_gpt_attention_weights_rows_sum_to_one_and_equal_a_recomputation():
    model = make_gpt(dtype=np.float64)
    ids = np.array([3, 1, 4, 1, 5, 9, 2, 6])
    T, H = len(ids), CONFIG.n_head
    size = CONFIG.n_embd // H
    for layer in range(CONFIG.n_layer):
        w = model.attention_weights(ids, layer)
        assert w.shape == (H, T, T)
        np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
        assert np.all(np.triu(w, k=1) == 0), "a position attended to the future"
        # by hand: the blocks before `layer`, then softmax(q k^T / sqrt(head size)) with the causal mask
        tr = model.transformer
        x = tr.wte(ids[None]) + tr.wpe(np.arange(T))
        for block in list(tr.h)[:layer]:
            x = block(x)
        qkv = tr.h[layer].attn.c_attn(tr.h[layer].ln_1(x)).data[0]
        q, k = qkv[:, :CONFIG.n_embd], qkv[:, CONFIG.n_embd:2 * CONFIG.n_embd]
        for h in range(H):
            s = q[:, h * size:(h + 1) * size] @ k[:, h * size:(h + 1) * size].T / np.sqrt(size)
            s = np.where(np.tri(T, dtype=bool), s, -np.inf)
            want = np.exp(s - s.max(axis=1, keepdims=True))
            np.testing.assert_allclose(w[h], want / want.sum(axis=1, keepdims=True), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(model.attention_weights(ids[None], 1), model.attention_weights(ids, 1))
    with pytest.raises(ValueError, match=r"layer must be one of 0..1"):
        model.attention_weights(ids, 2)
    with pytest.raises(ValueError, match="one sequence"):
        model.attention_weights(np.zeros((2, 3), dtype=np.int64), 0)


def test_gpt_dropout_only_in_training():
    config = GPTConfig(block_size=16, vocab_size=13, n_layer=2, n_head=2, n_embd=16, dropout=0.2)
    model = make_gpt(config)
    x, y = batch(config)
    model.eval()
    evaluated = model(x, y)[1].item()
    assert model(x, y)[1].item() == evaluated  # eval: deterministic
    no_dropout = make_gpt(GPTConfig(**{**config.__dict__, "dropout": 0.0}))
    assert no_dropout(x, y)[1].item() == evaluated  # eval is the model without dropout
    model.train()
    first, second = model(x, y)[1].item(), model(x, y)[1].item()
    assert first != evaluated and first != second
