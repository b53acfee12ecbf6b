"""The one training loop for every language model (bigram, MLP, GPT), in the style of nanoGPT's train.py.

    config = make_config("gpt", "shakespeare", max_iters=500)
    result = train(config)                  # writes out/last.ckpt, out/best.ckpt, out/metrics.jsonl
    result = train(config, resume=True)     # continues exactly where out/last.ckpt stopped

Each step: a random batch, the forward pass, cross-entropy, backward, gradient clipping, an AdamW step with
the learning rate of the schedule (linear warmup, then cosine decay to min_lr). Every eval_interval steps the
loss is measured on eval_iters batches of the train and val splits (the same fixed batches every time, or
fresh ones each time as nanoGPT's estimate_loss draws them); the model with the best val loss is
saved to best.ckpt and the whole state (model, optimizer, step, random generators, the next batch) to
last.ckpt, so `resume` reproduces the losses of a run that was never stopped. The random numbers come from
NumPy's generators, or (random_stream "nanogpt") from torch's generator reproduced in NumPy and drawn in
nanoGPT's order, so that a seed replays nanoGPT's own run of that seed (without dropout: dropout masks always
come from gradschool's own generator). Ctrl-C stops after the current step and saves; a loss that turns NaN
or blows up stops the run with advice to lower the learning rate.
"""

import dataclasses
import importlib
import json
import math
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

import gradschool.tensor.functional as F
from gradschool import checkpoint
from gradschool.data import CORPORA, CharTokenizer, DataError, load_lines, load_text
from gradschool.data.batches import get_batch, get_example_batch, line_examples
from gradschool.data.splits import split_lines, split_text
from gradschool.diverge import check_finite, check_loss
from gradschool.nanogpt import init_like_nanogpt
from gradschool.nn import Module
from gradschool.optim import AdamW, clip_grad_norm_, cosine_lr
from gradschool.tensor import Tensor, manual_seed, no_grad
from gradschool.tensor.random import get_rng_state, set_rng_state
from gradschool.tensor.torch_random import TorchGenerator

# model kind -> (module, config class, model class)
MODELS = {
    "bigram": ("gradschool.nn.bigram", "BigramConfig", "Bigram"),
    "mlp": ("gradschool.nn.mlp_lm", "MLPConfig", "MLPLanguageModel"),
    "gpt": ("gradschool.nn.gpt", "GPTConfig", "GPT"),
}

# Training settings that suit each kind of model when no flag gives them (TrainConfig's own defaults are
# nanoGPT's CPU recipe, for the GPT); a preset named like the model (gradschool/presets.py) comes on top.
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "bigram": dict(block_size=8, batch_size=32, max_iters=1000, learning_rate=0.1, min_lr=0.01,
                   warmup_iters=0, weight_decay=0.0, eval_interval=100),
    "mlp": dict(block_size=3, batch_size=32, max_iters=3000, learning_rate=1e-2, min_lr=1e-3,
                warmup_iters=0, weight_decay=0.0, eval_interval=250),
    "gpt": {},
}

LAST, BEST, METRICS = "last.ckpt", "best.ckpt", "metrics.jsonl"
CHECKPOINT_KIND = "gradschool language model"


@dataclass
class TrainConfig:
    """Everything that defines a run; nanoGPT's names where it has one."""

    model: str = "gpt"  # bigram | mlp | gpt
    data: str = "shakespeare"  # a shipped corpus name or the path of a UTF-8 text file
    data_format: str = "auto"  # lines (one example per line, like names) | text | auto (guess from the file)
    out_dir: str = "out"
    max_iters: int = 2000
    batch_size: int = 12
    block_size: int = 64  # context length in tokens (for mlp: the characters it looks back)
    learning_rate: float = 1e-3
    decay_lr: bool = True
    min_lr: float = 1e-4
    warmup_iters: int = 100
    lr_decay_iters: int | None = None  # None: max_iters
    weight_decay: float = 0.1  # applied to 2-D weights only, as in nanoGPT
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0  # 0 turns clipping off
    eval_interval: int = 250
    eval_iters: int = 20  # batches per split in each evaluation
    eval_batches: str = "fixed"  # fixed: the same batches each evaluation | fresh: new ones (as nanoGPT)
    random_stream: str = "gradschool"  # gradschool (NumPy's generators) | nanogpt (torch's, as nanoGPT draws)
    patience: int | None = None  # stop after this many evaluations without a better val loss
    seed: int = 1337
    model_args: dict[str, Any] = field(default_factory=dict)  # the model config's own fields (n_layer, ...)


@dataclass
class TrainResult:
    iter_num: int  # steps done
    best_val_loss: float
    stopped: str  # "max_iters" | "early_stopping" | "interrupted"
    out_dir: Path


def make_config(model: str, data: str, preset: dict[str, Any] | None = None, **flags: Any) -> TrainConfig:
    """A TrainConfig from the model's defaults, then a preset's values, then the flags given (not None)."""
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    if preset is None:
        from gradschool.presets import PRESETS

        preset = PRESETS.get(model, {})
    fields = {f.name for f in dataclasses.fields(TrainConfig)} - {"model_args"}
    values: dict[str, Any] = dict(MODEL_DEFAULTS[model])
    model_args: dict[str, Any] = {}
    for source in (preset or {}), {k: v for k, v in flags.items() if v is not None}:
        for key, value in source.items():
            if key == "model_args":
                model_args.update(value)
            elif key in fields:
                values[key] = value
            else:
                model_args[key] = value
    if data not in CORPORA and Path(data).exists():
        data = str(Path(data).resolve())  # so that --resume finds it from any folder
    values.update(model=model, data=data)
    if values.get("eval_batches", "fixed") not in ("fixed", "fresh"):
        raise ValueError(f"eval_batches must be 'fixed' or 'fresh', not {values['eval_batches']!r}")
    if not isinstance(values.get("seed", 0), int) or values.get("seed", 0) < 0:
        raise ValueError(f"seed must be a non-negative integer, not {values['seed']!r}")
    stream = values.get("random_stream", "gradschool")
    if stream not in ("gradschool", "nanogpt"):
        raise ValueError(f"random_stream must be 'gradschool' or 'nanogpt', not {stream!r}")
    if stream == "nanogpt" and model != "gpt":
        raise ValueError(f"random_stream 'nanogpt' replays nanoGPT's draws for --model gpt, not {model}")
    return TrainConfig(**values, model_args=model_args)


def get_lr(it: int, config: TrainConfig) -> float:
    """Linear warmup for warmup_iters steps, then cosine decay to min_lr at lr_decay_iters (as nanoGPT)."""
    if not config.decay_lr:
        return config.learning_rate
    decay_iters = max(config.lr_decay_iters or config.max_iters, config.warmup_iters + 1)
    return cosine_lr(it, config.learning_rate, config.min_lr, config.warmup_iters, decay_iters)


class LanguageData:
    """A corpus ready for training: its tokenizer and random train/val batches of (inputs, targets)."""

    def __init__(self, spec: str, data_format: str = "auto", block_size: int = 64):
        text = load_text(spec)
        if data_format == "auto":
            data_format = "lines" if _looks_like_lines(text) else "text"
        if data_format not in ("lines", "text"):
            raise DataError(f"unknown data format {data_format!r}; use lines, text or auto")
        self.format = data_format
        if data_format == "lines":
            lines = load_lines(spec)
            self.tokenizer = CharTokenizer.from_lines(lines)
            self.seq_len = max(len(line) for line in lines) + 1  # every name with its start and end token
            train, val, _ = split_lines(lines)
            self.splits = {
                name: line_examples(part, self.tokenizer, self.seq_len)
                for name, part in (("train", train), ("val", val))
            }
        else:
            self.tokenizer = CharTokenizer.from_text(text)
            self.seq_len = block_size
            train, val = split_text(np.array(self.tokenizer.encode(text), dtype=np.int64))
            self.splits = {"train": train, "val": val}

    def batch(self, split: str, batch_size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(x, y), each (batch_size, seq_len): inputs and the targets one position later (-1 = no target)."""
        if self.format == "lines":
            return get_example_batch(*self.splits[split], batch_size, rng)
        return get_batch(self.splits[split], batch_size, self.seq_len, rng)


def _looks_like_lines(text: str) -> bool:
    """A file of short non-empty lines (like names.txt) holds one example per line."""
    lines = text.strip("\n").split("\n")
    return len(lines) >= 10 and all(0 < len(line.strip()) <= 40 for line in lines)


def build_model(
    kind: str, vocab_size: int, block_size: int, model_args: dict[str, Any], pad_token: int | None = None
) -> Module:
    """A fresh model of `kind`, its config filled from vocab_size, block_size and model_args."""
    module_name, config_name, model_name = MODELS[kind]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name == module_name:
            raise ValueError(f"the {kind} model is not written yet ({module_name})") from None
        raise
    config_cls, model_cls = getattr(module, config_name), getattr(module, model_name)
    names = {f.name for f in dataclasses.fields(config_cls)}
    unknown = sorted(set(model_args) - names)
    if unknown:
        flags = ", ".join("--" + k.replace("_", "-") for k in unknown)
        takes = ", ".join(sorted(names - {"vocab_size", "block_size", "pad_token"})) or "no size options"
        raise ValueError(f"{flags} does not apply to --model {kind} (it takes: {takes})")
    values = {"vocab_size": vocab_size, "block_size": block_size, "pad_token": pad_token, **model_args}
    return model_cls(config_cls(**{k: v for k, v in values.items() if k in names}))


def model_block_size(config: TrainConfig, data: LanguageData) -> int:
    """The model's context: block_size, except that a GPT on lines must see a whole line."""
    if config.model == "gpt" and data.format == "lines":
        return max(config.block_size, data.seq_len)
    return config.block_size


def configure_optimizer(model: Module, config: TrainConfig) -> AdamW:
    """AdamW with weight decay on the 2-D weights (matmuls, embeddings) and none on biases and norms."""
    params = list(model.parameters())
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return AdamW(
        [g for g in groups if g["params"]], lr=config.learning_rate, betas=(config.beta1, config.beta2)
    )


def lm_loss(model: Module, x: np.ndarray, y: np.ndarray) -> Tensor:
    """Mean cross-entropy of the model's next-token predictions (targets -1 are left out)."""
    logits = model(x)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-1)


def draw_eval_batches(data: LanguageData, config: TrainConfig, rng: np.random.Generator
                      ) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """config.eval_iters batches of each split (the train split's first), drawn from rng."""
    return {
        split: [data.batch(split, config.batch_size, rng) for _ in range(config.eval_iters)]
        for split in ("train", "val")
    }


def estimate_loss(model: Module, batches: dict[str, list[tuple[np.ndarray, np.ndarray]]]) -> dict[str, float]:
    """Mean loss over the given batches of each split, in eval mode (no dropout)."""
    model.eval()
    with no_grad():
        out = {
            split: float(np.mean([lm_loss(model, x, y).item() for x, y in bs]))
            for split, bs in batches.items()
        }
    model.train()
    return out


class StopRequest:
    """Turns the first Ctrl-C into a polite request to stop after the current step; a second one aborts."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def __enter__(self) -> "StopRequest":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        tqdm.write("Ctrl-C: stopping after this step and saving a checkpoint (press again to abort)")


class MetricsLog:
    """metrics.jsonl: one JSON object per training step and per evaluation."""

    def __init__(self, path: Path, keep_before: int | None):
        self.path = path
        kept = []
        if keep_before is not None and path.exists():  # resuming: drop what the resumed steps will redo
            for line in path.read_text().splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by a crash
                if record.get("iter", math.inf) < keep_before:
                    kept.append(line)
        path.write_text("".join(line + "\n" for line in kept))
        self.file = path.open("a")

    def write(self, **record: Any) -> None:
        self.file.write(json.dumps(record) + "\n")

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def train(config: TrainConfig, resume: bool = False, progress: bool = True) -> TrainResult:
    """Train config.model on config.data; with resume, continue from out_dir/last.ckpt exactly."""
    out_dir = Path(config.out_dir)
    data = LanguageData(config.data, config.data_format, config.block_size)
    if resume:
        state = checkpoint.load(out_dir / LAST)
        check_checkpoint_kind(state, out_dir / LAST)
        data.tokenizer.check_matches(state["vocab"], what=f"the checkpoint {out_dir / LAST}")
    elif (out_dir / LAST).exists():
        raise FileExistsError(
            f"{out_dir} already holds a training run ({LAST}); pass --resume to continue it, "
            "or choose another --out folder"
        )

    manual_seed(config.seed)
    pad_token = data.tokenizer.boundary_id if data.format == "lines" else None
    model = build_model(
        config.model, data.tokenizer.vocab_size, model_block_size(config, data), config.model_args, pad_token
    )
    if config.random_stream == "nanogpt":  # torch.manual_seed(seed): init, batches, evaluations, one stream
        batch_rng = eval_rng = TorchGenerator(config.seed)
        init_like_nanogpt(model, batch_rng)
    else:
        batch_rng = np.random.default_rng(config.seed)
        eval_rng = np.random.default_rng(config.seed + 1)  # its own: evaluating never moves batch_rng
    fixed_eval_batches = draw_eval_batches(data, config, eval_rng) if config.eval_batches == "fixed" else None
    optimizer = configure_optimizer(model, config)
    iter_num, best_val_loss, evals_since_best, first_loss = 0, math.inf, 0, None
    if resume:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        batch_rng.bit_generator.state = state["rng"]["batches"]
        if "eval" in state["rng"]:
            eval_rng.bit_generator.state = state["rng"]["eval"]
        set_rng_state(state["rng"]["tensor"])
        iter_num, best_val_loss = state["iter_num"], state["best_val_loss"]
        evals_since_best, first_loss = state["evals_since_best"], state["first_loss"]

    if resume and "next_batch" in state:
        x, y = state["next_batch"]
    else:  # drawn ahead, as nanoGPT does: each step draws the batch of the next one
        x, y = data.batch("train", config.batch_size, batch_rng)

    out_dir.mkdir(parents=True, exist_ok=True)
    log = MetricsLog(out_dir / METRICS, keep_before=iter_num if resume else None)

    def save(name: str) -> None:
        log.flush()  # the log always reaches at least as far as the checkpoint
        checkpoint.save(
            out_dir / name,
            {
                "kind": CHECKPOINT_KIND,
                "model_kind": config.model,
                "model_config": asdict(model.config),
                "train_config": asdict(config),
                "vocab": data.tokenizer.to_dict(),
                "data_format": data.format,
                "seq_len": data.seq_len,
                "iter_num": iter_num,
                "best_val_loss": best_val_loss,
                "evals_since_best": evals_since_best,
                "first_loss": first_loss,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "next_batch": [x, y],
                "rng": {
                    "batches": batch_rng.bit_generator.state,
                    "eval": eval_rng.bit_generator.state,
                    "tensor": get_rng_state(),
                },
            },
        )

    bar = tqdm(
        total=config.max_iters, initial=iter_num, disable=not progress, dynamic_ncols=True, unit="step"
    )
    stopped, loss_text, val_text = "max_iters", "-", "-"
    try:
        with StopRequest() as stop:
            while True:
                lr = get_lr(iter_num, config)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                if iter_num % config.eval_interval == 0 or iter_num >= config.max_iters:
                    save(LAST)  # the state at this iteration's start: a resumed run redoes this evaluation
                    batches = fixed_eval_batches or draw_eval_batches(data, config, eval_rng)
                    losses = estimate_loss(model, batches)
                    check_finite(losses["val"], iter_num, lr)
                    log.write(iter=iter_num, train_loss=losses["train"], val_loss=losses["val"])
                    val_text = f"{losses['val']:.4f}"
                    bar.set_postfix_str(f"loss {loss_text}, val {val_text}")
                    if losses["val"] < best_val_loss:
                        best_val_loss, evals_since_best = losses["val"], 0
                        save(BEST)
                    else:
                        evals_since_best += 1
                    if config.patience is not None and evals_since_best >= config.patience:
                        stopped = "early_stopping"
                        break
                if iter_num >= config.max_iters:
                    break

                t0 = time.perf_counter()
                loss = lm_loss(model, x, y)
                x, y = data.batch("train", config.batch_size, batch_rng)  # the next step's
                optimizer.zero_grad()
                loss.backward()
                if config.grad_clip > 0:
                    clip_grad_norm_(model.parameters(), config.grad_clip)
                optimizer.step()
                loss_value = loss.item()
                first_loss = loss_value if first_loss is None else first_loss
                check_loss(loss_value, iter_num, first_loss, lr)
                log.write(iter=iter_num, loss=loss_value, lr=lr, ms=1000 * (time.perf_counter() - t0))
                iter_num += 1
                bar.update(1)
                loss_text = f"{loss_value:.4f}"
                bar.set_postfix_str(f"loss {loss_text}, val {val_text}", refresh=False)
                if stop.requested:
                    save(LAST)
                    stopped = "interrupted"
                    break
    finally:
        bar.close()
        log.close()
    return TrainResult(iter_num, best_val_loss, stopped, out_dir)


def check_checkpoint_kind(state: dict[str, Any], path: Path) -> None:
    """Refuse a valid checkpoint file that does not hold a language model run."""
    if state.get("kind") != CHECKPOINT_KIND or state.get("model_kind") not in MODELS:
        raise checkpoint.CheckpointError(f"{path} is a gradschool checkpoint but not of a language model run")


def find_checkpoint(run: str | Path) -> Path:
    """A run folder's best checkpoint (else its last), or the checkpoint file itself."""
    run = Path(run)
    if run.is_dir():
        for name in (BEST, LAST):
            if (run / name).exists():
                return run / name
        raise checkpoint.CheckpointError(
            f"{run} holds no checkpoint ({BEST} or {LAST}); train a model there "
            "first with `gradschool train --out DIR`"
        )
    return run


def load_model(run: str | Path) -> tuple[Module, CharTokenizer, dict[str, Any]]:
    """(model in eval mode, tokenizer, checkpoint state) from a run folder or checkpoint file."""
    path = find_checkpoint(run)
    state = checkpoint.load(path)
    check_checkpoint_kind(state, path)
    module = importlib.import_module(MODELS[state["model_kind"]][0])
    config_cls = getattr(module, MODELS[state["model_kind"]][1])
    model = getattr(module, MODELS[state["model_kind"]][2])(config_cls(**state["model_config"]))
    model.load_state_dict(state["model"])
    model.eval()
    return model, CharTokenizer.from_dict(state["vocab"]), state


def resume_config(out_dir: str | Path, **overrides: Any) -> TrainConfig:
    """The config of the run in out_dir, with max_iters / eval_interval / patience optionally changed."""
    path = Path(out_dir) / LAST
    state = checkpoint.load(path)
    check_checkpoint_kind(state, path)
    config = TrainConfig(**state["train_config"])
    allowed = {"max_iters", "eval_interval", "patience"}
    for key, value in overrides.items():
        saved = getattr(config, key) if hasattr(config, key) else config.model_args.get(key)
        if value is None or value == saved:
            continue
        if key not in allowed:
            raise ValueError(
                f"--{key.replace('_', '-')} {value} differs from the run being resumed ({saved!r}); "
                "leave it out to resume exactly, or start a new run in another --out folder"
            )
        setattr(config, key, value)
    if config.lr_decay_iters is None and "max_iters" in overrides:
        config.lr_decay_iters = state["train_config"]["max_iters"]  # keep the schedule of the original run
    config.out_dir = str(out_dir)
    return config
