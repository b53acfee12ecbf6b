"""Train a tiny GPT live for chapter 9, in a child process, streaming its losses and samples back.

Training runs NumPy and Python for seconds at a time: in a thread of the server it would hold the GIL and
stall every page. Each training is a child process instead (spawned, at a lower CPU priority), sending the
metrics records over a pipe as they are made (a batch at least every SEND_SECONDS, and at each evaluation) and
a sample of the model every `sample_every` steps; at most MAX_TRAININGS run at once in the whole server.
"""

import asyncio
import contextlib
import multiprocessing
import os
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Annotated

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import Field

from gradschool.runs import LAST
from gradschool.sample import sample
from gradschool.train import make_config, train
from gradschool.web.schemas import TrainStart
from gradschool.web.session import read_message

MAX_TRAININGS = 2  # language-model trainings running at once, server-wide (the machine has few cores)
SPAWN = multiprocessing.get_context("spawn")  # a fresh interpreter: forking a threaded server is unsafe
SEND_SECONDS = 0.1  # the page's curve moves at least 10 times a second while steps are being made


class TrainRequest(TrainStart):
    """A start message may also say how often to show a sample: every sample_every steps (25, 50, ...)."""

    sample_every: Annotated[int, Field(ge=25, le=2000, multiple_of=25)] = 100


class Cancelled(Exception):
    """The server asked the training to stop (raised from inside the loop, between two steps)."""


class TinyTraining:
    """Train a small GPT into out_dir, handing its records to the caller as they are made, and a sample of the
    model every sample_every steps (from the checkpoint saved at that step's evaluation).

    One call of gradschool.train: its on_record callback collects the records and sends the batch since the
    last send at each evaluation (every EVERY steps) or once SEND_SECONDS have passed.
    """

    EVERY = 25
    SAMPLE_SEED = 0  # the same seed for every sample, so they differ only because the model learned

    def __init__(self, out_dir: Path, data: str, steps: int, n_layer: int, n_embd: int, seed: int,
                 sample_every: int = 100):
        self.out_dir = Path(out_dir)
        self.name = self.out_dir.name
        self.data = data
        self.sample_every = sample_every
        self.config = make_config("gpt", data, n_layer=n_layer, n_head=2, n_embd=n_embd,
                                  block_size=32, batch_size=16, learning_rate=1e-2, min_lr=1e-3,
                                  warmup_iters=0, lr_decay_iters=steps, eval_interval=self.EVERY,
                                  eval_iters=2, max_iters=steps, seed=seed, out_dir=str(self.out_dir))

    def sample(self) -> list[str]:
        """What the model of the last checkpoint writes now: three names, or 200 characters of text."""
        names = self.data == "names"
        return sample(self.out_dir / LAST, num=3 if names else 1, temperature=0.8,
                      max_new_tokens=None if names else 200, seed=self.SAMPLE_SEED)

    def run(self, send: Callable[[int, list[dict]], None],
            show: Callable[[int, list[str]], None] = lambda step, texts: None) -> int:
        """Train; send(step, records) as they come, show(step, samples) every sample_every steps (and at the
        end). Returns the steps done."""
        batch: list[dict] = []
        sent = time.monotonic()

        def on_record(record: dict) -> None:
            nonlocal sent
            batch.append(record)
            evaluation = "val_loss" in record
            if evaluation or time.monotonic() - sent >= SEND_SECONDS:
                send(record["iter"], batch.copy())
                batch.clear()
                sent = time.monotonic()
            step = record["iter"]
            if evaluation and (step % self.sample_every == 0 or step == self.config.max_iters):
                show(step, self.sample())  # last.ckpt was saved just before this evaluation

        result = train(self.config, progress=False, on_record=on_record)
        if batch:
            send(result.iter_num, batch)
        return result.iter_num


def claim_folder(runs: Path, base: str) -> Path:
    """Create a new, empty run folder named base (else base-2, base-3, ...) atomically: never shared."""
    runs.mkdir(parents=True, exist_ok=True)
    for name in (base, *(f"{base}-{i}" for i in range(2, 10_000))):
        with contextlib.suppress(FileExistsError):
            (runs / name).mkdir()
            return runs / name
    raise FileExistsError(f"the runs folder already holds 10000 runs named {base}-N; delete some")


def without_paths(message: str, folder: Path) -> str:
    """message with the server's runs folder path left out (a page never learns the server's paths)."""
    given = str(folder)
    for path in {str(folder.resolve()), *([given] if os.sep in given else [])}:  # never a bare word
        message = message.replace(path + os.sep, "").replace(path, "the runs folder")
    return message


def worker(spec: dict, conn: Connection) -> None:
    """The child process: train as `spec` says, talking to the server over conn (see `train_in_chunks`)."""
    with contextlib.suppress(OSError):
        os.nice(5)  # the server's requests come first
    with contextlib.suppress(BrokenPipeError, ConnectionResetError, EOFError):  # the server is gone: stop
        conn.send(train_in_chunks(spec, conn))


def train_in_chunks(spec: dict, conn: Connection) -> tuple:
    """Send ("progress", step, records) as records come and ("sample", step, texts) every sample_every steps;
    return ("done", step), or ("cancelled", step) once the server sent "cancel" (checked at each send), or
    ("error", message)."""
    out_dir = Path(spec["out_dir"])

    def send(step: int, records: list[dict]) -> None:
        if conn.poll() and conn.recv() == "cancel":
            raise Cancelled(step)
        conn.send(("progress", step, records))

    def show(step: int, texts: list[str]) -> None:
        conn.send(("sample", step, texts))

    try:
        tiny = TinyTraining(out_dir, spec["data"], spec["steps"], spec["n_layer"], spec["n_embd"],
                            spec["seed"], spec["sample_every"])
        return ("done", tiny.run(send, show))
    except Cancelled as e:
        return ("cancelled", e.args[0])
    except (ValueError, ArithmeticError, OSError) as e:  # a diverged loss, a full disk
        return ("error", without_paths(f"training stopped: {e}", out_dir.parent))


def wake(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


async def receive(conn: Connection) -> tuple:
    """The child's next message, waiting without blocking the event loop; ("gone",) if it died."""
    loop = asyncio.get_running_loop()
    try:
        while not conn.poll():
            ready = loop.create_future()
            loop.add_reader(conn.fileno(), wake, ready)
            try:
                await ready
            finally:
                loop.remove_reader(conn.fileno())
        return conn.recv()
    except (EOFError, OSError):
        return ("gone",)


class Trainings:
    """The language-model trainings of one server: at most MAX_TRAININGS child processes at a time."""

    def __init__(self, runs: Path, limit: int = MAX_TRAININGS):
        self.runs = runs
        self.limit = limit
        self.running = 0

    async def run(self, ws: WebSocket, msg: TrainRequest, cancelled: asyncio.Event) -> None:
        """Train one model for the websocket ws, reporting started / progress / done / cancelled / error."""
        if self.running >= self.limit:
            await ws.send_json({"type": "full", "detail": f"the server is already training {self.limit} "
                                "models, the most it runs at once; wait for one to finish and try again"})
            return
        try:
            out_dir = claim_folder(self.runs, f"tiny-{msg.data}")
        except OSError as e:
            await ws.send_json({"type": "error", "detail": without_paths(f"cannot create the run folder: {e}",
                                                                         self.runs)})
            return
        self.running += 1  # no await since the check above: two starts cannot both take the last slot
        spec = {"out_dir": str(out_dir), **msg.model_dump(include={"data", "steps", "n_layer", "n_embd",
                                                                   "seed", "sample_every"})}
        parent, child = SPAWN.Pipe()
        process = SPAWN.Process(target=worker, args=(spec, child), daemon=True, name=f"train {out_dir.name}")
        try:
            await asyncio.to_thread(process.start)
            child.close()
            await ws.send_json({"type": "started", "name": out_dir.name, "steps": msg.steps})
            last = await self.follow(ws, parent, out_dir.name, cancelled)
        finally:
            with contextlib.suppress(OSError):
                parent.send("cancel")  # no-op once it finished; else it stops after its chunk
            await asyncio.to_thread(process.join)
            parent.close()
            self.running -= 1
        await ws.send_json(last)  # once its slot is free: the client may start another at once

    async def follow(self, ws: WebSocket, conn: Connection, name: str, cancelled: asyncio.Event) -> dict:
        """Relay the child's progress to ws and pass a cancel on; returns its last message (done, ...)."""
        waiter = asyncio.create_task(cancelled.wait())
        cancel_sent = False
        try:
            while True:
                message = asyncio.create_task(receive(conn))
                if not cancel_sent:
                    await asyncio.wait({message, waiter}, return_when=asyncio.FIRST_COMPLETED)
                    if waiter.done():
                        conn.send("cancel")
                        cancel_sent = True
                kind, *rest = await message
                if kind == "progress":
                    await ws.send_json({"type": "progress", "step": rest[0], "records": rest[1]})
                    continue
                if kind == "sample":
                    await ws.send_json({"type": "sample", "step": rest[0], "samples": rest[1]})
                    continue
                if kind in ("done", "cancelled"):
                    return {"type": kind, "name": name, "step": rest[0]}
                if kind == "error":
                    return {"type": "error", "detail": rest[0]}
                return {"type": "error", "detail": "the training process stopped unexpectedly"}
        finally:
            waiter.cancel()

    async def serve(self, ws: WebSocket) -> None:
        """The /api/lm/train websocket: start and cancel messages; one training at a time per connection."""
        await ws.accept()
        job: asyncio.Task | None = None
        cancelled = asyncio.Event()
        try:
            while True:
                msg = await read_message(ws, TrainRequest)
                if msg is None:
                    continue
                if msg.type == "cancel":
                    cancelled.set()
                elif job is not None and not job.done():
                    detail = "a model is already training; cancel it first"
                    await ws.send_json({"type": "error", "detail": detail})
                else:
                    cancelled.clear()
                    job = asyncio.create_task(self.run(ws, msg, cancelled))
        except WebSocketDisconnect:
            pass
        finally:
            cancelled.set()  # the client left: stop after the chunk in flight
            if job is not None:
                with contextlib.suppress(WebSocketDisconnect, RuntimeError, asyncio.CancelledError):
                    await job
