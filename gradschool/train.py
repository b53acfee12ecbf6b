"""The one training loop for every language model (bigram, MLP, GPT), in the style of nanoGPT's train.py.

    config = make_config("gpt", "shakespeare", max_iters=500)
    result = train(config)                  # writes out/last.ckpt, out/best.ckpt, out/metrics.jsonl
    result = train(config, resume=True)     # continues exactly where out/last.ckpt stopped

Running text is read a character at a time, or (tokenizer "bpe") as byte-pair-encoded tokens learned from the
training split (gradschool/data/bpe.py); val losses are also given in bits per character, which compare.

The out folder is a run folder (gradschool/runs.py): a new training needs it new or empty, and only one
training at a time writes to it.

Each step: a random batch, the forward pass, cross-entropy, backward, gradient clipping, an AdamW step with
the learning rate of the schedule (linear warmup, then cosine decay to min_lr). Every eval_interval steps the
loss is measured on eval_iters batches of the train and val splits (the same fixed batches every time, or
fresh ones each time as nanoGPT's estimate_loss draws them); the model with the best val loss is
saved to best.ckpt and the whole state (model, optimizer, step, random generators, the next batch) to
last.ckpt, so `resume` reproduces the losses of a run that was never stopped. The random numbers come from
NumPy's generators, or (random_stream "nanogpt") from torch's generator reproduced in NumPy and drawn in
nanoGPT's order, so that a seed replays nanoGPT's own run of that seed (without dropout: dropout masks always
come from gradschool's own generator). Ctrl-C (or SIGTERM, or SIGHUP) stops after the current step and saves;
a loss that turns NaN or blows up stops the run with advice to lower the learning rate.
"""

import contextlib
import dataclasses
import math
import signal
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

import gradschool.tensor.functional as F
from gradschool import checkpoint
from gradschool.checkpoint import CheckpointError
from gradschool.data import CORPORA, CharTokenizer, DataError, load_text
from gradschool.data.batches import get_batch, get_example_batch, line_examples
from gradschool.data.bpe import BPETokenizer
from gradschool.data.corpus import MAX_DATA_MB, non_empty_lines
from gradschool.data.splits import split_lines, split_text
from gradschool.diverge import check_finite, check_loss
from gradschool.nanogpt import init_like_nanogpt
from gradschool.nn import Module
from gradschool.nn.registry import MODELS, build_model, config_fields
from gradschool.nn.size import available_memory, count_params, training_memory
from gradschool.optim import AdamW, clip_grad_norm_, cosine_lr
from gradschool.presets import PRESETS
from gradschool.runs import (
    BEST,
    LAST,
    MetricsLog,
    RunLock,
    check_new_run_folder,
    checkpoint_state,
    data_record,
    load_weights,
    read_training_state,
)
from gradschool.tensor import Tensor, manual_seed, no_grad
from gradschool.tensor.random import get_rng_state, set_rng_state
from gradschool.tensor.torch_random import TorchGenerator

MAX_LR = 10.0  # AdamW moves every weight by about the learning rate per step: above this it diverges at once
RESUMABLE = {"max_iters", "eval_interval", "patience", "max_data_mb"}  # what --resume may change
DATA_SIZED = {"vocab_size", "block_size", "pad_token"}  # model config fields that come from the data
BPE_VOCAB_SIZE = 512  # --tokenizer bpe without --vocab-size
MAX_VOCAB_SIZE = 1 << 17
FLAGS = {"learning_rate": "--lr", "data_format": "--format", "out_dir": "--out"}  # the others: --field-name


def flag(name: str, value: Any = None) -> str:
    """A setting as typed: ("learning_rate", 0.1) -> "--lr 0.1"; ("bias", False) -> "--no-bias"."""
    text = FLAGS.get(name, "--" + name.replace("_", "-"))
    if isinstance(value, bool):
        return text if value else "--no-" + text[2:]
    return text if value is None else f"{text} {value}"


@dataclass
class TrainConfig:
    """Everything that defines a run; nanoGPT's names where it has one. Checked when made (ValueError)."""

    model: str = "gpt"  # bigram | mlp | gpt
    data: str = "shakespeare"  # a shipped corpus name or the path of a UTF-8 text file
    data_format: str = "auto"  # lines (one example per line, like names) | text | auto (guess from the file)
    tokenizer: str = "char"  # char (one token per character) | bpe (byte-pair encoding, for running text)
    vocab_size: int | None = None  # bpe: tokens (256 bytes + merges), learned from the training split
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
    max_data_mb: float = MAX_DATA_MB  # refuse a data file larger than this
    model_args: dict[str, Any] = field(default_factory=dict)  # the model config's own fields (n_layer, ...)

    def __post_init__(self) -> None:
        self.data = data_name(self.data)
        if self.tokenizer == "bpe" and self.vocab_size is None:
            self.vocab_size = BPE_VOCAB_SIZE
        self.validate()

    def validate(self) -> None:
        """Raise a ValueError naming the flag of the first setting that cannot work."""
        if self.model not in MODELS:
            raise ValueError(f"{flag('model', repr(self.model))} is not a model; choose one of "
                             f"{', '.join(MODELS)}")
        choices_of = {"data_format": ("auto", "lines", "text"), "eval_batches": ("fixed", "fresh"),
                      "random_stream": ("gradschool", "nanogpt"), "tokenizer": ("char", "bpe")}
        for name, choices in choices_of.items():
            if getattr(self, name) not in choices:
                raise ValueError(f"{flag(name)} must be {' or '.join(map(repr, choices))}, not "
                                 f"{getattr(self, name)!r}")
        self.validate_tokenizer()
        if self.random_stream == "nanogpt" and self.model != "gpt":
            raise ValueError(f"--random-stream nanogpt replays nanoGPT's draws for --model gpt, "
                             f"not {self.model}")
        for name, least in (("max_iters", 0), ("batch_size", 1), ("block_size", 1), ("warmup_iters", 0),
                            ("lr_decay_iters", 1), ("eval_interval", 1), ("eval_iters", 1), ("patience", 1),
                            ("seed", 0)):
            check_whole(name, getattr(self, name), least, none_ok=name in ("lr_decay_iters", "patience"))
        for name in ("learning_rate", "min_lr", "weight_decay", "grad_clip", "beta1", "beta2", "max_data_mb"):
            check_number(name, getattr(self, name))
        if not 0 <= self.learning_rate <= MAX_LR:
            raise ValueError(f"{flag('learning_rate', self.learning_rate)} is out of range: it must be "
                             f"between 0 and {MAX_LR:g} (AdamW moves each weight by about the learning rate "
                             "per step; 1e-3 suits a GPT, 1e-2 the MLP)")
        if self.decay_lr and not 0 <= self.min_lr <= self.learning_rate:
            raise ValueError(f"{flag('min_lr', self.min_lr)} must be between 0 and {flag('learning_rate')} "
                             f"({self.learning_rate:g}): the learning rate decays from --lr down to "
                             "--min-lr; lower --min-lr or raise --lr")
        for name in ("weight_decay", "grad_clip"):
            if getattr(self, name) < 0:
                raise ValueError(f"{flag(name, getattr(self, name))} must be 0 or more")
        for name in ("beta1", "beta2"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{flag(name, getattr(self, name))} must be in [0, 1)")
        if self.max_data_mb <= 0:
            raise ValueError(f"{flag('max_data_mb', self.max_data_mb)} must be more than 0")
        self.validate_model_args()

    def validate_tokenizer(self) -> None:
        """--vocab-size goes with --tokenizer bpe only, from 256 (the bytes) to MAX_VOCAB_SIZE."""
        if self.tokenizer == "char":
            if self.vocab_size is not None:
                raise ValueError(f"{flag('vocab_size', self.vocab_size)} applies only with --tokenizer bpe "
                                 "(a character tokenizer has one token per character of the text)")
            return
        check_whole("vocab_size", self.vocab_size, 256)
        if self.vocab_size > MAX_VOCAB_SIZE:
            raise ValueError(f"{flag('vocab_size', self.vocab_size)} is more than {MAX_VOCAB_SIZE:,}; GPT-4 "
                             "has about 100,000 tokens, and a small corpus supports a few thousand")
        if self.data_format == "lines":
            raise ValueError("--tokenizer bpe reads running text (--format text): a model of lines, such as "
                             "names, reads them a character at a time; use --tokenizer char")

    def validate_model_args(self) -> None:
        """The model's own settings (--n-layer, --bias, ...) must be the model's and make sense."""
        takes = {k: v for k, v in config_fields(self.model).items() if k not in DATA_SIZED}
        unknown = sorted(set(self.model_args) - set(takes))
        if unknown:
            flags = ", ".join(flag(k) for k in unknown)
            listed = ", ".join(flag(k) for k in takes) or "no size options"
            raise ValueError(f"{flags} does not apply to --model {self.model} (it takes: {listed})")
        args = {**takes, **self.model_args}
        for name in ("n_layer", "n_head", "n_embd", "n_hidden"):
            if name in args:
                check_whole(name, args[name], 1)
        if "dropout" in args:
            check_number("dropout", args["dropout"])
            if not 0 <= args["dropout"] < 1:
                raise ValueError(f"{flag('dropout', args['dropout'])} must be in [0, 1)")
        if "bias" in args and not isinstance(args["bias"], bool):
            raise ValueError(f"--bias/--no-bias takes no value, got {args['bias']!r}")
        if self.model == "gpt" and args["n_embd"] % args["n_head"]:
            raise ValueError(f"{flag('n_embd', args['n_embd'])} must be a multiple of "
                             f"{flag('n_head', args['n_head'])}, so that every head gets the same size")


def data_name(data: str) -> str:
    """A corpus's name, else the file's absolute path (x.txt, ./x.txt, /abs/x.txt: one file, one name)."""
    return str(Path(data).resolve()) if data not in CORPORA and Path(data).exists() else data


def check_whole(name: str, value: Any, least: int, none_ok: bool = False) -> None:
    """Refuse a setting that is not a whole number >= least (None only where it means "not set")."""
    if value is None and none_ok:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise ValueError(f"{flag(name)} must be a whole number >= {least}, not {value!r}")


def check_number(name: str, value: Any) -> None:
    """Refuse a setting that is not a finite number (inf, nan, or not a number at all)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not math.isfinite(value):
        raise ValueError(f"{flag(name)} must be a finite number, not {value!r}")


@dataclass
class TrainResult:
    iter_num: int  # steps done
    best_val_loss: float
    stopped: str  # "max_iters" | "early_stopping" | "interrupted"
    out_dir: Path
    stop_signal: int | None = None  # what interrupted it: signal.SIGINT (Ctrl-C), SIGTERM or SIGHUP
    best_val_bpc: float | None = None  # the best val loss in bits per character, comparable across tokenizers


def make_config(model: str | None, data: str, preset: str | None = None, **flags: Any) -> TrainConfig:
    """A checked TrainConfig: TrainConfig's defaults, then a preset's settings, then the flags (not None).

    The preset is named (gradschool/presets.py); by default it is the one named like the model. model None
    takes the preset's model.
    """
    name = preset or model or "gpt"
    if name not in PRESETS:
        raise ValueError(f"unknown {flag('preset', repr(name))}; the presets are: {', '.join(PRESETS)}")
    settings = dict(PRESETS[name])
    preset_model = settings.pop("model")
    if model is not None and model != preset_model:
        raise ValueError(f"--preset {name} is for --model {preset_model}, not --model {model}; leave one out")
    fields = {f.name for f in dataclasses.fields(TrainConfig)} - {"model_args"}
    values: dict[str, Any] = {}
    model_args: dict[str, Any] = {}
    for key, value in {**settings, **{k: v for k, v in flags.items() if v is not None}}.items():
        (values if key in fields else model_args)[key] = value
    return TrainConfig(**values, model=preset_model, data=data, model_args=model_args)


def default_settings(name: str) -> dict[str, Any]:
    """What setting `name` is for each model when no flag gives it (models it does not apply to left out)."""
    out = {}
    for model in MODELS:
        config = make_config(model, "shakespeare")
        if hasattr(config, name):
            out[model] = getattr(config, name)
        elif name in config_fields(model) and name not in DATA_SIZED:
            out[model] = config.model_args.get(name, config_fields(model)[name])
    return out


def get_lr(it: int, config: TrainConfig) -> float:
    """Linear warmup for warmup_iters steps, then cosine decay to min_lr at lr_decay_iters (as nanoGPT)."""
    if not config.decay_lr:
        return config.learning_rate
    decay_iters = max(config.lr_decay_iters or config.max_iters, config.warmup_iters + 1)
    return cosine_lr(it, config.learning_rate, config.min_lr, config.warmup_iters, decay_iters)


class LanguageData:
    """A corpus ready for training: its tokenizer and random train/val batches of (inputs, targets).

    With tokenizer "bpe" the text is split 90/10 first, a byte-pair encoding of vocab_size tokens is learned
    from the training part only, and each part is encoded with it. val_chars_per_token (1 for characters)
    turns a loss per token into bits per character, which compare across tokenizers.
    """

    def __init__(self, spec: str, data_format: str = "auto", block_size: int = 64,
                 max_mb: float = MAX_DATA_MB, tokenizer: str = "char", vocab_size: int | None = None):
        text = load_text(spec, max_mb)
        self.val_chars_per_token = 1.0
        if data_format == "auto":
            data_format = "text" if tokenizer == "bpe" or not _looks_like_lines(text) else "lines"
        if data_format not in ("lines", "text"):
            raise DataError(f"unknown data format {data_format!r}; use lines, text or auto")
        self.format = data_format
        if data_format == "lines":
            lines = non_empty_lines(text, spec)
            self.tokenizer = CharTokenizer.from_lines(lines)
            self.seq_len = max(len(line) for line in lines) + 1  # every name with its start and end token
            train, val, _ = split_lines(lines)
            self.splits = {
                name: line_examples(part, self.tokenizer, self.seq_len)
                for name, part in (("train", train), ("val", val))
            }
        elif tokenizer == "bpe":
            if data_format == "lines":
                raise DataError("--tokenizer bpe reads running text, not lines; use --format text")
            self.seq_len = block_size
            train_text, val_text = split_text(text)
            vocab_size = vocab_size or BPE_VOCAB_SIZE
            try:
                self.tokenizer = BPETokenizer.train(train_text, vocab_size)
            except DataError as e:
                raise DataError(f"--vocab-size {vocab_size}: {e}") from None
            self.splits = {name: np.array(self.tokenizer.encode_ordinary(part), dtype=np.int64)
                           for name, part in (("train", train_text), ("val", val_text))}
            self.val_chars_per_token = len(val_text) / len(self.splits["val"])
            self.check_batches(block_size, "tokens")
        else:
            self.tokenizer = CharTokenizer.from_text(text)
            self.seq_len = block_size
            train, val = split_text(np.array(self.tokenizer.encode(text), dtype=np.int64))
            self.splits = {"train": train, "val": val}
            self.check_batches(block_size, "characters")

    def check_batches(self, block_size: int, unit: str) -> None:
        """Before any work: both splits of running text must give a batch."""
        for name, part in self.splits.items():
            if len(part) < block_size + 1:
                raise DataError(
                    f"the {name} part of the text (90/10) has {len(part):,} {unit}, too few for one "
                    f"batch with --block-size {block_size} (it needs {block_size + 1:,}); use a smaller "
                    "--block-size or a longer text"
                )

    def bits_per_char(self, loss: float) -> float:
        """A val loss (nats per token) in bits per character of the text."""
        return loss / math.log(2) / self.val_chars_per_token

    def batch(self, split: str, batch_size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(x, y), each (batch_size, seq_len): inputs and the targets one position later (-1 = no target)."""
        if self.format == "lines":
            return get_example_batch(*self.splits[split], batch_size, rng)
        return get_batch(self.splits[split], batch_size, self.seq_len, rng)


def _looks_like_lines(text: str) -> bool:
    """A file of short non-empty lines (like names.txt) holds one example per line."""
    lines = text.strip("\n").split("\n")
    return len(lines) >= 10 and all(0 < len(line.strip()) <= 40 for line in lines)


def model_block_size(config: TrainConfig, data: LanguageData) -> int:
    """The model's context: block_size, except that a GPT on lines must see a whole line."""
    if config.model == "gpt" and data.format == "lines":
        return max(config.block_size, data.seq_len)
    return config.block_size


def model_settings(config: TrainConfig, data: LanguageData) -> dict[str, Any]:
    """The model's config for this data: config.model_args with the vocabulary, context and padding token."""
    sized = {"vocab_size": data.tokenizer.vocab_size, "block_size": model_block_size(config, data),
             "pad_token": data.tokenizer.boundary_id if data.format == "lines" else None}
    fields = config_fields(config.model)
    return {**{k: v for k, v in sized.items() if k in fields}, **config.model_args}


def megabytes(n: int) -> str:
    """A number of bytes for a person: "12.3 MB", "1,024.0 GB"."""
    return f"{n / 1e6:,.1f} MB" if n < 1e9 else f"{n / 1e9:,.1f} GB"


def check_fits(config: TrainConfig, data: LanguageData, available: int | None = None) -> None:
    """Refuse a model or batch too big for the memory available (bytes; default: what is free now)."""
    available = available_memory() if available is None else available
    settings = model_settings(config, data)
    need = training_memory(config.model, settings, config.batch_size, data.seq_len)
    if config.eval_batches == "fixed":  # kept for the whole run: eval_iters (x, y) int64 batches per split
        need += 2 * config.eval_iters * 2 * config.batch_size * data.seq_len * 8
    if available is None or need <= available:
        return
    sizes = [flag(k, v) for k, v in config.model_args.items() if k in ("n_layer", "n_embd", "n_hidden")]
    sizes += [flag("block_size", config.block_size), flag("batch_size", config.batch_size)]
    if config.eval_batches == "fixed":
        sizes.append(flag("eval_iters", config.eval_iters))
    raise ValueError(
        f"this {config.model} model is too big to train here: {count_params(config.model, settings):,} "
        f"parameters ({' '.join(sizes)}) need about {megabytes(need)} (weights, gradients, AdamW's "
        f"moments, the activations of a batch and the evaluation batches), but this machine has "
        f"{megabytes(available)} free; make it smaller (gradschool/nn/size.py explains the estimate)"
    )


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


# the signals that stop a training politely (it saves first), and how a message names them
STOP_SIGNALS = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}
if hasattr(signal, "SIGHUP"):  # not on Windows
    STOP_SIGNALS[signal.SIGHUP] = "SIGHUP"


class StopRequest:
    """Turns the first Ctrl-C, SIGTERM or SIGHUP into a request to stop after the current step; a second one
    aborts."""

    def __init__(self) -> None:
        self.signal: int | None = None  # the signal received
        self._previous: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        return self.signal is not None

    def __enter__(self) -> "StopRequest":
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.signal = signum
        with contextlib.suppress(OSError):  # no terminal left to write to (SIGHUP): stop and save anyway
            tqdm.write(f"{STOP_SIGNALS[signum]}: stopping after this step and saving a checkpoint "
                       "(press Ctrl-C again to abort)")


def train(config: TrainConfig, resume: bool = False, progress: bool = True, allow_data_change: bool = False,
          on_record: Callable[[dict[str, Any]], None] | None = None) -> TrainResult:
    """Train config.model on config.data; with resume, continue from out_dir/last.ckpt exactly.

    Without resume, out_dir must be new or empty; with it, the data must be the run's (same size and SHA-256)
    unless allow_data_change. on_record is called with every record written to metrics.jsonl.
    """
    out_dir = Path(config.out_dir)
    data = LanguageData(config.data, config.data_format, config.block_size, config.max_data_mb,
                        config.tokenizer, config.vocab_size)
    data_seen = data_record(config.data)
    check_fits(config, data)
    with RunLock(out_dir):
        if resume:
            state = read_training_state(out_dir / LAST, TrainConfig)
            data.tokenizer.check_matches(state["vocab"], what=f"the checkpoint {out_dir / LAST}")
            check_same_data(state, data_seen, config.data, out_dir / LAST, allow_data_change)
        else:
            check_new_run_folder(out_dir)
            state = None
        return run_training(config, data, data_seen, state, progress, on_record)


def check_same_data(state: dict[str, Any], data_seen: dict[str, Any], spec: str, path: Path,
                    allow_data_change: bool) -> None:
    """Refuse to resume on data that changed since the checkpoint, unless allowed (a warning if unknown)."""
    saved = state.get("data")
    if not saved:
        warnings.warn(f"{path} was saved by an older gradschool that did not record its data; resuming "
                      f"without checking that {spec} is the data the run started with", stacklevel=3)
    elif saved != data_seen and not allow_data_change:
        raise DataError(
            f"the data {spec} changed since the run in {path.parent} started ({saved['size']} bytes then, "
            f"{data_seen['size']} now, and another SHA-256): resuming on other data does not continue the "
            "same run; use the data it was trained on, or pass --allow-data-change to go on with this data"
        )


def run_training(config: TrainConfig, data: LanguageData, data_seen: dict[str, Any],
                 state: dict[str, Any] | None, progress: bool,
                 on_record: Callable[[dict[str, Any]], None] | None) -> TrainResult:
    """The training loop of train(), in its locked out_dir; state: the checkpoint to resume from, if any."""
    out_dir = Path(config.out_dir)
    manual_seed(config.seed)
    model = build_model(config.model, model_settings(config, data))
    if config.random_stream == "nanogpt":  # torch.manual_seed(seed): init, batches, evaluations, one stream
        batch_rng = eval_rng = TorchGenerator(config.seed)
        init_like_nanogpt(model, batch_rng)
    else:
        batch_rng = np.random.default_rng(config.seed)
        eval_rng = np.random.default_rng(config.seed + 1)  # its own: evaluating never moves batch_rng
    fixed_eval_batches = draw_eval_batches(data, config, eval_rng) if config.eval_batches == "fixed" else None
    optimizer = configure_optimizer(model, config)
    iter_num, best_val_loss, evals_since_best, first_loss = 0, math.inf, 0, None
    if state is not None:
        load_weights(model, state["model"], out_dir / LAST)
        try:
            optimizer.load_state_dict(state["optimizer"])
            batch_rng.bit_generator.state = state["rng"]["batches"]
            if "eval" in state["rng"]:
                eval_rng.bit_generator.state = state["rng"]["eval"]
            set_rng_state(state["rng"]["tensor"])
        except ValueError as e:  # checked in read_training_state, but not against this model and stream
            raise CheckpointError(f"{out_dir / LAST} cannot be resumed: {e}") from None
        iter_num, best_val_loss = state["iter_num"], state["best_val_loss"]
        evals_since_best, first_loss = state["evals_since_best"], state["first_loss"]

    if state is not None and "next_batch" in state:
        x, y = state["next_batch"]
    else:  # drawn ahead, as nanoGPT does: each step draws the batch of the next one
        x, y = data.batch("train", config.batch_size, batch_rng)

    log = MetricsLog(out_dir, keep_before=iter_num if state is not None else None, on_record=on_record)

    def save(name: str) -> None:
        log.flush()  # the log always reaches at least as far as the checkpoint
        checkpoint.save(out_dir / name, checkpoint_state(
            config.model, model, data.tokenizer, data.format, data.seq_len,
            training={
                "train_config": asdict(config),
                "data": data_seen,
                "iter_num": iter_num,
                "best_val_loss": best_val_loss,
                "evals_since_best": evals_since_best,
                "first_loss": first_loss,
                "optimizer": optimizer.state_dict(),
                "next_batch": [x, y],
                "rng": {
                    "batches": batch_rng.bit_generator.state,
                    "eval": eval_rng.bit_generator.state,
                    "tensor": get_rng_state(),
                },
            },
        ))

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
                if stop.requested:  # saved before touching the progress bar, whose terminal may be gone
                    save(LAST)
                    stopped = "interrupted"
                    break
                bar.update(1)
                loss_text = f"{loss_value:.4f}"
                bar.set_postfix_str(f"loss {loss_text}, val {val_text}", refresh=False)
    finally:
        bar.close()
        log.close()
    interrupted_by = stop.signal if stopped == "interrupted" else None
    return TrainResult(iter_num, best_val_loss, stopped, out_dir, interrupted_by,
                       data.bits_per_char(best_val_loss))


def resume_config(out_dir: str | Path, **overrides: Any) -> TrainConfig:
    """The checked config of the run in out_dir; overrides (flags given) may change RESUMABLE ones only."""
    state = read_training_state(Path(out_dir) / LAST, TrainConfig)
    saved = TrainConfig(**state["train_config"])
    defaults = config_fields(saved.model)
    changes = {}
    for key, value in overrides.items():
        if key == "data" and value is not None:
            value = data_name(value)
        current = getattr(saved, key) if hasattr(saved, key) else saved.model_args.get(key, defaults.get(key))
        if value is None or value == current:
            continue
        if key not in RESUMABLE:
            raise ValueError(
                f"{flag(key, value)} differs from the run being resumed ({flag(key, current)}); "
                "leave it out to resume exactly, or start a new run in another --out folder"
            )
        changes[key] = value
    if saved.lr_decay_iters is None and "max_iters" in changes:
        changes["lr_decay_iters"] = saved.max_iters  # keep the schedule of the original run
    return dataclasses.replace(saved, **changes, out_dir=str(out_dir))
