"""The course web app: static pages plus a JSON API whose numbers all come from the scalar engine."""

import asyncio
import contextlib
import inspect
import math
import os
import textwrap
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Literal

from fastapi import FastAPI, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from gradschool import __version__
from gradschool.diverge import TrainingDiverged
from gradschool.scalar.engine import Value
from gradschool.scalar.nn import Neuron
from gradschool.web import demos, expr, lm, training

STATIC = Path(__file__).parent / "static"
# One page per chapter.
PAGES = ["neuron", "forward", "loss", "derivative", "graph", "training", "lm"]
MAX_TRAINING_SESSIONS = 8
Number = Annotated[float, Field(ge=-10, le=10)]
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,15}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NeuronIn(Strict):
    w1: Number = 0.5
    w2: Number = -0.3
    b: Number = 0.0
    x1: Number = 0.5
    x2: Number = -0.3


class NeuronOut(BaseModel):
    raw: float
    out: float
    grads: dict[str, float]


class ForwardIn(Strict):
    x: Annotated[list[Number], Field(min_length=2, max_length=2)] = [1.0, -2.0]
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 42


class ForwardOut(BaseModel):
    layers: list[list[float]]
    weights: list[list[list[float]]]
    biases: list[list[float]]


class DescentIn(Strict):
    w: Annotated[float, Field(ge=-1000, le=1000)] = 3.0
    lr: Annotated[float, Field(ge=0, le=5)] = 0.1


class DescentOut(BaseModel):
    w: float
    loss: float
    grad: float
    new_w: float
    new_loss: float
    diverging: bool
    curve: list[list[float]]


class DerivativeIn(Strict):
    x: Annotated[float, Field(ge=-3, le=3)] = 1.0


class DerivativeOut(BaseModel):
    x: float
    f: float
    dfdx: float
    curve: list[list[float]]


class GraphIn(Strict):
    expression: Annotated[str, Field(max_length=expr.MAX_LENGTH)] = "tanh(a*b + a)"
    variables: Annotated[dict[Name, Annotated[float, Field(ge=-100, le=100)]], Field(max_length=8)] = {
        "a": 2.0, "b": -3.0}


class Term(BaseModel):
    parent: int
    local: float
    upstream: float


class Node(BaseModel):
    id: int
    label: str
    op: str
    data: float
    grad: float
    children: list[int]
    terms: list[Term]


class GraphOut(BaseModel):
    nodes: list[Node]
    root: int
    backward_order: list[int]


class Source(str, Enum):
    """The library code that each page shows in its code panel."""

    neuron = "neuron"
    forward = "forward"
    loss = "loss"
    derivative = "derivative"
    graph = "graph"
    training = "training"
    moons = "moons"
    lm = "lm"


SOURCES = {
    "neuron": [demos.neuron, Value.tanh],
    "forward": [demos.forward_pass, Neuron.__call__],
    "loss": [demos.descent_loss, demos.descent_step],
    "derivative": [demos.square, demos.derivative, Value.__pow__],
    "graph": [Value.__mul__, Value.tanh, Value.backward],
    "training": [training.TinyJob.step],
    "moons": [training.MoonsJob.step],
    "lm": [lm.next_probs, lm.attention],
}


class SourceOut(BaseModel):
    name: str
    code: str


class TinyConfig(Strict):
    task: Literal["tiny"] = "tiny"
    lr: Annotated[float, Field(gt=0, le=2)] = 0.01
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 1337


class MoonsConfig(Strict):
    task: Literal["moons"] = "moons"
    hidden: Annotated[list[Annotated[int, Field(ge=1, le=16)]], Field(min_length=1, max_length=3)] = [8, 8]
    activation: Literal["tanh", "relu"] = "relu"
    lr: Annotated[float, Field(gt=0, le=5)] = 0.1
    batch_size: Annotated[int, Field(ge=1, le=100)] = 20
    noise: Annotated[float, Field(ge=0, le=0.5)] = 0.1
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 1


class Command(Strict):
    """A message from the Training page: reset (with a config), step, play, pause or set the learning rate."""

    type: Literal["reset", "step", "play", "pause", "lr"]
    config: Annotated[TinyConfig | MoonsConfig, Field(discriminator="task")] | None = None
    lr: Annotated[float, Field(gt=0, le=5)] | None = None

    @field_validator("lr")
    @classmethod
    def finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError("lr must be a finite number")
        return v


DESCRIPTION = """Live demos for the gradschool course; every number is computed by `gradschool.scalar`.

Bad input gets a 422 with a readable `detail` (and, for expressions, the `position` of the problem).

Live training is a websocket at `/api/train` (one training job per connection). Send JSON messages:
`{"type": "reset", "config": {"task": "tiny", "lr": 0.01, "seed": 1337}}` or
`{"type": "reset", "config": {"task": "moons", "hidden": [8, 8], "activation": "relu", "lr": 0.1,
"batch_size": 20, "noise": 0.1, "seed": 1}}`, then `{"type": "step"}`, `{"type": "play"}`,
`{"type": "pause"}` or `{"type": "lr", "lr": 0.01}`. The server answers with `reset`, `step`, `paused`,
`diverged` and `error` messages. Closing the connection stops the job."""


def bad_input(message: str, position: int | None = None) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": message, "position": position})


class Session:
    """One websocket = one training session: at most one job, and at most one task running it."""

    MAX_STEPS = 2000

    def __init__(self, ws: WebSocket):
        self.ws = ws
        self.job: training.Job | None = None
        self.task: asyncio.Task | None = None
        self.stopping = False
        self.last_grid = 0.0

    async def send_step(self, info: dict) -> None:
        if isinstance(self.job, training.MoonsJob) and (time.monotonic() - self.last_grid > 0.25 or
                                                         not self.playing()):
            info["grid"] = await asyncio.to_thread(self.job.grid)
            self.last_grid = time.monotonic()
        await self.ws.send_json({"type": "step", **info})

    def playing(self) -> bool:
        return self.task is not None and not self.task.done()

    async def one_step(self) -> bool:
        """Run one step off the event loop and report it; False when training must stop."""
        try:
            info = await asyncio.to_thread(self.job.step)
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

    async def handle(self, cmd: Command) -> None:
        if cmd.type == "reset":
            await self.pause()
            config = cmd.config or TinyConfig()
            params = config.model_dump(exclude={"task"})
            self.job = training.TinyJob(**params) if config.task == "tiny" else training.MoonsJob(**params)
            reply = {"type": "reset", "config": config.model_dump()}
            if isinstance(self.job, training.MoonsJob):
                reply |= {"points": self.job.xs, "labels": self.job.ys, "bounds": self.job.BOUNDS,
                          "grid": await asyncio.to_thread(self.job.grid)}
            await self.ws.send_json(reply)
            return
        if self.job is None:
            await self.ws.send_json({"type": "error", "detail": "send a reset command first"})
        elif cmd.type == "lr":
            if cmd.lr is None:
                await self.ws.send_json({"type": "error", "detail": "the lr command needs an lr field"})
                return
            self.job.lr = cmd.lr
        elif cmd.type == "step":
            await self.pause()
            await self.one_step()
        elif cmd.type == "play" and not self.playing():
            self.task = asyncio.create_task(self.play())
        elif cmd.type == "pause":
            await self.pause()
            await self.ws.send_json({"type": "paused", "step": self.job.steps})


def create_app(runs_dir: str | Path | None = None) -> FastAPI:
    """Build the app: pages at /, /neuron, ..., the API under /api, files under /static.

    Language models load only from runs_dir (default: $GRADSCHOOL_RUNS, else ./runs).
    """
    # No /docs or /redoc: FastAPI's pages load their scripts from a CDN, and the course works offline.
    app = FastAPI(title="gradschool course", version=__version__, docs_url=None, redoc_url=None,
                  description=DESCRIPTION)
    app.state.sessions = set()  # the open training sessions
    app.include_router(lm.router(lm.Runs(runs_dir or os.environ.get("GRADSCHOOL_RUNS", "runs"))))
    app.add_exception_handler(lm.LMError, lm.lm_error)

    @app.exception_handler(expr.ExprError)
    async def expression_error(request: Request, e: expr.ExprError) -> JSONResponse:
        return bad_input(e.message, e.position)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/{page}", include_in_schema=False)
    async def page(page: str) -> FileResponse:
        if page not in PAGES:
            raise HTTPException(404, f"no page {page!r}; the pages are {', '.join(PAGES)}")
        return FileResponse(STATIC / f"{page}.html")

    @app.post("/api/neuron", response_model=NeuronOut)
    def neuron(q: NeuronIn) -> dict:
        """One tanh neuron with inputs x1, x2: its raw sum and output."""
        return demos.neuron(q.w1, q.w2, q.b, q.x1, q.x2)

    @app.post("/api/forward", response_model=ForwardOut)
    def forward(q: ForwardIn) -> dict:
        """The values of every node of a random 2 -> 3 -> 1 network, layer by layer."""
        return demos.forward_pass(q.x, q.seed)

    @app.post("/api/descent", response_model=DescentOut)
    def descent(q: DescentIn) -> dict:
        """One gradient-descent step on the loss (w - 2)^2."""
        half = max(3.0, abs(q.w - 2) + 0.5)  # the curve around the bottom at w = 2, wide enough for the ball
        return demos.descent_step(q.w, q.lr) | {"curve": demos.curve(demos.descent_loss, 2 - half, 2 + half)}

    @app.post("/api/derivative", response_model=DerivativeOut)
    def derivative(q: DerivativeIn) -> dict:
        """f(x) = x^2 and its slope at x."""
        return demos.derivative(q.x) | {"curve": demos.curve(demos.square, -3.0, 3.0)}

    @app.post("/api/graph", response_model=GraphOut, responses={422: {"description": "bad expression"}})
    def graph(q: GraphIn) -> dict:
        """Parse an expression over named variables; values, gradients and chain-rule terms of each node."""
        return demos.expression_graph(q.expression, q.variables)

    @app.get("/api/source/{name}", response_model=SourceOut)
    def source(name: Source) -> dict:
        """The library code behind a page."""
        code = "\n\n".join(textwrap.dedent(inspect.getsource(f)) for f in SOURCES[name.value])
        return {"name": name.value, "code": code}

    @app.websocket("/api/train")
    async def train(ws: WebSocket) -> None:
        """Live training: send {"type": "reset", "config": {...}}, then step / play / pause / lr messages."""
        await ws.accept()
        if len(app.state.sessions) >= MAX_TRAINING_SESSIONS:
            await ws.send_json({"type": "error", "detail": f"the server is already running "
                                f"{MAX_TRAINING_SESSIONS} training sessions; close one and retry"})
            await ws.close(code=1013)
            return
        session = Session(ws)
        app.state.sessions.add(session)
        try:
            while True:
                text = await ws.receive_text()
                if len(text) > 4096:
                    await ws.send_json({"type": "error", "detail": "message too long (limit 4096 bytes)"})
                    continue
                try:
                    cmd = Command.model_validate_json(text)
                except ValidationError as e:
                    problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}"
                                         for err in e.errors())
                    await ws.send_json({"type": "error", "detail": problems})
                    continue
                await session.handle(cmd)
        except WebSocketDisconnect:
            pass
        finally:
            await session.cancel()  # the client left: stop its job
            app.state.sessions.discard(session)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
