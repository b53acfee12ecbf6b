"""POST /api/figure/tokens and /api/figure/merges: chapter 14's figures (gradschool.figures.tokens)."""

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from gradschool.figures.tokens import merges_figure, tokens_figure
from gradschool.web.schemas import Strict

router = APIRouter(prefix="/api/figure")
VocabSize = Literal[256, 512, 1024, 4096]
Pattern = Literal["gpt4", "gpt2"]


class TokensIn(Strict):
    text: Annotated[str, Field(max_length=500)] = "To be, or not to be: that is the question."
    vocab_size: VocabSize = 512
    pattern: Pattern = "gpt4"


class Token(BaseModel):
    id: int
    text: str
    bytes: list[int]


class TokensOut(BaseModel):
    tokens: list[Token]
    chunks: list[str]
    characters: int
    bytes: int
    round_trip: bool


class MergesIn(Strict):
    vocab_size: VocabSize = 512
    pattern: Pattern = "gpt4"
    start: Annotated[int, Field(ge=0, le=4096)] = 0
    count: Annotated[int, Field(ge=1, le=50)] = 20


class Merge(BaseModel):
    id: int
    left: int
    right: int
    left_text: str
    right_text: str
    text: str


class MergesOut(BaseModel):
    merges: list[Merge]
    total: int


@router.post("/tokens", response_model=TokensOut)
def tokens(q: TokensIn) -> dict:
    return tokens_figure(q.text, q.vocab_size, q.pattern)


@router.post("/merges", response_model=MergesOut)
def merges(q: MergesIn) -> dict:
    return merges_figure(q.vocab_size, q.pattern, q.start, q.count)
