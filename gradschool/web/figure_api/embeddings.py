"""Chapter 5's figures (gradschool.figures.embeddings and .lr_finder).

- websocket /api/figure/embeddings/live: an MLP language model on the names, trained live. Send JSON
  messages {"type": "reset", "seed": 42, "lr": 0.1} (a fresh seeded model; the reply is its snapshot), then
  {"type": "play"} (a snapshot about 10 times a second until pause or MAX_STEPS), {"type": "pause"},
  {"type": "step", "steps": 100}. The steps run in the TRAINING thread, never in the event loop.
- POST /api/figure/context: one name's context windows and the shape of every tensor of the forward pass.
- POST /api/figure/lr-finder: the loss against an exponentially growing learning rate (cached by arguments).
"""

import asyncio
import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Annotated, Literal

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field, ValidationError

from gradschool.figures.embeddings import EmbeddingRun, context_window
from gradschool.figures.lr_finder import lr_finder
from gradschool.web.figure_api import refusals_are_422
from gradschool.web.schemas import Seed, Strict, plain_errors

router = APIRouter(prefix="/api/figure")

MAX_STEPS = 20000  # a live run stops here
STEPS_PER_UPDATE = 25
UPDATE_EVERY = 0.1  # seconds between snapshots while playing
MAX_RUNS = 8  # live runs at once, server-wide
MAX_MESSAGE = 1000  # characters in one websocket message
LIVE: set[WebSocket] = set()
# Every live run trains in this one thread, taking turns: the event loop then shares the GIL with one thread
# however many runs play, and pages keep answering.
TRAINING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gradschool-live-figure")
Rate = Annotated[float, Field(ge=1e-4, le=10)]


class LiveCommand(Strict):
    type: Literal["reset", "play", "pause", "step"]
    seed: Seed = 42
    lr: Rate = 0.1
    steps: Annotated[int, Field(ge=1, le=1000)] = 100


async def read_commands(ws: WebSocket, queue: asyncio.Queue) -> None:
    """Put every valid message on the queue (None when the client leaves); answer invalid ones."""
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:
                detail = "send JSON text messages, not binary ones"
            elif len(text) > MAX_MESSAGE:
                detail = f"the message is {len(text)} characters long; the limit is {MAX_MESSAGE}"
            else:
                try:
                    await queue.put(LiveCommand.model_validate_json(text))
                    continue
                except ValidationError as e:
                    detail = plain_errors(e.errors(), "the message")["detail"]
            await ws.send_json({"type": "error", "detail": detail})
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client left while we answered
    await queue.put(None)


def train_and_snapshot(run: EmbeddingRun, steps: int) -> dict:
    start = run.steps
    run.train(steps)
    return run.snapshot(losses_from=start)


async def in_training_thread(function, *args):
    """function(*args) in the TRAINING thread, off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(TRAINING, function, *args)


class LiveRun:
    """One connection's run and whether it is playing."""

    def __init__(self, ws: WebSocket):
        self.ws = ws
        self.run: EmbeddingRun | None = None
        self.playing = False

    async def advance(self, steps: int) -> None:
        """Train `steps` more steps in a worker thread and send the snapshot (or why it stopped)."""
        steps = min(steps, MAX_STEPS - self.run.steps)
        try:
            snapshot = await in_training_thread(train_and_snapshot, self.run, steps)
        except FloatingPointError as e:
            self.playing = False
            await self.ws.send_json({"type": "diverged", "detail": str(e)})
            return
        await self.ws.send_json({"type": "snapshot", "playing": self.playing, **snapshot})
        if self.run.steps >= MAX_STEPS:
            self.playing = False
            await self.ws.send_json({"type": "paused", "step": self.run.steps,
                                     "detail": f"stopped at the limit of {MAX_STEPS} steps"})

    async def handle(self, cmd: LiveCommand) -> None:
        if cmd.type == "reset":
            self.playing = False
            self.run = await in_training_thread(EmbeddingRun, cmd.seed, cmd.lr)
            snapshot = await in_training_thread(self.run.snapshot)
            await self.ws.send_json({"type": "snapshot", "playing": False, **snapshot})
        elif self.run is None:
            await self.ws.send_json({"type": "error", "detail": "send a reset message first"})
        elif cmd.type == "play":
            self.playing = self.run.steps < MAX_STEPS
        elif cmd.type == "pause":
            self.playing = False
            await self.ws.send_json({"type": "paused", "step": self.run.steps})
        elif cmd.type == "step":
            self.playing = False
            await self.advance(cmd.steps)

    async def serve(self, queue: asyncio.Queue) -> None:
        while True:
            if self.playing:
                started = time.monotonic()
                await self.advance(STEPS_PER_UPDATE)
                await asyncio.sleep(max(0.0, UPDATE_EVERY - (time.monotonic() - started)))
                while not queue.empty():
                    cmd = queue.get_nowait()
                    if cmd is None:
                        return
                    await self.handle(cmd)
            else:
                cmd = await queue.get()
                if cmd is None:
                    return
                await self.handle(cmd)


@router.websocket("/embeddings/live")
async def live(ws: WebSocket) -> None:
    await ws.accept()
    if len(LIVE) >= MAX_RUNS:
        await ws.send_json({"type": "error", "detail": f"the server is already training {MAX_RUNS} live "
                                                       "figures; close one and retry"})
        await ws.close(code=1013)
        return
    LIVE.add(ws)
    queue: asyncio.Queue = asyncio.Queue()
    reader = asyncio.create_task(read_commands(ws, queue))
    try:
        await LiveRun(ws).serve(queue)
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client left while we were sending
    finally:
        LIVE.discard(ws)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


class ContextIn(Strict):
    word: Annotated[str, Field(min_length=1, max_length=20)] = "emma"
    block_size: Annotated[int, Field(ge=1, le=8)] = 3
    n_embd: Annotated[int, Field(ge=1, le=16)] = 2
    n_hidden: Annotated[int, Field(ge=1, le=300)] = 100


class TensorShape(BaseModel):
    name: str
    shape: list[int]
    meaning: str


class ContextOut(BaseModel):
    contexts: list[str]
    targets: list[str]
    ids: list[list[int]]
    tensors: list[TensorShape]
    target_probs: list[float]
    loss: float


@router.post("/context", response_model=ContextOut)
@refusals_are_422
def context(q: ContextIn) -> dict:
    return context_window(q.word, q.block_size, q.n_embd, q.n_hidden)


class LRFinderIn(Strict):
    lo: Annotated[float, Field(ge=-6, le=1)] = -3.0
    hi: Annotated[float, Field(ge=-5, le=2)] = 0.0
    steps: Annotated[int, Field(ge=10, le=1000)] = 300
    seed: Seed = 42


class Lowest(BaseModel):
    exponent: float
    loss: float


class LRFinderOut(BaseModel):
    exponents: list[float]
    losses: list[float]
    smoothed: list[float]
    stopped_early: bool
    lowest: Lowest


@lru_cache(maxsize=32)
def cached_lr_finder(lo: float, hi: float, steps: int, seed: int) -> dict:
    return lr_finder(lo, hi, steps, seed)


@router.post("/lr-finder", response_model=LRFinderOut)
@refusals_are_422
def lr_finder_figure(q: LRFinderIn) -> dict:
    return cached_lr_finder(q.lo, q.hi, q.steps, q.seed)
