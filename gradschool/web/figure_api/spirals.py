"""WS /api/figure/spirals: chapter 3's live training of the three spirals (gradschool.figures.spirals)."""

from typing import Annotated, Literal

from fastapi import APIRouter, WebSocket
from pydantic import Field

from gradschool.figures.spirals import SpiralsTraining
from gradschool.web.figure_stream import FigureStream
from gradschool.web.schemas import Strict

router = APIRouter(prefix="/api/figure")


class SpiralsMessage(Strict):
    """start (with the settings), pause or resume."""

    type: Literal["start", "pause", "resume"]
    lr: Annotated[float, Field(gt=0, le=100)] = 0.5
    decay: bool = True
    batch_size: Annotated[int, Field(ge=1, le=240)] = 16
    steps: Annotated[int, Field(ge=10, le=2000)] = 300
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 1


def make_job(m: SpiralsMessage) -> SpiralsTraining:
    return SpiralsTraining(lr=m.lr, decay=m.decay, batch_size=m.batch_size, steps=m.steps, seed=m.seed)


@router.websocket("/spirals")
async def spirals(ws: WebSocket) -> None:
    """Train rung 3's spirals live: send {"type": "start", "lr": 0.5, ...}; progress streams back."""
    await FigureStream(ws, make_job).serve(SpiralsMessage)
