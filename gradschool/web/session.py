"""The /api/train websocket: one training session per connection, a small state machine over its messages.

A session holds at most one job (reset makes a new one) and at most one task playing it; step, play, pause
and lr act on that job. Each step runs off the event loop, in the shared `COMPUTE` thread. A new learning
rate is checked against the same limit as the job's config (one rule for reset and for live change): the
server answers `{"type": "lr", "lr": ...}` when it takes effect, and a refused one pauses the job, so that
nothing trains on a rate the page does not show.
"""

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ValidationError

from gradschool.diverge import TrainingDiverged
from gradschool.web import training
from gradschool.web.schemas import Command, MoonsConfig, TinyConfig, plain_errors

MAX_MESSAGE = 4096  # bytes in one websocket message
# The pure-Python training steps of every session share one thread: the steps of many sessions then take
# turns for the GIL with the event loop alone, and pages keep answering while 8 sessions play.
COMPUTE = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gradschool-compute")
# While the server runs, a thread waiting for the GIL asks for it after 1 ms instead of Python's 5 ms: the
# event loop, which wants it back after every socket call, waits less behind the COMPUTE thread.
SWITCH_INTERVAL = 0.001
M = TypeVar("M", bound=BaseModel)


@contextlib.asynccontextmanager
async def sharing_the_gil(app) -> AsyncIterator[None]:
    """The app's lifespan: SWITCH_INTERVAL while it serves, Python's own interval again after."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


async def compute(function, *args):
    """Run function(*args) in the COMPUTE thread, off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(COMPUTE, function, *args)


async def read_message(ws: WebSocket, schema: type[M]) -> M | None:
    """The next message as a `schema`; a message that is not one gets an error reply and None."""
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    if text is None:
        detail = "send JSON text messages, not binary ones"
    elif len(text) > MAX_MESSAGE:
        detail = f"the message is {len(text)} characters long; the limit is {MAX_MESSAGE}"
    else:
        try:
            return schema.model_validate_json(text)
        except ValidationError as e:
            detail = plain_errors(e.errors(), "the message")["detail"]
    await ws.send_json({"type": "error", "detail": detail})
    return None


class Session:
    """One websocket = one training session: at most one job, and at most one task running it."""

    MAX_STEPS = 2000

    def __init__(self, ws: WebSocket):
        self.ws = ws
        self.job: training.Job | None = None
        self.config: TinyConfig | MoonsConfig | None = None  # the job's settings, as validated
        self.task: asyncio.Task | None = None
        self.stopping = False
        self.last_grid = 0.0

    async def send_step(self, info: dict) -> None:
        if isinstance(self.job, training.MoonsJob) and (time.monotonic() - self.last_grid > 0.25 or
                                                         not self.playing()):
            info["grid"] = await compute(self.job.grid)
            self.last_grid = time.monotonic()
        await self.ws.send_json({"type": "step", **info})

    def playing(self) -> bool:
        return self.task is not None and not self.task.done()

    async def one_step(self) -> bool:
        """Run one step off the event loop and report it; False when training must stop."""
        try:
            info = await compute(self.job.step)
        except TrainingDiverged as e:
            await self.ws.send_json({"type": "diverged", "detail": str(e)})
            return False
        except OverflowError:
            detail = "training diverged: the numbers overflowed. Lower the learning rate and reset."
            await self.ws.send_json({"type": "diverged", "detail": detail})
            return False
        await self.send_step(info)
        if self.job.steps >= self.MAX_STEPS:
            await self.ws.send_json({"type": "paused", "step": self.job.steps,
                                     "detail": f"stopped at the limit of {self.MAX_STEPS} steps"})
            return False
        return True

    async def play(self) -> None:
        while not self.stopping and await self.one_step():
            await asyncio.sleep(0.01)  # let pause, reset and other requests in

    async def pause(self) -> None:
        """Stop playing after the step in flight, which is still reported."""
        if self.playing():
            self.stopping = True
            await self.task
        self.task, self.stopping = None, False

    async def cancel(self) -> None:
        """The client is gone: stop at once (a step already running in its thread just finishes)."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await self.task

    async def set_lr(self, lr: float | None) -> None:
        """Take a new learning rate if the job's config allows it; else pause and say why."""
        try:
            if lr is None:
                raise ValueError("the lr command needs an lr field (a number)")
            self.config = self.config.model_validate(self.config.model_dump() | {"lr": lr})
        except ValidationError as e:
            await self.refuse_lr(plain_errors(e.errors(), "the message")["detail"])
            return
        except ValueError as e:
            await self.refuse_lr(str(e))
            return
        self.job.lr = self.config.lr
        await self.ws.send_json({"type": "lr", "lr": self.config.lr})

    async def refuse_lr(self, detail: str) -> None:
        await self.pause()
        await self.ws.send_json({"type": "error", "detail": f"{detail}; training keeps the learning rate "
                                 f"{self.config.lr} and waits for a valid one"})

    async def handle(self, cmd: Command) -> None:
        if cmd.type == "reset":
            await self.pause()
            config = self.config = cmd.config or TinyConfig()
            params = config.model_dump(exclude={"task"})
            self.job = training.TinyJob(**params) if config.task == "tiny" else training.MoonsJob(**params)
            reply = {"type": "reset", "config": config.model_dump()}
            if isinstance(self.job, training.MoonsJob):
                reply |= {"points": self.job.xs, "labels": self.job.ys, "bounds": self.job.BOUNDS,
                          "grid": await compute(self.job.grid)}
            await self.ws.send_json(reply)
            return
        if self.job is None:
            await self.ws.send_json({"type": "error", "detail": "send a reset command first"})
        elif cmd.type == "lr":
            await self.set_lr(cmd.lr)
        elif cmd.type == "step":
            await self.pause()
            await self.one_step()
        elif cmd.type == "play" and not self.playing():
            self.task = asyncio.create_task(self.play())
        elif cmd.type == "pause":
            await self.pause()
            await self.ws.send_json({"type": "paused", "step": self.job.steps})
