"""Chapter 6's figures: POST /api/figure/broadcast (gradschool.figures.broadcasting) and
POST /api/figure/engine-race (gradschool.figures.engine_race, timed on this server)."""

import threading
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from gradschool.figures.broadcasting import broadcast_figure, parse_shape
from gradschool.figures.engine_race import engine_race
from gradschool.web.figure_api import refusals_are_422
from gradschool.web.schemas import Strict

router = APIRouter(prefix="/api/figure")
MAX_DIMS, MAX_SIZE = 3, 6  # small enough to show every number
ShapeText = Annotated[str, Field(min_length=1, max_length=20)]
# One race at a time: two would share the processor and each would time the other's work as well.
RACING = threading.Lock()


class BroadcastIn(Strict):
    a: ShapeText = "3,1"
    b: ShapeText = "4"
    op: Literal["+", "*", "@"] = "+"


class BroadcastOut(BaseModel):
    a: Any
    b: Any
    shape: list[int] | None
    error: str | None
    out: Any = None
    grad_a: Any = None
    grad_b: Any = None
    summed_a: list[int] | None = None
    summed_b: list[int] | None = None


def checked_shape(text: str, name: str) -> tuple[int, ...]:
    """The shape written in text, within the explorer's limits; a ValueError saying what to change."""
    shape = parse_shape(text, name)
    if len(shape) > MAX_DIMS or not all(1 <= n <= MAX_SIZE for n in shape):
        raise ValueError(f"the shape of {name} may have up to {MAX_DIMS} sizes, each from 1 to {MAX_SIZE}, "
                         f"so that every number fits on the page (got {text!r})")
    return shape


@router.post("/broadcast", response_model=BroadcastOut)
@refusals_are_422
def broadcast(q: BroadcastIn) -> dict:
    return broadcast_figure(checked_shape(q.a, "a"), checked_shape(q.b, "b"), q.op)


class RaceIn(Strict):
    points: Annotated[int, Field(ge=10, le=200)] = 100
    hidden: Annotated[int, Field(ge=2, le=32)] = 16


class RaceOut(BaseModel):
    points: int
    parameters: int
    loss_scalar: float
    loss_tensor: float
    ms_scalar: float
    ms_tensor: float
    ratio: float
    nodes_scalar: int
    nodes_tensor: int


@router.post("/engine-race", response_model=RaceOut)
def race(q: RaceIn) -> dict:
    with RACING:
        return engine_race(q.points, q.hidden)
