"""POST /api/figure/attention: chapter 7's trained head, step by step (gradschool.figures.attention)."""

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, StringConstraints

from gradschool.figures.attention import attention_figure
from gradschool.web.figure_api import refusals_are_422
from gradschool.web.schemas import Strict

router = APIRouter(prefix="/api/figure")


class AttentionIn(Strict):
    text: Annotated[str, StringConstraints(min_length=1, max_length=16)] = "to be or not to"
    mask: bool = True
    scale: bool = True


class Training(BaseModel):
    steps: int
    first_loss: float
    last_loss: float


class AttentionOut(BaseModel):
    chars: list[str]
    head_size: int
    scale: float
    q: list[list[float]]
    k: list[list[float]]
    v: list[list[float]]
    scores: list[list[float]]
    mask: list[list[bool]]
    weights: list[list[float]]
    out: list[list[float]]
    future_weight: float
    top_weight: float
    scores_std: float
    training: Training


@router.post("/attention", response_model=AttentionOut)
@refusals_are_422
def attention(q: AttentionIn) -> dict:
    return attention_figure(q.text, q.mask, q.scale)
