"""Chapter 9, a tiny GPT: sample, next-character probabilities and attention maps of trained models, and the
live training of a tiny one (gradschool.web.lm_training). The figures of chapter 9 call these endpoints.

Checkpoints load only from the runs folder (gradschool.runs.runs_folder: where `gradschool train` and rung 9
save), by the name of their run folder; a request never names a path.
"""

import math
import os
import re
import stat
import threading
from pathlib import Path

import numpy as np
from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import JSONResponse, RedirectResponse

from gradschool import checkpoint
from gradschool.data import CharTokenizer, DataError
from gradschool.nn.gpt import GPT
from gradschool.nn.language_model import LanguageModel
from gradschool.runs import BEST, LAST, load_model
from gradschool.sampling import check_sampling_options, next_token_probs
from gradschool.tensor import no_grad
from gradschool.web.lm_training import Trainings, without_paths
from gradschool.web.schemas import AttentionIn, AttentionOut, ModelInfo, NextIn, NextOut, SampleIn, SampleOut

RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Loaded models are cached and shared by every request; every use of a model here holds this lock, so
# requests never interleave on one model. Files are read before taking it: a slow read blocks no one else.
ENGINE = threading.Lock()


class LMError(ValueError):
    """A request the language-model pages cannot serve, with a message saying why (sent as a 4xx)."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.message, self.status = message, status


class Runs:
    """The trained models in one runs folder, each a sub-folder holding best.ckpt or last.ckpt.

    Only real folders and regular files inside the runs folder count: a symlink out of it, or a FIFO or
    device named best.ckpt, is not a model (opening a FIFO would wait forever).
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.cache: dict[str, tuple[float, tuple[LanguageModel, CharTokenizer, dict]]] = {}

    def checkpoint_file(self, name: str) -> Path | None:
        """The run's best.ckpt (else last.ckpt) if it is a regular file inside the runs folder, else None."""
        root = self.folder.resolve()
        folder = (self.folder / name).resolve()
        if folder.parent != root or not folder.is_dir():
            return None
        for file in (BEST, LAST):
            path = (folder / file).resolve()
            try:
                regular = stat.S_ISREG(os.stat(path).st_mode)
            except OSError:
                continue
            if path.parent == folder and regular:
                return path
        return None

    def names(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.name for p in self.folder.iterdir()
                      if RUN_NAME.match(p.name) and self.checkpoint_file(p.name) is not None)

    def describe(self, name: str) -> dict:
        """What chapter 9's model pickers show about a model; an imported model has no training history."""
        model, tok, state = self.load(name)
        data = (state.get("train_config") or {}).get("data")
        best = state.get("best_val_loss")
        return {"name": name, "kind": state["model_kind"], "data": Path(data).stem if data else "imported",
                "vocab_size": tok.vocab_size, "block_size": getattr(model.config, "block_size", None),
                "n_layer": getattr(model.config, "n_layer", 0), "n_head": getattr(model.config, "n_head", 0),
                "boundary": tok.boundary, "iter_num": state.get("iter_num", 0),
                "val_loss": best if isinstance(best, float) and math.isfinite(best) else None}

    def load(self, name: str) -> tuple[LanguageModel, CharTokenizer, dict]:
        """(model, tokenizer, checkpoint state) of the run called name; a 4xx error for any other name."""
        if "/" in name or "\\" in name or ".." in name or not RUN_NAME.match(name):
            raise LMError(f"{name!r} is not a model name: give the name of a run folder (letters, digits, "
                          "'_', '-', '.'), never a path; GET /api/lm/models lists them", 400)
        path = self.checkpoint_file(name)
        if path is None:
            known = ", ".join(self.names()) or "none yet: train a tiny model first"
            raise LMError(f"no model called {name!r} in the runs folder; the models are: {known}", 404)
        stamp = path.stat().st_mtime
        if name not in self.cache or self.cache[name][0] != stamp:
            try:
                loaded = load_model(path)
            except (checkpoint.CheckpointError, OSError, ValueError, KeyError, TypeError) as e:
                reason = without_paths(str(e), self.folder)
                raise LMError(f"the model {name!r} cannot be loaded: {reason}", 409) from None
            self.cache[name] = (stamp, loaded)
        return self.cache[name][1]


def context_ids(tok: CharTokenizer, prompt: str) -> list[int]:
    """The prompt's token ids (tokenizer.encode_prompt: a model of lines starts from its boundary token)."""
    try:
        ids = tok.encode_prompt(prompt)
    except DataError as e:
        raise LMError(str(e)) from None
    if not ids:
        raise LMError("this model continues text: give a prompt of at least one character")
    return ids


def next_probs(model: LanguageModel, ids: list[int], temperature: float, top_k: int | None,
               top_p: float | None = None) -> np.ndarray:
    """The model's distribution over the next token after ids, with temperature, top-k and top-p applied:
    the distribution its samples are drawn from (gradschool.sampling.next_token_probs)."""
    check_sampling_options(temperature, top_k, top_p)
    window = ids[-model.get_block_size():]
    with no_grad():
        logits = model(np.array([window], dtype=np.int64)).data[0, -1]
    return next_token_probs(logits, temperature, top_k, top_p)


def sample(model: LanguageModel, tok: CharTokenizer, prompt: str, temperature: float, top_k: int | None,
           num: int, max_new_tokens: int, seed: int, top_p: float | None = None) -> list[str]:
    """num continuations of prompt (a model of lines stops each at its end token)."""
    ids = context_ids(tok, prompt)
    rng = np.random.default_rng(seed)
    out = model.generate(np.array([ids] * num, dtype=np.int64), max_new_tokens, temperature, top_k, top_p,
                         rng=rng)
    texts = []
    for row in out[:, len(ids):]:
        row = list(row)
        if tok.boundary is not None and tok.boundary_id in row:
            row = row[:row.index(tok.boundary_id)]
        texts.append(prompt + tok.decode(row))
    return texts


def attention(model: GPT, ids: list[int], layer: int, head: int) -> np.ndarray:
    """The (T, T) attention weights of one head of one layer for token ids (the model's own computation)."""
    if len(ids) > model.config.block_size:
        raise LMError(f"the prompt is {len(ids)} tokens; this model reads at most {model.config.block_size}")
    model.eval()
    return model.attention_weights(np.array(ids, dtype=np.int64), layer)[head].astype(np.float64)


def token_labels(tok: CharTokenizer, ids: list[int]) -> list[str]:
    return [tok.itos[i] for i in ids]


def router(runs: Runs) -> APIRouter:
    """The /api/lm endpoints over the models of one runs folder, and /lm (the old page): to chapter 9."""
    api = APIRouter(prefix="/api/lm")
    trainings = Trainings(runs.folder)

    @api.get("/models", response_model=list[ModelInfo])
    def models() -> list[dict]:
        """The trained models in the runs folder, by name."""
        out = []
        for name in runs.names():
            try:
                out.append(runs.describe(name))
            except (LMError, KeyError, TypeError, ValueError):
                continue  # a folder that holds no usable model hides none of the others
        return out

    @api.post("/sample", response_model=SampleOut)
    def sample_text(q: SampleIn) -> dict:
        """num samples continuing the prompt, reproducible with the same seed."""
        model, tok, _ = runs.load(q.model)
        with ENGINE:
            texts = sample(model, tok, q.prompt, q.temperature, q.top_k, q.num, q.max_new_tokens, q.seed,
                           q.top_p)
        return {"samples": texts}

    @api.post("/next", response_model=NextOut)
    def next_char(q: NextIn) -> dict:
        """The most likely next characters after the prompt and their probabilities (at most 15)."""
        model, tok, _ = runs.load(q.model)
        ids = context_ids(tok, q.prompt)
        with ENGINE:
            probs = next_probs(model, ids, q.temperature, q.top_k, q.top_p)
        top = [i for i in np.argsort(-probs, kind="stable")[:15] if probs[i] > 0]
        return {"tokens": token_labels(tok, ids),
                "choices": [{"char": tok.itos[i], "end": i == tok.boundary_id, "prob": float(probs[i])}
                            for i in top]}

    @api.post("/attention", response_model=AttentionOut)
    def attention_map(q: AttentionIn) -> dict:
        """The attention weights (T, T) of one head of one layer of a GPT reading the prompt."""
        model, tok, _ = runs.load(q.model)
        if not isinstance(model, GPT):
            raise LMError(f"the model {q.model!r} is not a GPT, so it has no attention to show")
        if q.layer >= model.config.n_layer or q.head >= model.config.n_head:
            raise LMError(f"the model {q.model!r} has layers 0..{model.config.n_layer - 1} and heads "
                          f"0..{model.config.n_head - 1} (asked for layer {q.layer}, head {q.head})")
        ids = context_ids(tok, q.prompt)
        with ENGINE:
            weights = attention(model, ids, q.layer, q.head)
        return {"tokens": token_labels(tok, ids), "weights": weights.tolist()}

    @api.websocket("/train")
    async def train_tiny(ws: WebSocket) -> None:
        """Train a tiny GPT: send {"type": "start", "data": "names", "steps": 300, "sample_every": 100}, or
        {"type": "cancel"}.

        Answers: started (with the run's name), progress (records), sample (every sample_every steps), done,
        cancelled, error, and full when the server already trains as many models as it may. One job at a time
        per connection; closing the connection stops the job (the steps done so far stay saved).
        """
        await trainings.serve(ws)

    outer = APIRouter()
    outer.include_router(api)

    @outer.get("/lm", include_in_schema=False)
    def old_page() -> RedirectResponse:
        """The language-model page became chapter 9."""
        return RedirectResponse("/chapter/9", status_code=308)

    return outer


async def lm_error(request: Request, e: LMError) -> JSONResponse:
    return JSONResponse(status_code=e.status, content={"detail": e.message})
