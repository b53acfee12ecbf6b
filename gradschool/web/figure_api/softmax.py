"""POST /api/figure/softmax: chapter 3's softmax figure (gradschool.figures.softmax)."""

from typing import Annotated

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from gradschool.figures.softmax import softmax_figure
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
def softmax(q: SoftmaxIn) -> dict:
    try:
        return softmax_figure(q.logits, q.target, q.temperature)
    except ValueError as e:
        raise HTTPException(422, str(e)) from None
