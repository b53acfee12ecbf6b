"""The course web app: HTML pages plus a JSON API whose numbers all come from the scalar engine.

`create_app` builds it: the pages, the routes of the API and the training websockets, and `Guard` in front
(host, origin and body-size checks, security headers). `SERVER_OPTIONS` are uvicorn's settings to run it with.
"""

import os
from collections.abc import Iterable
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from gradschool import __version__
from gradschool.exercises import RUNGS as EXERCISES
from gradschool.exercises import file_name, starter_text
from gradschool.lessons import lessons
from gradschool.web import demos, expr, lm, pages
from gradschool.web.figure_api import routers
from gradschool.web.schemas import (
    Command,
    DerivativeIn,
    DerivativeOut,
    DescentIn,
    DescentOut,
    ErrorOut,
    ForwardIn,
    ForwardOut,
    GraphIn,
    GraphOut,
    NeuronIn,
    NeuronOut,
    plain_errors,
)
from gradschool.web.security import MAX_BODY, Guard
from gradschool.web.session import Session, read_message, sharing_the_gil

MAX_TRAINING_SESSIONS = 8
# uvicorn's settings for this app: a websocket message may be no bigger than an HTTP body.
SERVER_OPTIONS = {"ws_max_size": MAX_BODY}

DESCRIPTION = """The live figures of the gradschool course; every number comes from the project's own engine.

Bad input gets a 422 whose `detail` says in plain words which field is wrong and what it allows (and, for
expressions, the `position` of the problem). Requests must name this server as their Host, may come only from
its own pages (Origin), and bodies are limited to 1 MB.

Live training is a websocket at `/api/train` (one training job per connection). Send JSON messages:
`{"type": "reset", "config": {"task": "tiny", "lr": 0.01, "seed": 1337}}` or
`{"type": "reset", "config": {"task": "moons", "hidden": [8, 8], "activation": "relu", "lr": 0.1,
"batch_size": 20, "noise": 0.1, "seed": 1}}`, then `{"type": "step"}`, `{"type": "play"}`,
`{"type": "pause"}` or `{"type": "lr", "lr": 0.01}`. The server answers with `reset`, `step`, `paused`,
`diverged` and `error` messages. Closing the connection stops the job."""

BAD_INPUT = {422: {"model": ErrorOut, "description": "bad input, explained in `detail`"}}


def bad_input(message: str, position: int | None = None) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": message, "position": position})


def create_app(runs_dir: str | Path | None = None, hosts: Iterable[str] = ()) -> FastAPI:
    """Build the app: pages at /, /neuron, ..., the API under /api, files under /static.

    Language models load only from runs_dir (default: $GRADSCHOOL_RUNS, else ./runs). Requests must name
    the server as 127.0.0.1, localhost or one of `hosts` (the address it was asked to listen on).
    """
    # No /docs or /redoc: FastAPI's pages load their scripts from a CDN, and the course works offline.
    app = FastAPI(title="gradschool course", version=__version__, docs_url=None, redoc_url=None,
                  description=DESCRIPTION, lifespan=sharing_the_gil)
    app.add_middleware(Guard, hosts=hosts)
    app.state.sessions = set()  # the open training sessions
    app.include_router(lm.router(lm.Runs(runs_dir or os.environ.get("GRADSCHOOL_RUNS", "runs"))),
                       responses=BAD_INPUT)
    app.add_exception_handler(lm.LMError, lm.lm_error)
    for router in routers():
        app.include_router(router, responses=BAD_INPUT)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, e: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content=plain_errors(list(e.errors())))

    @app.exception_handler(RecursionError)
    async def too_deep(request: Request, e: RecursionError) -> JSONResponse:
        return bad_input("the JSON body nests too deeply")

    @app.exception_handler(expr.ExprError)
    async def expression_error(request: Request, e: expr.ExprError) -> JSONResponse:
        return bad_input(e.message, e.position)

    @app.get("/", include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse(pages.render_home())

    @app.get("/chapter/{rung}", include_in_schema=False)
    async def chapter(rung: int) -> HTMLResponse:
        if rung not in lessons():
            raise HTTPException(404, f"no chapter {rung}; the chapters are {', '.join(map(str, lessons()))}")
        return HTMLResponse(pages.render_chapter(rung))

    @app.get("/download/notebook/{rung}", include_in_schema=False)
    async def notebook(rung: int) -> Response:
        if rung not in lessons():
            raise HTTPException(404, f"no chapter {rung}; the chapters are {', '.join(map(str, lessons()))}")
        try:
            import nbformat

            from gradschool.notebooks import lesson_notebook
        except ImportError:
            raise HTTPException(404, "the notebooks need nbformat: "
                                     "pip install 'gradschool[notebooks]'") from None
        lesson = lessons()[rung]
        return Response(nbformat.writes(lesson_notebook(lesson)), media_type="application/x-ipynb+json",
                        headers={"content-disposition": f'attachment; filename="{lesson.name}.ipynb"'})

    @app.get("/download/exercise/{rung}", include_in_schema=False)
    async def exercise(rung: int) -> Response:
        if rung not in EXERCISES:
            raise HTTPException(404, f"no exercise for rung {rung}; "
                                     f"rungs {EXERCISES[0]} to {EXERCISES[-1]} have one")
        return Response(starter_text(rung), media_type="text/x-python; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="{file_name(rung)}"'})

    @app.get("/{page}", include_in_schema=False)
    async def page(page: str) -> Response:
        if page in pages.MOVED:  # an old demo page: now a figure in a chapter
            return RedirectResponse(pages.moved_to(page), status_code=308)
        raise HTTPException(404, f"no page {page!r}: the course is / and its chapters, "
                                 f"/chapter/{', /chapter/'.join(map(str, lessons()))}")

    @app.post("/api/neuron", response_model=NeuronOut, responses=BAD_INPUT)
    def neuron(q: NeuronIn) -> dict:
        """One tanh neuron with inputs x1, x2: its raw sum and output."""
        return demos.neuron(q.w1, q.w2, q.b, q.x1, q.x2)

    @app.post("/api/forward", response_model=ForwardOut, responses=BAD_INPUT)
    def forward(q: ForwardIn) -> dict:
        """The values of every node of a random 2 -> 3 -> 1 network, layer by layer."""
        return demos.forward_pass(q.x, q.seed)

    @app.post("/api/descent", response_model=DescentOut, responses=BAD_INPUT)
    def descent(q: DescentIn) -> dict:
        """One gradient-descent step on the loss (w - 2)^2."""
        half = max(3.0, abs(q.w - 2) + 0.5)  # the curve around the bottom at w = 2, wide enough for the ball
        return demos.descent_step(q.w, q.lr) | {"curve": demos.curve(demos.descent_loss, 2 - half, 2 + half)}

    @app.post("/api/derivative", response_model=DerivativeOut, responses=BAD_INPUT)
    def derivative(q: DerivativeIn) -> dict:
        """f(x) = x^2 and its slope at x."""
        return demos.derivative(q.x) | {"curve": demos.curve(demos.square, -3.0, 3.0)}

    @app.post("/api/graph", response_model=GraphOut, responses=BAD_INPUT)
    def graph(q: GraphIn) -> dict:
        """Parse an expression over named variables; values, gradients and chain-rule terms of each node."""
        return demos.expression_graph(q.expression, q.variables)

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
                cmd = await read_message(ws, Command)
                if cmd is not None:
                    await session.handle(cmd)
        except WebSocketDisconnect:
            pass
        finally:
            await session.cancel()  # the client left: stop its job
            app.state.sessions.discard(session)

    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    return app
