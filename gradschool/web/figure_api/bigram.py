"""Chapter 4's figures (gradschool.figures.bigram): POST /api/figure/bigram/counts, /name and /sample, and
WS /api/figure/bigram/train (the one-layer network trained live)."""

from typing import Annotated, Literal

from fastapi import APIRouter, WebSocket
from pydantic import BaseModel, Field

from gradschool.figures.bigram import BigramTraining, counts_figure, name_likelihood, sample_name
from gradschool.web.figure_api import refusals_are_422
from gradschool.web.figure_stream import FigureStream
from gradschool.web.schemas import Seed, Strict

router = APIRouter(prefix="/api/figure/bigram")

Smoothing = Annotated[float, Field(ge=0, le=1000)]


class CountsIn(Strict):
    smoothing: Smoothing = 1.0


class CountsOut(BaseModel):
    itos: list[str]
    counts: list[list[int]]
    probs: list[list[float]]
    nll: float
    bigrams: int
    names: int
    smoothing: float


class NameIn(Strict):
    name: Annotated[str, Field(max_length=40)]
    smoothing: Smoothing = 1.0


class Step(BaseModel):
    """One prediction: after the character `row`, the character `next`, with probability `prob`."""

    row: int
    next: int
    prob: float


class NameStep(Step):
    nll: float | None  # -log prob; null where prob is 0


class NameOut(BaseModel):
    name: str
    itos: list[str]
    steps: list[NameStep]
    nll: float | None
    average_nll: float | None


class SampleIn(Strict):
    smoothing: Smoothing = 1.0
    seed: Seed = 1


class SampleOut(BaseModel):
    name: str
    steps: list[Step]
    seed: int


class TrainMessage(Strict):
    """start (with the settings), pause or resume."""

    type: Literal["start", "pause", "resume"]
    lr: Annotated[float, Field(gt=0, le=500)] = 50.0
    steps: Annotated[int, Field(ge=1, le=2000)] = 200


@router.post("/counts", response_model=CountsOut)
def counts(q: CountsIn) -> dict:
    """The names' 27 x 27 bigram counts, the probabilities with `smoothing` added, and their average NLL."""
    return counts_figure(q.smoothing)


@router.post("/name", response_model=NameOut)
@refusals_are_422
def name(q: NameIn) -> dict:
    """Each character's probability after the one before, and the name's NLL (null where infinite)."""
    return name_likelihood(q.name, q.smoothing)


@router.post("/sample", response_model=SampleOut)
def sample(q: SampleIn) -> dict:
    """A name drawn one character at a time; each step's row (the character before) and the draw."""
    return sample_name(q.smoothing, q.seed)


def make_job(m: TrainMessage) -> BigramTraining:
    return BigramTraining(lr=m.lr, steps=m.steps)


@router.websocket("/train")
async def train(ws: WebSocket) -> None:
    """Train the bigram network live: send {"type": "start", "lr": 50, "steps": 200}; progress comes back."""
    await FigureStream(ws, make_job).serve(TrainMessage)
