"""Chapter 7, language models: sample, next-character probabilities and attention maps of trained checkpoints.

Checkpoints load only from the runs folder, by the name of their run folder; a request never names a path.
"""

import asyncio
import contextlib
import math
import re
import threading
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gradschool import checkpoint
from gradschool.data import CharTokenizer, DataError
from gradschool.nn import Module
from gradschool.nn.gpt import GPT
from gradschool.runs import BEST, LAST, load_model, read_metrics
from gradschool.sampling import check_sampling_options
from gradschool.tensor import no_grad
from gradschool.train import make_config, resume_config, train

RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Loaded models are cached and shared by every request, and a training job rewrites the checkpoints that the
# cache reloads; every use of a model here holds this lock, so requests never interleave on one model.
ENGINE = threading.Lock()


class LMError(ValueError):
    """A request the language-model pages cannot serve, with a message saying why (sent as a 4xx)."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.message, self.status = message, status


class Runs:
    """The trained models in one runs folder, each a sub-folder holding best.ckpt or last.ckpt."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.cache: dict[str, tuple[float, tuple[Module, CharTokenizer, dict]]] = {}

    def names(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.name for p in self.folder.iterdir() if p.is_dir() and RUN_NAME.match(p.name)
                      and ((p / BEST).exists() or (p / LAST).exists()))

    def describe(self, name: str) -> dict:
        model, tok, state = self.load(name)
        return {"name": name, "kind": state["model_kind"], "data": Path(state["train_config"]["data"]).stem,
                "vocab_size": tok.vocab_size, "block_size": getattr(model.config, "block_size", None),
                "n_layer": getattr(model.config, "n_layer", 0), "n_head": getattr(model.config, "n_head", 0),
                "boundary": tok.boundary, "iter_num": state["iter_num"],
                "val_loss": state["best_val_loss"] if math.isfinite(state["best_val_loss"]) else None}

    def load(self, name: str) -> tuple[Module, CharTokenizer, dict]:
        """(model, tokenizer, checkpoint state) of the run called name; a 4xx error for any other name."""
        if "/" in name or "\\" in name or ".." in name or not RUN_NAME.match(name):
            raise LMError(f"{name!r} is not a model name: give the name of a run folder (letters, digits, "
                          "'_', '-', '.'), never a path; GET /api/lm/models lists them", 400)
        names = self.names()
        if name not in names:
            known = ", ".join(names) or "none yet: train a tiny model first"
            raise LMError(f"no model called {name!r} in the runs folder; the models are: {known}", 404)
        folder = self.folder / name
        stamp = max((folder / f).stat().st_mtime for f in (BEST, LAST) if (folder / f).exists())
        if name not in self.cache or self.cache[name][0] != stamp:
            try:
                with ENGINE:
                    self.cache[name] = (stamp, load_model(folder))
            except (checkpoint.CheckpointError, OSError) as e:
                raise LMError(f"the model {name!r} cannot be loaded: {e}", 409) from None
        return self.cache[name][1]


def context_ids(tok: CharTokenizer, prompt: str) -> list[int]:
    """The prompt's token ids; a model of lines (names) starts from its boundary token."""
    try:
        ids = tok.encode(prompt)
    except DataError:
        unknown = "".join(sorted(set(prompt) - set(tok.itos)))
        raise LMError(f"the prompt has characters the model does not know: {unknown!r}; "
                      f"it knows {''.join(c for c in tok.itos if c.isprintable())!r}") from None
    if tok.boundary is not None:
        if tok.boundary in prompt:
            raise LMError(f"the prompt may not contain the boundary token {tok.boundary!r}")
        return [tok.boundary_id, *ids]
    if not ids:
        raise LMError("this model continues text: give a prompt of at least one character")
    return ids


def next_probs(model: Module, ids: list[int], temperature: float, top_k: int | None) -> np.ndarray:
    """The model's distribution over the next token after ids, with temperature and top-k applied."""
    check_sampling_options(temperature, top_k, None)
    window = ids[-model.config.block_size:] if hasattr(model.config, "block_size") else ids
    with no_grad():
        logits = model(np.array([window], dtype=np.int64)).data[0, -1].astype(np.float64) / temperature
    if top_k is not None and top_k < logits.size:
        logits = np.where(logits < np.sort(logits)[-top_k], -np.inf, logits)
    probs = np.exp(logits - logits.max())
    return probs / probs.sum()


def sample(model: Module, tok: CharTokenizer, prompt: str, temperature: float, top_k: int | None, num: int,
           max_new_tokens: int, seed: int) -> list[str]:
    """num continuations of prompt (a model of lines stops each at its end token)."""
    ids = context_ids(tok, prompt)
    rng = np.random.default_rng(seed)
    out = model.generate(np.array([ids] * num, dtype=np.int64), max_new_tokens, temperature, top_k, rng=rng)
    texts = []
    for row in out[:, len(ids):]:
        row = list(row)
        if tok.boundary is not None and tok.boundary_id in row:
            row = row[:row.index(tok.boundary_id)]
        texts.append(prompt + tok.decode(row))
    return texts


def attention(model: GPT, ids: list[int], layer: int, head: int) -> np.ndarray:
    """The (T, T) attention weights of one head of one layer for token ids: causal softmax(q k^T / sqrt(d)).

    Runs the blocks before `layer` as the model does, then recomputes that layer's queries and keys.
    """
    if len(ids) > model.config.block_size:
        raise LMError(f"the prompt is {len(ids)} tokens; this model reads at most {model.config.block_size}")
    tr = model.transformer
    with no_grad():
        x = tr.wte(np.array([ids], dtype=np.int64)) + tr.wpe(np.arange(len(ids)))
        for block in tr.h[:layer]:
            x = block(x)
        attn = tr.h[layer].attn
        q, k, _ = attn.c_attn(tr.h[layer].ln_1(x)).split(attn.n_embd, axis=2)
    size = attn.n_embd // attn.n_head
    q = q.data[0, :, head * size:(head + 1) * size].astype(np.float64)
    k = k.data[0, :, head * size:(head + 1) * size].astype(np.float64)
    scores = q @ k.T / math.sqrt(size)
    T = len(ids)
    scores = np.where(np.tril(np.ones((T, T), dtype=bool)), scores, -np.inf)  # no peeking at later tokens
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))
    return weights / weights.sum(axis=1, keepdims=True)


def token_labels(tok: CharTokenizer, ids: list[int]) -> list[str]:
    return [tok.itos[i] for i in ids]


class TinyTraining:
    """Train a small GPT into the runs folder in chunks of steps, so it can report its loss and be cancelled.

    Each chunk is one call of gradschool.train; the next resumes from last.ckpt exactly where it stopped.
    """

    CHUNK = 25

    def __init__(self, runs: Runs, data: str, steps: int, n_layer: int, n_embd: int, seed: int):
        base = f"tiny-{data}"
        taken = set(runs.names()) | {p.name for p in runs.folder.glob("*")} if runs.folder.is_dir() else set()
        self.name = next(n for n in (base, *(f"{base}-{i}" for i in range(2, 1000))) if n not in taken)
        self.out_dir = runs.folder / self.name
        self.steps = steps
        self.done = 0
        self.config = make_config("gpt", data, n_layer=n_layer, n_head=2, n_embd=n_embd,
                                  block_size=32, batch_size=16, learning_rate=1e-2, min_lr=1e-3,
                                  warmup_iters=0, lr_decay_iters=steps, eval_interval=self.CHUNK,
                                  eval_iters=2, max_iters=min(self.CHUNK, steps), seed=seed,
                                  out_dir=str(self.out_dir))

    def chunk(self) -> list[dict]:
        """Train the next CHUNK steps; returns their metrics records (step losses and evaluations)."""
        with ENGINE:
            return self._chunk()

    def _chunk(self) -> list[dict]:
        if self.done == 0:
            result = train(self.config, progress=False)
        else:
            config = resume_config(self.out_dir, max_iters=min(self.done + self.CHUNK, self.steps))
            result = train(config, resume=True, progress=False)
        start, self.done = self.done, result.iter_num
        records = read_metrics(self.out_dir)
        return [r for r in records if ("loss" in r and start <= r["iter"] < self.done)
                or ("val_loss" in r and (start < r["iter"] <= self.done or r["iter"] == start == 0))]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


ModelName = Annotated[str, Field(min_length=1, max_length=200)]
Prompt = Annotated[str, Field(max_length=200)]
Temperature = Annotated[float, Field(gt=0, le=5)]
TopK = Annotated[int, Field(ge=1, le=1000)] | None


class SampleIn(Strict):
    model: ModelName
    prompt: Prompt = ""
    temperature: Temperature = 1.0
    top_k: TopK = None
    num: Annotated[int, Field(ge=1, le=20)] = 5
    max_new_tokens: Annotated[int, Field(ge=1, le=500)] = 100
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 1337


class NextIn(Strict):
    model: ModelName
    prompt: Prompt = ""
    temperature: Temperature = 1.0
    top_k: TopK = None


class AttentionIn(Strict):
    model: ModelName
    prompt: Prompt
    layer: Annotated[int, Field(ge=0, le=64)] = 0
    head: Annotated[int, Field(ge=0, le=64)] = 0


class ModelInfo(BaseModel):
    name: str
    kind: str
    data: str
    vocab_size: int
    block_size: int | None
    n_layer: int
    n_head: int
    boundary: str | None
    iter_num: int
    val_loss: float | None


class SampleOut(BaseModel):
    samples: list[str]


class Choice(BaseModel):
    char: str
    end: bool  # the boundary token: the end of a name
    prob: float


class NextOut(BaseModel):
    tokens: list[str]
    choices: list[Choice]


class AttentionOut(BaseModel):
    tokens: list[str]
    weights: list[list[float]]


class TrainStart(Strict):
    type: Literal["start", "cancel"]
    data: Literal["names", "shakespeare"] = "names"
    steps: Annotated[int, Field(ge=25, le=2000)] = 300
    n_layer: Annotated[int, Field(ge=1, le=2)] = 1
    n_embd: Annotated[int, Field(ge=16, le=64, multiple_of=16)] = 32
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 1337


def router(runs: Runs) -> APIRouter:
    """The /api/lm endpoints over the models of one runs folder."""
    api = APIRouter(prefix="/api/lm")

    @api.get("/models", response_model=list[ModelInfo])
    def models() -> list[dict]:
        """The trained models in the runs folder, by name."""
        out = []
        for name in runs.names():
            with contextlib.suppress(LMError):
                out.append(runs.describe(name))
        return out

    @api.post("/sample", response_model=SampleOut)
    def sample_text(q: SampleIn) -> dict:
        """num samples continuing the prompt, reproducible with the same seed."""
        model, tok, _ = runs.load(q.model)
        with ENGINE:
            texts = sample(model, tok, q.prompt, q.temperature, q.top_k, q.num, q.max_new_tokens, q.seed)
        return {"samples": texts}

    @api.post("/next", response_model=NextOut)
    def next_char(q: NextIn) -> dict:
        """The most likely next characters after the prompt and their probabilities (at most 15)."""
        model, tok, _ = runs.load(q.model)
        ids = context_ids(tok, q.prompt)
        with ENGINE:
            probs = next_probs(model, ids, q.temperature, q.top_k)
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
        """Train a tiny GPT: send {"type": "start", "data": "names", "steps": 300}, or {"type": "cancel"}.

        Answers: started (with the run's name), progress (losses), done, cancelled, error. One job at a time
        per connection; closing the connection stops the job (the steps done so far stay saved).
        """
        await ws.accept()
        job: asyncio.Task | None = None
        cancelled = asyncio.Event()

        async def run(tiny: TinyTraining) -> None:
            await ws.send_json({"type": "started", "name": tiny.name, "steps": tiny.steps})
            while tiny.done < tiny.steps:
                if cancelled.is_set():
                    await ws.send_json({"type": "cancelled", "name": tiny.name, "step": tiny.done})
                    return
                try:
                    records = await asyncio.to_thread(tiny.chunk)
                except (ValueError, ArithmeticError, OSError) as e:  # a diverged loss, a full disk
                    await ws.send_json({"type": "error", "detail": f"training stopped: {e}"})
                    return
                await ws.send_json({"type": "progress", "step": tiny.done, "records": records})
            await ws.send_json({"type": "done", "name": tiny.name, "step": tiny.done})

        try:
            while True:
                try:
                    msg = TrainStart.model_validate_json(await ws.receive_text())
                except ValidationError as e:
                    problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}"
                                         for err in e.errors())
                    await ws.send_json({"type": "error", "detail": problems})
                    continue
                if msg.type == "cancel":
                    cancelled.set()
                elif job is not None and not job.done():
                    await ws.send_json({"type": "error",
                                        "detail": "a model is already training; cancel it first"})
                else:
                    cancelled.clear()
                    runs.folder.mkdir(parents=True, exist_ok=True)
                    tiny = TinyTraining(runs, msg.data, msg.steps, msg.n_layer, msg.n_embd, msg.seed)
                    job = asyncio.create_task(run(tiny))
        except WebSocketDisconnect:
            pass
        finally:
            cancelled.set()  # the client left: stop after the chunk in flight
            if job is not None:
                with contextlib.suppress(WebSocketDisconnect, RuntimeError, asyncio.CancelledError):
                    await job

    return api


async def lm_error(request: Request, e: LMError) -> JSONResponse:
    return JSONResponse(status_code=e.status, content={"detail": e.message})
