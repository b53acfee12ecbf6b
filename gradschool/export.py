"""The way out (and back in): a trained GPT as a PyTorch state_dict with nanoGPT's names.

    gradschool export out-gpt --to torch exported/      # exported/model.pt + exported/config.json
    gradschool export --from torch exported/model.pt --out run/   # a checkpoint for `gradschool sample`

model.pt loads into nanoGPT's GPT (or any PyTorch model with its parameter names) with
`model.load_state_dict(torch.load("model.pt"))`; config.json holds the model config and the vocabulary.
PyTorch is needed only here (pip install torch), never to train or sample.
"""

import json
from dataclasses import asdict
from pathlib import Path

from gradschool import checkpoint
from gradschool.data import CharTokenizer
from gradschool.nanogpt import load_torch, save_torch
from gradschool.nn.gpt import GPTConfig
from gradschool.train import BEST, CHECKPOINT_KIND, load_model

STATE_DICT, CONFIG = "model.pt", "config.json"


def _torch_available() -> None:
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ValueError("exporting to or from PyTorch needs PyTorch: pip install torch") from None


def to_torch(run: str | Path, out_dir: str | Path) -> Path:
    """Write the GPT of a run folder (or checkpoint file) to out_dir/model.pt and out_dir/config.json."""
    _torch_available()
    model, tokenizer, state = load_model(run)
    if state["model_kind"] != "gpt":
        raise ValueError(f"only GPT models export to PyTorch (nanoGPT's layout); {run} holds a "
                         f"{state['model_kind']} model")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_torch(model, out / STATE_DICT)
    meta = {"model_config": asdict(model.config), "vocab": tokenizer.to_dict(),
            "data_format": state["data_format"], "seq_len": state["seq_len"]}
    (out / CONFIG).write_text(json.dumps(meta, indent=2))
    return out / STATE_DICT


def from_torch(file: str | Path, out_dir: str | Path) -> Path:
    """Turn a state_dict file written by to_torch (config.json beside it) into out_dir/best.ckpt."""
    _torch_available()
    file = Path(file)
    if not file.is_file():
        raise ValueError(f"no such file: {str(file)!r}; give the model.pt that "
                         "`gradschool export --to torch` wrote")
    meta_path = file.with_name(CONFIG)
    if not meta_path.is_file():
        raise ValueError(f"{meta_path} is missing: importing {file.name} needs the config.json that "
                         "`gradschool export --to torch` writes beside it (the model's sizes and vocabulary)")
    meta = json.loads(meta_path.read_text())
    model = load_torch(file, GPTConfig(**meta["model_config"]))
    tokenizer = CharTokenizer.from_dict(meta["vocab"])
    if tokenizer.vocab_size != model.config.vocab_size:
        raise ValueError(f"{meta_path}: the vocabulary has {tokenizer.vocab_size} characters but the model "
                         f"{model.config.vocab_size} tokens")
    out = Path(out_dir)
    if (out / BEST).exists():
        raise FileExistsError(f"{out / BEST} already exists; choose another --out folder")
    out.mkdir(parents=True, exist_ok=True)
    checkpoint.save(out / BEST, {
        "kind": CHECKPOINT_KIND,
        "model_kind": "gpt",
        "model_config": asdict(model.config),
        "vocab": tokenizer.to_dict(),
        "data_format": meta["data_format"],
        "seq_len": meta["seq_len"],
        "model": model.state_dict(),
    })
    return out / BEST
