"""Live training figures: a websocket that trains one small job and streams its progress as it goes.

A job (e.g. gradschool.figures.spirals.SpiralsTraining) has `done`, `step()`, `start()` (what the page needs
once: the data, the settings), `progress(since)` (a snapshot plus the per-step numbers from step `since`) and
`steps_per_update` (the most steps between two progress messages, so that fast steps still show as a curve).
The client sends `{"type": "start", ...settings}`, `{"type": "pause"}` or `{"type": "resume"}`; the server
answers `start`, then `progress` messages until `done`, or `diverged` (with advice), or `error`.

Steps run in the course's shared COMPUTE thread (gradschool.web.session), never in the event loop, in chunks
of at most CHUNK_SECONDS, so a progress message goes out at least 5 times a second while pages keep answering;
and at most 1 / MIN_INTERVAL times a second, so that a fast job still plays out where the learner can see it.
"""

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import BaseModel

from gradschool.diverge import TrainingDiverged
from gradschool.web.session import compute, read_message

CHUNK_SECONDS = 0.12
MIN_INTERVAL = 0.08  # seconds between two progress messages at least
MAX_STREAMS = 8  # live figures training at once, server-wide


def run_for(job: Any, seconds: float, since: int) -> dict:
    """Steps of `job` for about `seconds` (at least one, at most job.steps_per_update), then its progress from
    step `since`."""
    end = time.monotonic() + seconds
    job.step()
    for _ in range(job.steps_per_update - 1):
        if job.done or time.monotonic() >= end:
            break
        job.step()
    return job.progress(since)


class FigureStream:
    """One websocket: at most one job, played by at most one task."""

    open_streams = 0

    def __init__(self, ws: WebSocket, make_job: Callable[[BaseModel], Any]):
        self.ws, self.make_job = ws, make_job
        self.job: Any = None
        self.task: asyncio.Task | None = None
        self.sent = 0  # the steps already reported

    async def play(self) -> None:
        while not self.job.done:
            began = time.monotonic()
            try:
                info = await compute(run_for, self.job, CHUNK_SECONDS, self.sent)
            except (TrainingDiverged, OverflowError) as e:
                detail = str(e) if isinstance(e, TrainingDiverged) else (
                    "training diverged: the numbers overflowed. Lower the learning rate and start again.")
                progress = await compute(self.job.progress, self.sent)
                await self.ws.send_json({"type": "diverged", "detail": detail, **progress})
                return
            self.sent = info["step"]
            await self.ws.send_json({"type": "progress", **info})
            # let pause, start and other requests in; keep a fast job to MIN_INTERVAL a picture
            await asyncio.sleep(max(0.005, MIN_INTERVAL - (time.monotonic() - began)))

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            # a task cut off mid-send by a client that left ends with the disconnect, not the cancellation
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await self.task
            self.task = None

    async def handle(self, message: BaseModel) -> None:
        if message.type == "start":
            await self.stop()
            try:
                self.job = await compute(self.make_job, message)
            except ValueError as e:
                await self.ws.send_json({"type": "error", "detail": str(e)})
                return
            self.sent = 0
            await self.ws.send_json({"type": "start", **await compute(self.job.start)})
            self.task = asyncio.create_task(self.play())
        elif self.job is None:
            await self.ws.send_json({"type": "error", "detail": "send a start message first"})
        elif message.type == "pause":
            await self.stop()
            await self.ws.send_json({"type": "paused", "step": self.sent})
        elif message.type == "resume" and (self.task is None or self.task.done()):
            self.task = asyncio.create_task(self.play())

    async def serve(self, schema: type[BaseModel]) -> None:
        """Accept the websocket and answer its messages until it closes."""
        await self.ws.accept()
        if FigureStream.open_streams >= MAX_STREAMS:
            await self.ws.send_json({"type": "error", "detail": f"the server is already training "
                                     f"{MAX_STREAMS} live figures; close a page that trains one and retry"})
            await self.ws.close(code=1013)
            return
        FigureStream.open_streams += 1
        try:
            while True:
                message = await read_message(self.ws, schema)
                if message is not None:
                    await self.handle(message)
        except WebSocketDisconnect:
            pass
        finally:
            await self.stop()
            FigureStream.open_streams -= 1
