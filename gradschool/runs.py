"""A run folder: the files of one training run, its lock, its checkpoints and its metrics log.

Runs live in the runs folder (`runs_folder()`: ./runs, or $GRADSCHOOL_RUNS): `gradschool train` without
--out trains into runs/<model>-<data>, rung 9 into runs/rung9-gpt, `gradschool serve` shows the models found
there, and `gradschool sample --from NAME` finds runs/NAME when NAME is not a path that exists.

    out/
      last.ckpt       the whole state of the run at its last evaluation (or stop): `train --resume` goes on
      best.ckpt       the model with the best val loss so far: `sample` and `export` use it
      metrics.jsonl   one JSON object per training step and per evaluation
      train.lock      exists while a training writes to the folder; the training's pid is written in it

A new training needs a new or empty folder, and a resumed one the folder's last.ckpt: nothing already saved
is overwritten. Only one training at a time writes to a folder (RunLock). Checkpoints are checked when they
are read (read_model_state, read_training_state), so a damaged or crafted file is refused with a
CheckpointError naming it, before any of it is used.
"""

import contextlib
import dataclasses
import hashlib
import json
import os
import tempfile
import types
import typing
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from gradschool import checkpoint
from gradschool.checkpoint import CheckpointError
from gradschool.data import CharTokenizer, DataError, corpus_path, tokenizer_from_dict
from gradschool.nn import Module
from gradschool.nn.registry import MODELS, build_model

if typing.TYPE_CHECKING:
    from gradschool.data.bpe import BPETokenizer

try:
    import fcntl
except ImportError:  # Windows: no flock, so no lock; trainings there are not kept apart
    fcntl = None

LAST, BEST, METRICS, LOCK = "last.ckpt", "best.ckpt", "metrics.jsonl", "train.lock"
RUNS_ENV, RUNS_DEFAULT = "GRADSCHOOL_RUNS", "runs"
CHECKPOINT_KIND = "gradschool language model"

AT_LEAST_ONE = ("batch_size", "block_size", "eval_interval", "eval_iters")  # the other counts may be 0
MAX_SEQ_LEN = 1 << 20  # a checkpoint's seq_len: the longest line (plus its end token) a model of lines writes


class RunInUse(OSError):
    """Another training holds the run folder's lock."""


# ---- the runs folder ----------------------------------------------------------------------------------
def runs_folder() -> Path:
    """The folder that holds the runs: $GRADSCHOOL_RUNS if set, else ./runs."""
    return Path(os.environ.get(RUNS_ENV) or RUNS_DEFAULT)


def run_name(model: str, data: str) -> str:
    """The default name of a run: gpt-shakespeare, or mlp-corpus for --data corpus.txt."""
    return f"{model}-{Path(data).stem}"


def fresh_run_folder(base: str) -> Path:
    """runs_folder()/base, else base-2, base-3, ...: the first that is new or empty (nothing overwritten)."""
    runs = runs_folder()
    for name in (base, *(f"{base}-{i}" for i in range(2, 10_000))):
        folder = runs / name
        if not folder.exists() or (folder.is_dir() and not folder_files(folder)):
            return folder
    raise FileExistsError(f"{runs} already holds 10000 runs named {base}-N; delete some or choose --out")


def find_run(run: str | Path) -> Path:
    """The run folder or checkpoint file `run` names: the path itself, else (a bare name) runs/run."""
    path = Path(run)
    if path.exists() or len(path.parts) != 1 or str(run) in (".", ".."):
        return path
    named = runs_folder() / path
    if named.exists():
        return named
    runs = runs_folder()
    known = sorted(p.name for p in runs.iterdir() if p.is_dir()) if runs.is_dir() else []
    there = ", ".join(known) or "none yet; train one with `gradschool train`"
    raise FileNotFoundError(f"no run {str(run)!r}: it is neither a folder or file here nor a run in {runs} "
                            f"(the runs there: {there})")


# ---- the folder and its lock --------------------------------------------------------------------------
def folder_files(folder: str | Path) -> list[str]:
    """The names in a run folder, apart from its lock file (none if the folder does not exist)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name != LOCK)


def check_new_run_folder(folder: str | Path) -> None:
    """Refuse to start a new run (or import a model) in a folder that already holds files."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"{folder} is a file, not a folder; choose another --out folder")
    files = folder_files(folder)
    if not files:
        return
    shown = ", ".join(files[:10]) + (f" and {len(files) - 10} more" if len(files) > 10 else "")
    if LAST in files:
        raise FileExistsError(f"{folder} already holds a training run ({shown}); pass --resume to continue "
                              "it, or choose another --out folder")
    raise FileExistsError(f"{folder} is not empty (it holds {shown}) and nothing in it can be resumed (no "
                          f"{LAST}); choose another --out folder, so that nothing there is overwritten")


class RunLock:
    """The lock of a run folder, held while a training (or an import) writes to it.

        with RunLock(out_dir):      # RunInUse, naming the holder's pid, if another process holds it
            ...

    The lock is an flock on out_dir/train.lock, which holds the holder's pid. The system releases an flock
    when its process dies (even by kill -9), so a lock file left by a killed training is taken over, with a
    warning naming the pid it held.
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / LOCK
        self.fd: int | None = None
        self.stale_pid: int | None = None  # the pid in a lock file left by a training that was killed

    def __enter__(self) -> "RunLock":
        self.folder.mkdir(parents=True, exist_ok=True)
        while fcntl is not None and self.fd is None:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = read_pid(fd)
                os.close(fd)
                raise RunInUse(f"{self.folder} is in use by another training (pid {holder or '?'}); wait "
                               "for it to finish or stop it, or choose another --out folder") from None
            with contextlib.suppress(FileNotFoundError):
                if os.fstat(fd).st_ino == os.stat(self.path).st_ino:  # not a file its holder just removed
                    self.fd = fd
                    break
            os.close(fd)
        if self.fd is None:
            return self
        self.stale_pid = read_pid(self.fd)
        if self.stale_pid is not None:
            warnings.warn(f"{self.folder}: the training with pid {self.stale_pid} ended without releasing "
                          "its lock (it was killed?); taking the lock over", stacklevel=2)
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{os.getpid()}\n".encode(), 0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is None:
            return
        self.path.unlink(missing_ok=True)  # while still holding it: the next holder starts a fresh file
        os.close(self.fd)  # releases the flock
        self.fd = None


def read_pid(fd: int) -> int | None:
    """The pid written in an open lock file, if any."""
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


# ---- checkpoints --------------------------------------------------------------------------------------
def checkpoint_state(model_kind: str, model: Module, tokenizer: "CharTokenizer | BPETokenizer",
                     data_format: str, seq_len: int,
                     training: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a checkpoint holds: the model and what sampling needs, plus (from training) the run's state.

    training: train_config, iter_num, best_val_loss, evals_since_best, first_loss, optimizer, next_batch,
    rng, data (see training_state_problem).
    """
    return {
        "kind": CHECKPOINT_KIND,
        "model_kind": model_kind,
        "model_config": dataclasses.asdict(model.config),
        "vocab": tokenizer.to_dict(),
        "data_format": data_format,
        "seq_len": seq_len,
        **(training or {}),
        "model": model.state_dict(),
    }


def read_model_state(path: str | Path) -> dict[str, Any]:
    """A checkpoint's state, checked to hold a language model that can be built and sampled."""
    path = Path(path)
    state = checkpoint.load(path)
    problem = model_state_problem(state)
    if problem:
        raise CheckpointError(f"{path} cannot be used: {problem}")
    return state


def read_training_state(path: str | Path, config_class: type) -> dict[str, Any]:
    """A checkpoint's state, checked to hold a whole training run whose train_config fits config_class."""
    path = Path(path)
    state = checkpoint.load(path)
    problem = model_state_problem(state) or training_state_problem(state, config_class)
    if problem:
        raise CheckpointError(f"{path} cannot be used: {problem}")
    return state


def model_state_problem(state: dict[str, Any]) -> str | None:
    """What is wrong with the model part of a checkpoint's state (None if nothing)."""
    if state.get("kind") != CHECKPOINT_KIND or state.get("model_kind") not in MODELS:
        return "it is a gradschool checkpoint but not of a language model run"
    weights = state.get("model")
    if not isinstance(weights, dict) or not all(
        isinstance(k, str) and is_float_array(v) for k, v in weights.items()
    ):
        return "its model weights are not a dict of named float arrays"
    try:
        tokenizer = tokenizer_from_dict(state.get("vocab"))
    except DataError as e:
        return f"its vocabulary is damaged: {e}"
    config = state.get("model_config")
    problem = model_config_problem(state["model_kind"], config, sum(v.size for v in weights.values()))
    if problem:
        return problem
    if config.get("vocab_size") != tokenizer.vocab_size:
        return (f"its model_config has vocab_size {config.get('vocab_size')!r}, its vocabulary "
                f"{tokenizer.vocab_size} characters")
    if state.get("data_format") not in ("lines", "text"):
        return f"its data_format is {state.get('data_format')!r}, not 'lines' or 'text'"
    seq_len = state.get("seq_len")
    if not is_int(seq_len) or not 1 <= seq_len <= MAX_SEQ_LEN:
        return f"its seq_len is {seq_len!r}, not a whole number from 1 to {MAX_SEQ_LEN}"
    return None


def model_config_problem(kind: str, config: Any, n_weights: int) -> str | None:
    """What is wrong with a model config (None if nothing): wrong fields or types, or sizes that a model of
    n_weights weights cannot have (checked before building it, so a crafted size cannot fill the memory).

    A size whose default is at least 1 must be at least 1; a token id (pad_token) must be in the vocabulary.
    """
    cls = MODELS[kind][0]
    problem = fields_problem(config, cls, "model_config")
    if problem:
        return problem
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    vocab_size = config.get("vocab_size", defaults["vocab_size"])
    for name, value in config.items():
        if not is_int(value):
            continue
        least = 1 if is_int(defaults[name]) and defaults[name] >= 1 else 0
        most = vocab_size - 1 if name.endswith("_token") else n_weights
        if not least <= value <= most:
            return (f"its model_config has {name} = {value}, impossible for a model of {n_weights} weights "
                    f"and a vocabulary of {vocab_size}; the file may be damaged or crafted")
    return None


def training_state_problem(state: dict[str, Any], config_class: type) -> str | None:
    """What is wrong with the training part of a checkpoint's state (None if nothing)."""
    if "train_config" not in state:
        return "it holds a model but not a training run (no train_config): it cannot be resumed"
    config = state["train_config"]
    problem = fields_problem(config, config_class, "train_config")
    if problem:
        return problem
    if config.get("model") != state["model_kind"]:
        return f"its train_config is of a {config.get('model')!r} model, its weights of {state['model_kind']}"
    kind_class = MODELS[state["model_kind"]][0]
    problem = fields_problem(config.get("model_args", {}), kind_class, "train_config.model_args")
    if problem:
        return problem
    for name, value in config.items():
        least = 1 if name in AT_LEAST_ONE else 0
        if is_int(value) and value < least:
            return f"its train_config.{name} is {value}, less than {least}"
    for name in ("iter_num", "evals_since_best"):
        if not is_int(state.get(name)) or state[name] < 0:
            return f"its {name} is {state.get(name)!r}, not a whole number >= 0"
    for name in ("best_val_loss", "first_loss"):
        if not is_number(state.get(name)) and not (name == "first_loss" and state.get(name) is None):
            return f"its {name} is {state.get(name)!r}, not a number"
    return (optimizer_problem(state.get("optimizer")) or rng_problem(state.get("rng"))
            or next_batch_problem(state, tokenizer_from_dict(state["vocab"]).vocab_size)
            or data_record_problem(state.get("data", {})))


def optimizer_problem(optimizer: Any) -> str | None:
    """What is wrong with a saved AdamW state_dict (None if nothing); it is checked against the model (its
    number of parameters, their shapes) when it is loaded."""
    if not isinstance(optimizer, dict) or not isinstance(optimizer.get("param_groups"), list) \
            or not isinstance(optimizer.get("state"), dict):
        return "its optimizer state is not a dict of 'state' and 'param_groups'"
    indices = []
    for group in optimizer["param_groups"]:
        if not isinstance(group, dict) or not isinstance(group.get("params"), list):
            return "its optimizer has a parameter group without a list of params"
        for key in ("lr", "eps", "weight_decay"):
            if not is_number(group.get(key)):
                return f"its optimizer's {key} is {group.get(key)!r}, not a number"
        betas = group.get("betas")
        if not isinstance(betas, tuple | list) or len(betas) != 2 or not all(map(is_number, betas)):
            return f"its optimizer's betas are {betas!r}, not two numbers"
        indices += group["params"]
    if indices != list(range(len(indices))):
        return f"its optimizer's groups list parameters {indices[:10]!r}, not 0, 1, 2, ... in order"
    for i, s in optimizer["state"].items():
        if not is_int(i) or not 0 <= i < len(indices) or not isinstance(s, dict):
            return f"its optimizer holds state for parameter {i!r}, which the model does not have"
        moments = (s.get("exp_avg"), s.get("exp_avg_sq"))
        if not is_int(s.get("step")) or not all(is_float_array(m) for m in moments):
            return f"its optimizer state of parameter {i} is not AdamW's step, exp_avg and exp_avg_sq"
    return None


def rng_problem(rng: Any) -> str | None:
    """What is wrong with the saved random generator states (None if nothing)."""
    if not isinstance(rng, dict) or "batches" not in rng or "tensor" not in rng:
        return "its random generator states (rng: batches, tensor) are missing"
    for name, value in rng.items():
        kind = value.get("bit_generator") if isinstance(value, dict) else None
        if kind not in ("PCG64", "MT19937"):
            return f"its random generator state rng.{name} is not a PCG64 or MT19937 state"
        try:
            getattr(np.random, kind)().state = value  # NumPy checks the state's keys and sizes
        except (KeyError, TypeError, ValueError, OverflowError) as e:
            return f"its random generator state rng.{name} is damaged ({type(e).__name__}: {e})"
    return None


def next_batch_problem(state: dict[str, Any], vocab_size: int) -> str | None:
    """What is wrong with the saved next batch (None if nothing, or if an older checkpoint has none)."""
    if "next_batch" not in state:
        return None
    batch = state["next_batch"]
    if not isinstance(batch, list | tuple) or len(batch) != 2 or not all(
        isinstance(a, np.ndarray) and a.dtype.kind == "i" and a.ndim == 2 for a in batch
    ) or batch[0].shape != batch[1].shape:
        return "its next_batch is not two integer arrays (inputs, targets) of the same (batch, time) shape"
    if batch[0].size and (min(a.min() for a in batch) < -1 or max(a.max() for a in batch) >= vocab_size):
        return f"its next_batch holds token ids outside the vocabulary's 0..{vocab_size - 1}"
    return None


def data_record_problem(record: Any) -> str | None:
    """What is wrong with a checkpoint's record of its data (None if nothing)."""
    if not isinstance(record, dict) or not set(record) <= {"size", "sha256"} or (
        record and not (is_int(record.get("size")) and isinstance(record.get("sha256"), str))
    ):
        return f"its record of the training data is damaged: {str(record)[:80]}"
    return None


def fields_problem(values: Any, cls: type, what: str) -> str | None:
    """What is wrong with a dict meant to build the dataclass cls (unknown or missing fields, wrong types)."""
    if not isinstance(values, dict) or not all(isinstance(k, str) for k in values):
        return f"its {what} is not a dict of settings"
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(values) - set(hints))
    required = {f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    missing = sorted(required - set(values))
    if unknown or missing:
        return f"its {what} has unknown settings {unknown} or lacks {missing}"
    for name, value in values.items():
        if not fits(value, hints[name]):
            hint = hints[name]
            return f"its {what}.{name} is {value!r}, not of type {getattr(hint, '__name__', None) or hint}"
    return None


def fits(value: Any, hint: Any) -> bool:
    """Whether a value read from JSON fits a dataclass field's type hint (an int fits a float)."""
    if hint is Any:
        return True
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(fits(value, h) for h in typing.get_args(hint))
    origin = typing.get_origin(hint) or hint
    if origin is float:
        return is_number(value)
    if origin is int:
        return is_int(value)
    if hint is type(None):
        return value is None
    return isinstance(value, origin)


def is_float_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def find_checkpoint(run: str | Path) -> Path:
    """A run folder's best checkpoint (else its last), or the checkpoint file itself (see find_run)."""
    run = find_run(run)
    if run.is_dir():
        for name in (BEST, LAST):
            if (run / name).exists():
                return run / name
        raise CheckpointError(
            f"{run} holds no checkpoint ({BEST} or {LAST}); train a model there "
            "first with `gradschool train --out DIR`"
        )
    return run


def load_model(run: str | Path) -> tuple[Module, "CharTokenizer | BPETokenizer", dict[str, Any]]:
    """(model in eval mode, tokenizer, checkpoint state) from a run folder or checkpoint file."""
    path = find_checkpoint(run)
    state = read_model_state(path)
    try:
        model = build_model(state["model_kind"], state["model_config"])
    except ValueError as e:  # sizes that do not go together, e.g. n_embd not a multiple of n_head
        raise CheckpointError(f"{path} cannot be used: {e}") from None
    except MemoryError:
        raise CheckpointError(f"{path} cannot be used: its model_config describes a model too big for "
                              "this computer's memory") from None
    load_weights(model, state["model"], path)
    model.eval()
    return model, tokenizer_from_dict(state["vocab"]), state


def load_weights(model: Module, weights: dict[str, np.ndarray], path: Path) -> None:
    """model.load_state_dict(weights), refusing weights that do not fit as a CheckpointError naming path."""
    try:
        model.load_state_dict(weights)
    except ValueError as e:
        raise CheckpointError(f"{path} cannot be used: {e}") from None


# ---- the data a run trains on ---------------------------------------------------------------------------
def data_record(spec: str) -> dict[str, Any]:
    """The size and SHA-256 of a run's data file (or shipped corpus), saved with each checkpoint."""
    digest, size = hashlib.sha256(), 0
    with corpus_path(spec).open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return {"size": size, "sha256": digest.hexdigest()}


# ---- metrics.jsonl --------------------------------------------------------------------------------------
NUMBERS = ("loss", "lr", "ms", "train_loss", "val_loss")  # the values of a record, besides its iter


def is_record(obj: Any) -> bool:
    """A metrics record: a dict with a whole-number iter >= 0, and numbers for the losses it has."""
    return (isinstance(obj, dict) and is_int(obj.get("iter")) and obj["iter"] >= 0
            and all(is_number(obj[key]) for key in NUMBERS if key in obj))


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """The records of a run's metrics.jsonl; any line that is not one (cut short by a crash, damaged) is
    skipped."""
    path = Path(run_dir) / METRICS
    if not path.exists():
        raise FileNotFoundError(f"no {METRICS} in {run_dir}; is it the --out folder of `gradschool train`?")
    records = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):  # not JSON (cut short), too deep, or a too long number
            continue
        if is_record(record):
            records.append(record)
    return records


class MetricsLog:
    """metrics.jsonl: one JSON object per training step and per evaluation, each also given to on_record."""

    def __init__(self, run_dir: Path, keep_before: int | None,
                 on_record: Callable[[dict[str, Any]], None] | None = None):
        self.path = Path(run_dir) / METRICS
        self.on_record = on_record
        kept = []
        if keep_before is not None and self.path.exists():  # resuming: drop what the resumed steps will redo
            kept = [r for r in read_metrics(run_dir) if r["iter"] < keep_before]
        write_atomically(self.path, "".join(json.dumps(r) + "\n" for r in kept))
        self.file = self.path.open("a")

    def write(self, **record: Any) -> None:
        self.file.write(json.dumps(record) + "\n")
        if self.on_record is not None:
            self.on_record(record)

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def write_atomically(path: Path, text: str) -> None:
    """Replace path's contents with text, so that a crash leaves either the old file or the new one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
