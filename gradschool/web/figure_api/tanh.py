"""POST /api/figure/tanh: chapter 1's tanh-and-its-slope figure (gradschool.figures.tanh)."""

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from gradschool.figures.tanh import tanh_figure
from gradschool.web.schemas import Strict

router = APIRouter(prefix="/api/figure")


class TanhIn(Strict):
    x: Annotated[float, Field(ge=-10, le=10)] = 0.34


class TanhOut(BaseModel):
    x: float
    t: float
    slope: float
    curve: list[list[float]]


@router.post("/tanh", response_model=TanhOut)
def tanh(q: TanhIn) -> dict:
    return tanh_figure(q.x)
