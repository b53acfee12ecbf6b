"""POST /api/figure/softmax: chapter 3's softmax figure (gradschool.figures.softmax)."""

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from gradschool.figures.softmax import softmax_figure
from gradschool.web.figure_api import refusals_are_422
from gradschool.web.schemas import Strict

router = APIRouter(prefix="/api/figure")


class SoftmaxIn(Strict):
    logits: Annotated[list[Annotated[float, Field(ge=-20, le=20)]], Field(min_length=2, max_length=10)]
    target: Annotated[int, Field(ge=0, le=9)] = 0
    temperature: Annotated[float, Field(ge=0.05, le=20)] = 1.0


class SoftmaxOut(BaseModel):
    probs: list[float]
    loss: float
    grads: list[float]


@router.post("/softmax", response_model=SoftmaxOut)
@refusals_are_422
def softmax(q: SoftmaxIn) -> dict:
    return softmax_figure(q.logits, q.target, q.temperature)
