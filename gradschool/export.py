"""The way out (and back in): a trained GPT as a PyTorch state_dict with nanoGPT's names.

    gradschool export out-gpt --to torch exported/      # exported/model.pt + exported/config.json
    gradschool export --from torch exported/model.pt --out run/   # a checkpoint for `gradschool sample`

model.pt loads into nanoGPT's GPT (or any PyTorch model with its parameter names) with
`model.load_state_dict(torch.load("model.pt"))`; config.json holds the model config and the vocabulary.
PyTorch is needed only here (pip install torch), never to train or sample.
"""

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from gradschool import checkpoint
from gradschool.data import CharTokenizer, DataError
from gradschool.nanogpt import load_torch_state_dict, save_torch
from gradschool.nn.registry import build_model
from gradschool.runs import (
    BEST,
    RunLock,
    check_new_run_folder,
    checkpoint_state,
    load_model,
    model_config_problem,
    model_state_problem,
    write_atomically,
)

STATE_DICT, CONFIG = "model.pt", "config.json"
CONFIG_KEYS = ("model_config", "vocab", "data_format", "seq_len")


def _torch_available() -> None:
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ValueError("exporting to or from PyTorch needs PyTorch: pip install torch") from None


def to_torch(run: str | Path, out_dir: str | Path, force: bool = False) -> Path:
    """Write the GPT of a run folder (or checkpoint file) to out_dir/model.pt and out_dir/config.json.

    An existing model.pt or config.json there is replaced only with force.
    """
    _torch_available()
    model, tokenizer, state = load_model(run)
    if state["model_kind"] != "gpt":
        raise ValueError(f"only GPT models export to PyTorch (nanoGPT's layout); {run} holds a "
                         f"{state['model_kind']} model")
    out = Path(out_dir)
    existing = [name for name in (STATE_DICT, CONFIG) if (out / name).exists()]
    if existing and not force:
        raise FileExistsError(f"{out} already holds {' and '.join(existing)}; pass --force to overwrite, "
                              "or choose another folder")
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
    _torch_available()
    file = Path(file)
    if not file.is_file():
        raise ValueError(f"no such file: {str(file)!r}; give the model.pt that "
                         "`gradschool export --to torch` wrote")
    meta_path = file.with_name(CONFIG)
    if not meta_path.is_file():
        raise ValueError(f"{meta_path} is missing: importing {file.name} needs the config.json that "
                         "`gradschool export --to torch` writes beside it (the model's sizes and vocabulary)")
    check_new_run_folder(out_dir)  # before the work, and again below under the lock
    meta = read_export_config(meta_path)
    weights = read_torch_weights(file)
    problem = model_config_problem("gpt", meta["model_config"], sum(t.numel() for t in weights.values()))
    if problem:
        raise ValueError(f"{meta_path} does not fit {file.name}: {problem}")
    try:
        tokenizer = CharTokenizer.from_dict(meta["vocab"])
    except DataError as e:
        raise ValueError(f"{meta_path}: {e}") from None
    try:
        model = build_model("gpt", meta["model_config"])
    except ValueError as e:  # sizes that do not go together, e.g. n_embd not a multiple of n_head
        raise ValueError(f"{meta_path}: {e}") from None
    try:
        load_torch_state_dict(model, weights)
    except ValueError as e:
        raise ValueError(f"{file} does not fit the model of {meta_path}: {e}") from None
    state = checkpoint_state("gpt", model, tokenizer, meta["data_format"], meta["seq_len"])
    problem = model_state_problem(state)
    if problem:
        raise ValueError(f"{meta_path} cannot be used: {problem}")
    out = Path(out_dir)
    with RunLock(out):
        check_new_run_folder(out)
        checkpoint.save(out / BEST, state)
    return out / BEST


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


def read_torch_weights(file: Path) -> dict[str, Any]:
    """The tensors of a PyTorch state_dict file (or of a nanoGPT ckpt.pt holding one), by name."""
    import torch

    try:
        sd = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as e:  # torch.load fails in many ways (and types) on a file that is not its own
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ValueError(f"{file} is not a PyTorch state_dict that torch.load can read ({reason}); give the "
                         "model.pt that `gradschool export --to torch` wrote") from None
    if isinstance(sd, dict) and isinstance(sd.get("model"), dict):  # nanoGPT's ckpt.pt: {"model": ...}
        sd = sd["model"]
    if not isinstance(sd, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) and v.is_floating_point() for k, v in sd.items()
    ):
        raise ValueError(f"{file} is not a state_dict (a dict of named float tensors), so it holds no model")
    return sd
