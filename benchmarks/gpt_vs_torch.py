"""GPT training speed: gradschool's NumPy engine against the same model in PyTorch eager, on the CPU.

Same architecture (nanoGPT's, see tests/torch_gpt.py), same config, same initial weights, same batches of
tinyshakespeare, same thread count, AdamW with weight decay on 2-D weights and gradient clipping in both.
The training steps (forward + backward + clip + AdamW) alternate between the two in one run; the first steps
are warm-up and not timed. Peak memory is measured in a fresh process per framework. Then sampling: tokens/s
of GPT.generate with its KV cache against a full forward pass per new token.

    python benchmarks/gpt_vs_torch.py                 # the CPU recipe's size (4 layers, 128 wide, block 64)
    python benchmarks/gpt_vs_torch.py --size gpu      # nanoGPT's GPU recipe size (6 layers, 384, block 256)
    OMP_NUM_THREADS=1 python benchmarks/gpt_vs_torch.py   # threads for both (default 2)
"""

import os

THREADS = os.environ.setdefault("OMP_NUM_THREADS", "2")  # before NumPy starts OpenBLAS's threads
os.environ.setdefault("OPENBLAS_NUM_THREADS", THREADS)

import gradschool  # noqa: E402, F401  # first, before NumPy: it tells OpenBLAS's idle threads to sleep at once

# isort: split
import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from gradschool.data.batches import get_batch  # noqa: E402
from gradschool.nanogpt import to_torch_state_dict  # noqa: E402
from gradschool.nn.gpt import GPT, GPTConfig  # noqa: E402
from gradschool.optim import AdamW, clip_grad_norm_  # noqa: E402
from gradschool.sampling import sample_next  # noqa: E402
from gradschool.tensor import manual_seed, no_grad  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from torch_gpt import TorchGPT  # noqa: E402

torch.set_num_threads(int(THREADS))
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tinyshakespeare.txt"
SIZES = {  # model config, batch size
    "cpu": (dict(block_size=64, n_layer=4, n_head=4, n_embd=128), 12),
    "gpu": (dict(block_size=256, n_layer=6, n_head=6, n_embd=384), 64),
}
LR, BETAS, WEIGHT_DECAY, GRAD_CLIP = 1e-3, (0.9, 0.99), 0.1, 1.0


def load_tokens() -> tuple[np.ndarray, int]:
    """tinyshakespeare as character ids (its characters are ASCII: one byte each)."""
    raw = np.frombuffer(DATA.read_bytes(), dtype=np.uint8)
    chars, ids = np.unique(raw, return_inverse=True)
    return ids.astype(np.int64), len(chars)


def groups(params: list, weight_decay: float) -> list[dict]:
    """nanoGPT's rule: decay the 2-D weights, not the biases and layer norms."""
    return [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]


def build(size: str, vocab_size: int) -> tuple[GPTConfig, int, GPT, AdamW]:
    """The gradschool GPT of this size, and its optimizer."""
    model_args, batch_size = SIZES[size]
    config = GPTConfig(vocab_size=vocab_size, dropout=0.0, bias=False, **model_args)
    manual_seed(1337)
    model = GPT(config)
    opt = AdamW(
        [g for g in groups(list(model.parameters()), WEIGHT_DECAY) if g["params"]], lr=LR, betas=BETAS
    )
    return config, batch_size, model, opt


def torch_copy(model: GPT) -> tuple[TorchGPT, torch.optim.AdamW]:
    """The same model in PyTorch with the same weights, and its optimizer."""
    ref = TorchGPT(model.config)
    ref.load_state_dict(to_torch_state_dict(model))
    ref_opt = torch.optim.AdamW(
        [g for g in groups(list(ref.parameters()), WEIGHT_DECAY) if g["params"]], lr=LR, betas=BETAS
    )
    return ref, ref_opt


def step_gradschool(model: GPT, opt: AdamW, x: np.ndarray, y: np.ndarray) -> float:
    _, loss = model(x, y)
    opt.zero_grad()
    loss.backward()
    clip_grad_norm_(model.parameters(), GRAD_CLIP)
    opt.step()
    return loss.item()


def step_torch(model: TorchGPT, opt: torch.optim.Optimizer, x: np.ndarray, y: np.ndarray) -> float:
    _, loss = model(torch.from_numpy(x), torch.from_numpy(y))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
    opt.step()
    return loss.item()


def compare_training(size: str, iters: int, warmup: int) -> None:
    tokens, vocab_size = load_tokens()
    config, batch_size, model, opt = build(size, vocab_size)
    ref, ref_opt = torch_copy(model)
    print(f"\n== training, {size} size: {config.n_layer} layers, {config.n_head} heads, "
          f"{config.n_embd} wide, block {config.block_size}, batch {batch_size}, "
          f"{model.get_num_params() / 1e6:.2f}M params, {THREADS} threads ==")
    rng = np.random.default_rng(0)
    times: dict[str, list[float]] = {"gradschool": [], "torch": []}
    print(f"{'step':>5} {'gradschool loss':>16} {'torch loss':>11} {'diff':>9} {'gradschool ms':>14} "
          f"{'torch ms':>9}")
    for it in range(warmup + iters):
        x, y = get_batch(tokens, batch_size, config.block_size, rng)
        t0 = time.perf_counter()
        loss = step_gradschool(model, opt, x, y)
        t1 = time.perf_counter()
        ref_loss = step_torch(ref, ref_opt, x, y)
        t2 = time.perf_counter()
        if it >= warmup:
            times["gradschool"].append(t1 - t0)
            times["torch"].append(t2 - t1)
        if it < 10 or it == warmup + iters - 1:
            print(f"{it:>5} {loss:>16.6f} {ref_loss:>11.6f} {loss - ref_loss:>9.1e} "
                  f"{1000 * (t1 - t0):>14.0f} {1000 * (t2 - t1):>9.0f}", flush=True)
    ms = {name: 1000 * float(np.median(t)) for name, t in times.items()}
    memory = {name: peak_memory_mb(name, size) for name in times}
    print(f"ms/iter (median of {iters}): gradschool {ms['gradschool']:.1f}, torch {ms['torch']:.1f}, "
          f"ratio {ms['gradschool'] / ms['torch']:.2f}x")
    print(f"peak memory of a training step (fresh process, MB over the data and imports): "
          f"gradschool {memory['gradschool']:.0f}, torch {memory['torch']:.0f}")


def peak_memory_mb(framework: str, size: str) -> float:
    """Peak resident memory added by building the model and taking training steps, in a fresh process."""
    out = subprocess.run([sys.executable, __file__, "--memory", framework, "--size", size],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["mb"]


def rss_mb() -> float:
    """This process's resident memory now, in MB (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def memory_child(framework: str, size: str) -> None:
    """Print the peak resident memory during training steps, above the memory before the model was built."""
    tokens, vocab_size = load_tokens()
    before = rss_mb()
    config, batch_size, model, opt = build(size, vocab_size)
    if framework == "gradschool":
        step = lambda x, y: step_gradschool(model, opt, x, y)  # noqa: E731
    else:
        ref, ref_opt = torch_copy(model)
        del model, opt
        step = lambda x, y: step_torch(ref, ref_opt, x, y)  # noqa: E731
    peak, done = [before], threading.Event()

    def watch() -> None:  # sample the resident memory every half millisecond
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.0005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    rng = np.random.default_rng(0)
    for _ in range(3 if size == "cpu" else 1):
        step(*get_batch(tokens, batch_size, config.block_size, rng))
    done.set()
    watcher.join()
    print(json.dumps({"mb": peak[0] - before}))


def generate_without_cache(model: GPT, idx: np.ndarray, max_new_tokens: int, rng) -> np.ndarray:
    """nanoGPT's generate: the whole (cropped) context through the model for every new token."""
    with no_grad():
        for _ in range(max_new_tokens):
            logits = model(idx[:, -model.config.block_size :]).data[:, -1, :]
            idx = np.concatenate([idx, sample_next(logits, rng=rng)[:, None]], axis=1)
    return idx


def compare_sampling(size: str, new_tokens: int) -> None:
    _, vocab_size = load_tokens()
    model_args, _ = SIZES[size]
    manual_seed(0)
    model = GPT(GPTConfig(vocab_size=vocab_size, **model_args))
    model.eval()
    prompt = np.zeros((1, 1), dtype=np.int64)
    block = model.config.block_size
    print(f"\n== sampling, {size} size, batch 1, {new_tokens} new tokens (block {block}) ==")
    rates = {}
    for name, fn in (("KV cache", lambda: model.generate(prompt, new_tokens, rng=np.random.default_rng(0))),
                     ("no cache", lambda: generate_without_cache(model, prompt, new_tokens,
                                                                 np.random.default_rng(0)))):
        t0 = time.perf_counter()
        fn()
        rates[name] = new_tokens / (time.perf_counter() - t0)
        print(f"{name}: {rates[name]:.0f} tokens/s")
    print(f"KV cache speed-up: {rates['KV cache'] / rates['no cache']:.1f}x")


def full_val_loss(run: str, data: str) -> None:
    """The loss of a trained run's best model on every character of the val split (not 20 random batches)."""
    from gradschool.data import load_text
    from gradschool.data.splits import split_text
    from gradschool.runs import load_model

    model, tokenizer, _ = load_model(run)
    _, val = split_text(np.array(tokenizer.encode(load_text(data)), dtype=np.int64))
    T = model.config.block_size
    n = (len(val) - 1) // T
    x, y = val[: n * T].reshape(n, T), val[1 : n * T + 1].reshape(n, T)
    with no_grad():
        losses = [model(x[i : i + 64], y[i : i + 64])[1].item() * len(x[i : i + 64]) for i in range(0, n, 64)]
    print(f"{run}: loss over the whole val split ({n} windows of {T}, {n * T} targets): "
          f"{sum(losses) / n:.4f}")


def torch_recipe(data_spec: str, seed: int | None, preset: str = "nanogpt-cpu") -> None:
    """The preset's training run with the PyTorch model, on exactly the batches, initial weights, schedule and
    eval batches of `gradschool train --preset PRESET --data DATA --seed SEED --random-stream gradschool`:
    prints the val losses. (With the nanogpt stream the PyTorch run is nanoGPT's own: nanogpt_recipe.py.)"""
    from gradschool.nn.registry import build_model
    from gradschool.train import LanguageData, draw_eval_batches, get_lr, make_config, model_settings

    cfg = make_config("gpt", data_spec, preset=preset, seed=seed, random_stream="gradschool")
    data = LanguageData(cfg.data, cfg.data_format, cfg.block_size)
    manual_seed(cfg.seed)  # the same order of random draws as gradschool.train.train
    batch_rng, eval_rng = np.random.default_rng(cfg.seed), np.random.default_rng(cfg.seed + 1)
    fixed_eval_batches = draw_eval_batches(data, cfg, eval_rng) if cfg.eval_batches == "fixed" else None
    model = build_model("gpt", model_settings(cfg, data))
    ref = TorchGPT(model.config)
    ref.load_state_dict(to_torch_state_dict(model))
    opt = torch.optim.AdamW([g for g in groups(list(ref.parameters()), cfg.weight_decay) if g["params"]],
                            lr=cfg.learning_rate, betas=(cfg.beta1, cfg.beta2))
    for it in range(cfg.max_iters + 1):
        for group in opt.param_groups:
            group["lr"] = get_lr(it, cfg)
        if it % cfg.eval_interval == 0 or it == cfg.max_iters:
            ref.eval()
            # the train split's batches are drawn too (and unused), so that eval_rng moves as in the loop
            val_batches = (fixed_eval_batches or draw_eval_batches(data, cfg, eval_rng))["val"]
            with torch.no_grad():
                val = np.mean([ref(torch.tensor(x), torch.tensor(y))[1].item() for x, y in val_batches])
            ref.train()
            print(f"step {it}: val loss {val:.4f} (PyTorch model, gradschool's batches)", flush=True)
        if it < cfg.max_iters:
            x, y = data.batch("train", cfg.batch_size, batch_rng)
            _, loss = ref(torch.from_numpy(x), torch.from_numpy(y))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(ref.parameters(), cfg.grad_clip)
            opt.step()


def time_alone(engine: str, size: str, iters: int, warmup: int) -> None:
    """Time one engine's training steps while the other library stays idle, so its thread pool never spins on
    the cores meanwhile (run it once per engine, one after the other, and compare)."""
    tokens, vocab_size = load_tokens()
    config, batch_size, model, opt = build(size, vocab_size)
    step = step_gradschool
    if engine == "torch":
        (model, opt), step = torch_copy(model), step_torch
    rng = np.random.default_rng(0)
    times = []
    for it in range(warmup + iters):
        x, y = get_batch(tokens, batch_size, config.block_size, rng)
        t0 = time.perf_counter()
        step(model, opt, x, y)
        if it >= warmup:
            times.append(time.perf_counter() - t0)
    print(f"{engine} alone, {size} size, {THREADS} threads: {1000 * float(np.median(times)):.1f} ms/iter "
          f"(median of {iters})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=[*SIZES, "both"], default="cpu")
    parser.add_argument("--iters", type=int, default=None, help="timed steps (default 50 cpu, 3 gpu)")
    parser.add_argument("--memory", choices=["gradschool", "torch"], help=argparse.SUPPRESS)
    parser.add_argument("--full-val", metavar="RUN",
                        help="instead: the val loss of RUN's best model on all of the val split of --data")
    parser.add_argument("--torch-recipe", action="store_true",
                        help="instead: the nanogpt-cpu preset's run on --data with the PyTorch model")
    parser.add_argument("--data", default=str(DATA), help="the text (with --full-val or --torch-recipe)")
    parser.add_argument("--seed", type=int, default=None, help="with --torch-recipe: the run's seed")
    parser.add_argument("--alone", choices=["gradschool", "torch"],
                        help="instead: time only this engine's training steps (run once per engine)")
    args = parser.parse_args()
    if args.alone:
        time_alone(args.alone, "cpu" if args.size == "both" else args.size, args.iters or 40, warmup=5)
        return
    if args.full_val:
        full_val_loss(args.full_val, args.data)
        return
    if args.torch_recipe:
        torch_recipe(args.data, args.seed)
        return
    if args.memory:
        memory_child(args.memory, args.size)
        return
    for size in SIZES if args.size == "both" else [args.size]:
        iters = args.iters or (50 if size == "cpu" else 3)
        compare_training(size, iters, warmup=5 if size == "cpu" else 1)
        compare_sampling(size, 500 if size == "cpu" else 100)


if __name__ == "__main__":
    main()
