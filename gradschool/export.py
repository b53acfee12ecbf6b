"""The way out (and back in): a trained model for PyTorch, nanoGPT and the safetensors format.

    gradschool export out-gpt --to torch exported/        # exported/model.pt + exported/config.json
    gradschool export --from torch exported/model.pt --out run/   # a checkpoint for `gradschool sample`
    gradschool export out-gpt --to nanogpt ~/nanoGPT/out-gs --with-data   # nanoGPT resumes the run
    gradschool export --from nanogpt ckpt.pt --meta meta.pkl --out run/   # [--data input.txt]: resumable
    gradschool export out-gpt --to safetensors model.safetensors    # pickle-free, no PyTorch needed
    gradschool export --from safetensors model.safetensors --out run/

--to torch: model.pt loads into nanoGPT's GPT (or any PyTorch model with its parameter names) with
`model.load_state_dict(torch.load("model.pt"))`; config.json holds the model config and the vocabulary.
--to nanogpt: the run's last state as nanoGPT's ckpt.pt (weights, AdamW moments and step counts, iter_num),
its vocabulary as nanoGPT's data/<dataset>/meta.pkl and, with --with-data, its train/val split as
train.bin/val.bin, so that nanoGPT's sample.py and `train.py --init_from=resume` take it over.
--to safetensors: the weights in the safetensors format, the config and vocabulary in its metadata.
PyTorch is needed only for torch and nanogpt (pip install torch), safetensors only for its format (pip install
'gradschool[export]'); neither is needed to train or sample. Nothing is overwritten without force, and an
import needs a new or empty --out folder.
"""

import json
import math
import os
import re
import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gradschool import checkpoint
from gradschool.data import CharTokenizer, DataError, load_text, tokenizer_from_dict
from gradschool.data.corpus import non_empty_lines
from gradschool.data.splits import split_lines, split_text
from gradschool.nanogpt import (
    from_torch_optimizer,
    load_torch_state_dict,
    meta_pickle,
    model_config_of,
    read_meta_pickle,
    save_torch,
    to_nanogpt_checkpoint,
)
from gradschool.nn import Module
from gradschool.nn.registry import MODELS, build_model
from gradschool.runs import (
    BEST,
    LAST,
    RunLock,
    check_new_run_folder,
    checkpoint_state,
    data_record,
    find_checkpoint,
    load_model,
    model_config_problem,
    model_state_problem,
    read_training_state,
    training_state_problem,
    write_atomically,
)

STATE_DICT, CONFIG = "model.pt", "config.json"
CONFIG_KEYS = ("model_config", "vocab", "data_format", "seq_len")
NANOGPT_CKPT, META, TRAIN_BIN, VAL_BIN = "ckpt.pt", "meta.pkl", "train.bin", "val.bin"
GPT2_VOCAB_SIZES = (50257, 50304)  # GPT-2's BPE vocabulary, and nanoGPT's padding of it


def torch_available() -> None:
    """Refuse clearly when PyTorch is not installed."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ValueError("exporting to or from PyTorch or nanoGPT needs PyTorch: pip install torch") from None


def safetensors_numpy() -> Any:
    """The safetensors package's NumPy API, or a clear error saying how to install it."""
    try:
        import safetensors.numpy
    except ImportError:
        raise ValueError("the safetensors format needs the safetensors package: "
                         "pip install 'gradschool[export]'") from None
    return safetensors.numpy


def load_gpt(path: str | Path, to: str) -> tuple[Module, CharTokenizer, dict[str, Any]]:
    """load_model(path), refusing a model that is not a GPT (only GPTs have nanoGPT's layout)."""
    model, tokenizer, state = load_model(path)
    if state["model_kind"] != "gpt":
        raise ValueError(f"only GPT models export to {to} (nanoGPT's layout); {path} holds a "
                         f"{state['model_kind']} model")
    return model, tokenizer, state


def refuse_to_overwrite(paths: list[Path], force: bool) -> None:
    """Refuse, naming them, to replace files that exist, unless force."""
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        names = " and ".join(p.name for p in existing)
        where = {p.parent for p in existing}
        place = f"{existing[0].parent} already holds" if len(where) == 1 else "these files exist:"
        raise FileExistsError(f"{place} {names}; pass --force to overwrite, or choose another folder"
                              + ("" if len(where) == 1 else f" ({', '.join(map(str, existing))})"))


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Replace path's contents with data, whole or not at all."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_imported(out_dir: str | Path, model: Module, kind: str, tokenizer: CharTokenizer, data_format: Any,
                   seq_len: Any, source: str, training: dict[str, Any] | None = None) -> Path:
    """Check the imported model's state and write it as out_dir/best.ckpt (out_dir new or empty, locked);
    with a training state, also as out_dir/last.ckpt, which `gradschool train --resume` continues."""
    from gradschool.train import TrainConfig

    state = checkpoint_state(kind, model, tokenizer, data_format, seq_len, training)
    problem = model_state_problem(state) or (training and training_state_problem(state, TrainConfig))
    if problem:
        raise ValueError(f"{source} cannot be used: {problem}")
    out = Path(out_dir)
    with RunLock(out):
        check_new_run_folder(out)
        checkpoint.save(out / BEST, state)
        if training:
            checkpoint.save(out / LAST, state)
    return out / (LAST if training else BEST)


# ---- PyTorch state_dict + config.json ---------------------------------------------------------------------
def to_torch(run: str | Path, out_dir: str | Path, force: bool = False) -> Path:
    """Write the GPT of a run folder (or checkpoint file) to out_dir/model.pt and out_dir/config.json.

    An existing model.pt or config.json there is replaced only with force.
    """
    torch_available()
    model, tokenizer, state = load_gpt(run, "PyTorch")
    out = Path(out_dir)
    refuse_to_overwrite([out / STATE_DICT, out / CONFIG], force)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{STATE_DICT}.tmp"
    save_torch(model, tmp)
    os.replace(tmp, out / STATE_DICT)  # whole, or not at all
    meta = {"model_config": asdict(model.config), "vocab": tokenizer.to_dict(),
            "data_format": state["data_format"], "seq_len": state["seq_len"]}
    write_atomically(out / CONFIG, json.dumps(meta, indent=2))
    return out / STATE_DICT


def from_torch(file: str | Path, out_dir: str | Path) -> Path:
    """Turn a state_dict file written by to_torch (config.json beside it) into out_dir/best.ckpt.

    out_dir must be new or empty, as for a new training.
    """
    torch_available()
    file = Path(file)
    if not file.is_file():
        raise ValueError(f"no such file: {str(file)!r}; give the model.pt that "
                         "`gradschool export --to torch` wrote")
    meta_path = file.with_name(CONFIG)
    if not meta_path.is_file():
        raise ValueError(f"{meta_path} is missing: importing {file.name} needs the config.json that "
                         "`gradschool export --to torch` writes beside it (the model's sizes and vocabulary)")
    check_new_run_folder(out_dir)  # before the work, and again under the lock
    meta = read_export_config(meta_path)
    weights = read_torch_weights(file)
    model = build_checked("gpt", meta["model_config"], sum(t.numel() for t in weights.values()),
                          f"{meta_path} does not fit {file.name}", str(meta_path))
    try:
        tokenizer = tokenizer_from_dict(meta["vocab"])
    except DataError as e:
        raise ValueError(f"{meta_path}: {e}") from None
    try:
        load_torch_state_dict(model, weights)
    except ValueError as e:
        raise ValueError(f"{file} does not fit the model of {meta_path}: {e}") from None
    return write_imported(out_dir, model, "gpt", tokenizer, meta["data_format"], meta["seq_len"],
                          str(meta_path))


def build_checked(kind: str, config: Any, n_weights: int, what: str, source: str) -> Module:
    """build_model(kind, config) after checking the config's fields and sizes against n_weights; a problem
    is refused as "what: problem", sizes that do not go together as "source: problem"."""
    problem = model_config_problem(kind, config, n_weights)
    if problem:
        raise ValueError(f"{what}: {problem}")
    try:
        return build_model(kind, config)
    except ValueError as e:  # sizes that do not go together, e.g. n_embd not a multiple of n_head
        raise ValueError(f"{source}: {e}") from None


def read_export_config(path: Path) -> dict[str, Any]:
    """The config.json written by to_torch, checked to be a JSON object with its keys."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as e:  # not UTF-8, not JSON, too deep, or a too long number
        raise ValueError(f"{path} is not the JSON that `gradschool export --to torch` writes ({e})") from None
    if not isinstance(meta, dict) or not all(key in meta for key in CONFIG_KEYS):
        raise ValueError(f"{path} is not the config.json of `gradschool export --to torch`: it needs the "
                         f"keys {', '.join(CONFIG_KEYS)}")
    return meta


def torch_load(file: Path, expected: str) -> Any:
    """torch.load(file, weights_only=True): tensors and plain data only, never a pickle that runs code."""
    import torch

    try:
        return torch.load(file, map_location="cpu", weights_only=True)
    except Exception as e:  # torch.load fails in many ways (and types) on a file that is not its own
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        unsafe = re.search(r"[Uu]nsupported (?:global: )?GLOBAL ([\w.]+)", str(e))
        if unsafe or "Weights only load failed" in str(e):
            what = f"the Python object {unsafe[1]}" if unsafe else "Python objects"
            reason = (f"it holds {what}, which torch.load(weights_only=True) refuses since loading it could "
                      "run code")
        raise ValueError(f"{file} is not a PyTorch file that torch.load can read safely ({reason}); give "
                         f"{expected}") from None


def checked_weights(sd: Any, file: Path) -> dict[str, Any]:
    """sd, checked to be a state_dict: a dict of named float tensors."""
    import torch

    if not isinstance(sd, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) and v.is_floating_point() for k, v in sd.items()
    ):
        raise ValueError(f"{file} is not a state_dict (a dict of named float tensors), so it holds no model")
    return sd


def read_torch_weights(file: Path) -> dict[str, Any]:
    """The tensors of a PyTorch state_dict file (or of a nanoGPT ckpt.pt holding one), by name."""
    sd = torch_load(file, "the model.pt that `gradschool export --to torch` wrote")
    if isinstance(sd, dict) and isinstance(sd.get("model"), dict):  # nanoGPT's ckpt.pt: {"model": ...}
        sd = sd["model"]
    return checked_weights(sd, file)


# ---- nanoGPT: ckpt.pt, data/<dataset>/meta.pkl, train.bin, val.bin ----------------------------------------
@dataclass
class NanoGPTExport:
    """What to_nanogpt wrote, and the nanoGPT commands that take the run over (run in nanogpt_dir)."""

    ckpt: Path
    meta: Path
    nanogpt_dir: Path
    data: list[Path] = field(default_factory=list)
    resumable: bool = True  # False: the checkpoint held no training state, so nanoGPT's AdamW starts fresh
    train_args: list[str] = field(default_factory=list)  # train.py's flags for the run's settings

    @property
    def sample_command(self) -> str:
        return f"python sample.py --init_from=resume --out_dir={shlex.quote(self.out_dir_arg)}"

    @property
    def train_command(self) -> str:
        return shlex.join(["python", "train.py", *self.train_args])

    @property
    def out_dir_arg(self) -> str:
        """The ckpt's folder as nanoGPT's --out_dir, relative to nanogpt_dir where it can be."""
        folder = self.ckpt.parent.resolve()
        root = self.nanogpt_dir.resolve()
        return str(folder.relative_to(root)) if folder.is_relative_to(root) else str(folder)


def to_nanogpt(run: str | Path, out_dir: str | Path, nanogpt_dir: str | Path | None = None,
               dataset: str | None = None, with_data: bool = False, force: bool = False) -> NanoGPTExport:
    """Write a GPT run for nanoGPT: out_dir/ckpt.pt, and nanogpt_dir/data/<dataset>/meta.pkl (with_data: also
    train.bin and val.bin there). A run folder gives its last checkpoint (the whole training state).

    nanogpt_dir defaults to out_dir's parent (nanoGPT's out dirs are folders of its checkout); existing files
    are replaced only with force.
    """
    from gradschool.train import TrainConfig, configure_optimizer

    torch_available()
    import torch

    run = Path(run)
    path = run / LAST if run.is_dir() and (run / LAST).exists() else find_checkpoint(run)
    model, tokenizer, state = load_gpt(path, "nanoGPT")
    if not isinstance(tokenizer, CharTokenizer):
        raise ValueError(f"{run} reads byte-pair tokens, and nanoGPT's meta.pkl holds characters: only "
                         "character-level runs go to nanoGPT (--to safetensors takes this one)")
    training = "train_config" in state
    if training:
        state = read_training_state(path, TrainConfig)
    train_config = TrainConfig(**state["train_config"]) if training else None
    dataset = dataset_name(dataset, train_config)
    out = Path(out_dir)
    root = Path(nanogpt_dir) if nanogpt_dir is not None else out.absolute().parent
    data_dir = root / "data" / dataset
    result = NanoGPTExport(ckpt=out / NANOGPT_CKPT, meta=data_dir / META, nanogpt_dir=root,
                           resumable=training)
    if with_data:
        result.data = [data_dir / TRAIN_BIN, data_dir / VAL_BIN]
    refuse_to_overwrite([result.ckpt, result.meta, *result.data], force)
    splits = run_splits(state, train_config, path) if with_data else None

    settings = nanogpt_settings(model, dataset, result.out_dir_arg, train_config)
    gradschool_keys = {"data_format": state["data_format"], "seq_len": state["seq_len"],
                       "boundary": tokenizer.boundary}  # what nanoGPT does not keep, for the way back
    optimizer = state["optimizer"] if training else configure_optimizer(model, TrainConfig()).state_dict()
    ckpt = to_nanogpt_checkpoint(model, optimizer, state.get("iter_num", 0),
                                 state.get("best_val_loss", 1e9),  # nanoGPT's "really big number"
                                 {**settings, "gradschool": gradschool_keys})
    result.train_args = [f"--{k}={v!r}" if isinstance(v, float | bool) else f"--{k}={v}"
                         for k, v in settings.items() if k not in ("device", "compile")]
    out.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{NANOGPT_CKPT}.tmp"
    try:
        torch.save(ckpt, tmp)
        os.replace(tmp, result.ckpt)
    finally:
        tmp.unlink(missing_ok=True)
    write_bytes_atomically(result.meta, meta_pickle(tokenizer.itos))
    for file, ids in zip(result.data, splits or ()):
        write_bytes_atomically(file, ids.tobytes())
    return result


def dataset_name(given: str | None, train_config: Any) -> str:
    """nanoGPT's dataset (a folder name under data/): the one given, else gradschool_<the run's data>."""
    if given is not None:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", given) or given in (".", ".."):
            raise ValueError(f"--dataset {given!r} must be a folder name (letters, digits, _ . -), as "
                             "nanoGPT's data/<dataset>/")
        return given
    if train_config is None:
        return "gradschool"
    stem = Path(train_config.data).stem
    return "gradschool_" + (re.sub(r"[^A-Za-z0-9_-]+", "_", stem) or "data")


def nanogpt_settings(model: Module, dataset: str, out_dir: str, train_config: Any) -> dict[str, Any]:
    """The run's settings under the names of nanoGPT's train.py (its config), with their types there."""
    c = model.config
    settings: dict[str, Any] = {"init_from": "resume", "out_dir": out_dir, "dataset": dataset,
                                "n_layer": c.n_layer, "n_head": c.n_head, "n_embd": c.n_embd,
                                "block_size": c.block_size, "bias": bool(c.bias), "dropout": float(c.dropout)}
    if train_config is not None:
        t = train_config
        settings.update(
            batch_size=t.batch_size, gradient_accumulation_steps=1, max_iters=t.max_iters,
            learning_rate=float(t.learning_rate), decay_lr=t.decay_lr, warmup_iters=t.warmup_iters,
            lr_decay_iters=max(t.lr_decay_iters or t.max_iters, t.warmup_iters + 1), min_lr=float(t.min_lr),
            weight_decay=float(t.weight_decay), beta1=float(t.beta1), beta2=float(t.beta2),
            grad_clip=float(t.grad_clip), eval_interval=t.eval_interval, eval_iters=t.eval_iters)
    settings.update(device="cpu", dtype="float32", compile=False)  # where and how gradschool ran it
    return settings


def run_splits(state: dict[str, Any], train_config: Any, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The run's train and val token ids, as nanoGPT's train.bin/val.bin hold them (uint16).

    Running text: the 90/10 split. Lines (names): each line of a split after a boundary token, as the run's
    examples begin, and one more boundary at the end.
    """
    if train_config is None:
        raise ValueError(f"{path} holds a model but not a training run, so it has no data to write; leave "
                         "out --with-data")
    spec = train_config.data
    if state.get("data") and data_record(spec) != state["data"]:
        raise ValueError(f"the data {spec} changed since the run in {path.parent} trained on it, so its "
                         "split cannot be written; restore it, or leave out --with-data")
    tokenizer = CharTokenizer.from_dict(state["vocab"])
    if tokenizer.vocab_size > 1 << 16:
        raise ValueError(f"a vocabulary of {tokenizer.vocab_size} tokens does not fit nanoGPT's uint16 ids")
    text = load_text(spec, train_config.max_data_mb)
    if state["data_format"] == "text":
        train, val = split_text(np.array(tokenizer.encode(text), dtype=np.uint16))
        return train, val
    train_lines, val_lines, _ = split_lines(non_empty_lines(text, spec))
    end = tokenizer.boundary_id
    train, val = ([end, *(i for line in part for i in (*tokenizer.encode(line), end))]
                  for part in (train_lines, val_lines))
    return np.array(train, dtype=np.uint16), np.array(val, dtype=np.uint16)


def from_nanogpt(file: str | Path, meta: str | Path, out_dir: str | Path, data: str | None = None) -> Path:
    """Turn a nanoGPT ckpt.pt of a character-level model, with its meta.pkl, into out_dir/best.ckpt.

    With data (the text it trained on): a whole run, its AdamW state, iter_num and settings included, that
    `gradschool train --resume --out out_dir` continues (from out_dir/last.ckpt).
    """
    torch_available()
    file, meta = Path(file), Path(meta)
    if not file.is_file():
        raise ValueError(f"no such file: {str(file)!r}; give nanoGPT's ckpt.pt (in its --out_dir)")
    if not meta.is_file():
        raise ValueError(f"--meta {str(meta)!r} is missing: a character-level nanoGPT model needs the "
                         "meta.pkl of its dataset (nanoGPT's data/<dataset>/meta.pkl) to read and write text")
    check_new_run_folder(out_dir)  # before the work, and again under the lock
    ckpt = torch_load(file, "nanoGPT's ckpt.pt")
    try:
        config = model_config_of(ckpt)
    except ValueError as e:
        raise ValueError(f"{file} cannot be imported: {e}") from None
    try:
        itos = read_meta_pickle(meta.read_bytes())
    except ValueError as e:
        raise ValueError(f"--meta {meta} cannot be used: {e}") from None
    if len(itos) != config["vocab_size"]:
        hint = (" It looks like a GPT-2 BPE model, which needs GPT-2's tokenizer: gradschool's models read "
                "characters." if config["vocab_size"] in GPT2_VOCAB_SIZES else "")
        raise ValueError(f"the vocabulary of {meta} ({len(itos)} characters) does not match the embedding "
                         f"size of {file} (vocab_size {config['vocab_size']}): give the meta.pkl of the "
                         f"dataset the model was trained on.{hint}")
    weights = checked_weights(ckpt["model"], file)
    model = build_checked("gpt", config, sum(t.numel() for t in weights.values()),
                          f"{file} cannot be imported", str(file))
    try:
        load_torch_state_dict(model, weights)
    except ValueError as e:
        raise ValueError(f"{file} does not fit its own model_args: {e}") from None
    ours = ckpt.get("config", {}).get("gradschool") if isinstance(ckpt.get("config"), dict) else None
    ours = ours if isinstance(ours, dict) else {}
    try:
        tokenizer = CharTokenizer(itos, boundary=ours.get("boundary"))
    except DataError as e:
        raise ValueError(f"--meta {meta} cannot be used: {e}") from None
    data_format = ours.get("data_format", "text")
    training = None if data is None else imported_training(ckpt, model, tokenizer, data_format, data, out_dir,
                                                           file)
    return write_imported(out_dir, model, "gpt", tokenizer, data_format,
                          ours.get("seq_len", config["block_size"]), str(file), training)


TRAIN_SETTINGS = ("max_iters", "batch_size", "learning_rate", "decay_lr", "min_lr", "warmup_iters",
                  "lr_decay_iters", "weight_decay", "beta1", "beta2", "grad_clip", "eval_interval",
                  "eval_iters")  # nanoGPT's names, which are gradschool's


def imported_training(ckpt: dict[str, Any], model: Module, tokenizer: CharTokenizer, data_format: str,
                      data: str, out_dir: str | Path, file: Path) -> dict[str, Any]:
    """The training state of a nanoGPT ckpt.pt as a gradschool checkpoint holds it: its settings (config),
    AdamW state and iter_num, the data's record, and fresh random generators (nanoGPT does not save its)."""
    from gradschool.train import LanguageData, TrainConfig, configure_optimizer

    settings = ckpt.get("config")
    if not isinstance(settings, dict) or any(k not in settings for k in TRAIN_SETTINGS) \
            or "optimizer" not in ckpt or not isinstance(ckpt.get("iter_num"), int):
        raise ValueError(f"{file} lacks nanoGPT's training settings (config: {', '.join(TRAIN_SETTINGS)}), "
                         "optimizer or iter_num, so it cannot become a run to resume; leave out --data to "
                         "import its model alone")
    values = {k: settings[k] for k in TRAIN_SETTINGS}
    if isinstance(values["batch_size"], int):  # nanoGPT's step sums gradient_accumulation_steps batches
        values["batch_size"] *= settings.get("gradient_accumulation_steps", 1)
    c = model.config
    try:
        config = TrainConfig(model="gpt", data=data, data_format=data_format, out_dir=str(out_dir),
                             block_size=c.block_size, eval_batches="fresh", **values,
                             model_args={"n_layer": c.n_layer, "n_head": c.n_head, "n_embd": c.n_embd,
                                         "dropout": c.dropout, "bias": c.bias})
        corpus = LanguageData(config.data, data_format, config.block_size, config.max_data_mb)
        corpus.tokenizer.check_matches(tokenizer, what=f"{file}")
        optimizer = configure_optimizer(model, config)
        optimizer.load_state_dict(from_torch_optimizer(ckpt["optimizer"]))
        best_val_loss = float(ckpt.get("best_val_loss", math.inf))  # nanoGPT saves a 0-d tensor
    except (ValueError, TypeError, RuntimeError) as e:  # settings that cannot work, data that does not fit
        raise ValueError(f"{file} cannot become a run on --data {data}: {e}") from None
    fresh = [np.random.default_rng(config.seed + i).bit_generator.state for i in range(2)]
    return {"train_config": asdict(config), "data": data_record(config.data), "iter_num": ckpt["iter_num"],
            "best_val_loss": best_val_loss, "evals_since_best": 0,
            "first_loss": None, "optimizer": optimizer.state_dict(),
            "rng": {"batches": fresh[0], "eval": fresh[1], "tensor": fresh[0]}}


# ---- safetensors ------------------------------------------------------------------------------------------
def to_safetensors(run: str | Path, file: str | Path, force: bool = False) -> Path:
    """Write a run's model (any kind) to a .safetensors file: the weights (a GPT's with nanoGPT's names,
    lm_head.weight included), and in its metadata the model kind, config, vocabulary and data format."""
    st = safetensors_numpy()
    model, tokenizer, state = load_model(run)
    file = Path(file)
    if file.is_dir():
        raise ValueError(f"{file} is a folder; give the path of the .safetensors file to write")
    refuse_to_overwrite([file], force)
    weights = {name: np.ascontiguousarray(w) for name, w in model.state_dict().items()}
    if state["model_kind"] == "gpt":  # nanoGPT's state_dict has the tied head under both names
        weights["lm_head.weight"] = weights["transformer.wte.weight"].copy()
    metadata = {"format": "pt", "model_kind": state["model_kind"],
                "model_config": json.dumps(asdict(model.config)), "vocab": json.dumps(tokenizer.to_dict()),
                "data_format": state["data_format"], "seq_len": str(state["seq_len"])}
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(f".{file.name}.tmp")
    try:
        st.save_file(weights, str(tmp), metadata=metadata)
        os.replace(tmp, file)
    finally:
        tmp.unlink(missing_ok=True)
    return file


def from_safetensors(file: str | Path, out_dir: str | Path) -> Path:
    """Turn a .safetensors file written by to_safetensors into out_dir/best.ckpt."""
    safetensors_numpy()
    from safetensors import safe_open

    file = Path(file)
    if not file.is_file():
        raise ValueError(f"no such file: {str(file)!r}; give a .safetensors file written by "
                         "`gradschool export --to safetensors`")
    check_new_run_folder(out_dir)
    try:
        with safe_open(str(file), framework="np") as f:
            metadata = f.metadata() or {}
            weights = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118 (not a dict)
    except Exception as e:  # the safetensors package raises its own error types on a damaged file
        raise ValueError(f"{file} is not a safetensors file that can be read ({e})") from None
    keys = ("model_kind", "model_config", "vocab", "data_format", "seq_len")
    try:
        kind = metadata["model_kind"]
        config, vocab = json.loads(metadata["model_config"]), json.loads(metadata["vocab"])
        seq_len = int(metadata["seq_len"])
    except (KeyError, ValueError, RecursionError):
        raise ValueError(f"{file} lacks the metadata gradschool needs ({', '.join(keys)}, as `gradschool "
                         "export --to safetensors` writes them), so its model cannot be built") from None
    if kind not in MODELS:
        raise ValueError(f"{file}: its model_kind {kind!r} is not one of {', '.join(MODELS)}")
    if not all(w.dtype.kind == "f" for w in weights.values()):
        raise ValueError(f"{file} holds tensors that are not float weights")
    model = build_checked(kind, config, sum(w.size for w in weights.values()), f"{file} cannot be imported",
                          str(file))
    try:
        tokenizer = tokenizer_from_dict(vocab)
        model.load_state_dict(weights)
    except ValueError as e:  # DataError is a ValueError
        raise ValueError(f"{file} cannot be imported: {e}") from None
    return write_imported(out_dir, model, kind, tokenizer, metadata["data_format"], seq_len, str(file))
