"""Chapter 8's figures: POST /api/figure/block (the block's shapes) and /api/figure/ablation (the training).

An ablation trains four models of rung 8 one after the other, for up to minutes: it runs in a thread of its
own (never the event loop, never the Training page's compute thread), one at a time for the whole server,
and its results are kept in memory by their arguments. The page asks again about 5 times a second and gets
the losses so far; a finished ablation answers at once.
"""

import threading
from collections import OrderedDict
from typing import Annotated

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from gradschool.figures.transformer import ablation, block_shapes
from gradschool.web.figure_api import refusals_are_422
from gradschool.web.schemas import Strict

router = APIRouter(prefix="/api/figure")
VARIANTS = [(True, True), (True, False), (False, True), (False, False)]  # (residual, layer_norm), as rung 8
KEEP = 16  # finished ablations kept in memory


class BlockIn(Strict):
    batch: Annotated[int, Field(ge=1, le=16)] = 4
    T: Annotated[int, Field(ge=1, le=128)] = 32
    n_embd: Annotated[int, Field(ge=4, le=128)] = 32
    n_head: Annotated[int, Field(ge=1, le=16)] = 4


class Arrow(BaseModel):
    name: str
    shape: list[int]


class BlockOut(BaseModel):
    arrows: list[Arrow]
    parameters: int


@router.post("/block", response_model=BlockOut)
@refusals_are_422
def block(q: BlockIn) -> dict:
    return block_shapes(q.batch, q.T, q.n_embd, q.n_head)


class AblationIn(Strict):
    n_layer: Annotated[int, Field(ge=1, le=8)] = 4
    steps: Annotated[int, Field(ge=5, le=300)] = 60
    start: bool = True  # False: only show a result already computed or under way


class LayerStats(BaseModel):
    layer: int
    mean: float
    std: float
    grad_rms: float


class Variant(BaseModel):
    residual: bool
    layer_norm: bool
    losses: list[float]
    layers: list[LayerStats] | None  # once the variant has finished


class AblationOut(BaseModel):
    n_layer: int
    steps: int
    started: bool
    done: bool
    error: str | None  # why the training stopped, if it failed
    variants: list[Variant]


class Ablation:
    """The four variants of one (n_layer, steps), trained in a thread; read while it runs."""

    def __init__(self, n_layer: int, steps: int):
        self.n_layer, self.steps = n_layer, steps
        self.variants = [{"residual": residual, "layer_norm": norm, "losses": [], "layers": None}
                         for residual, norm in VARIANTS]
        self.done = False
        self.error: str | None = None

    def run(self) -> None:
        try:
            for variant in self.variants:
                result = ablation(self.n_layer, self.steps, variant["residual"], variant["layer_norm"],
                                  on_loss=variant["losses"].append)
                variant["layers"] = result["layers"]
        except Exception as e:  # shown by the page that asks next, not lost in a thread
            self.error = f"the ablation stopped: {e}"
        finally:
            self.done = True

    def snapshot(self) -> dict:
        return {"n_layer": self.n_layer, "steps": self.steps, "started": True, "done": self.done,
                "error": self.error,
                "variants": [{**v, "losses": list(v["losses"])} for v in self.variants]}


ABLATIONS: OrderedDict[tuple[int, int], Ablation] = OrderedDict()
LOCK = threading.Lock()


@router.post("/ablation", response_model=AblationOut)
def start_ablation(q: AblationIn) -> dict:
    key = (q.n_layer, q.steps)
    with LOCK:
        job = ABLATIONS.get(key)
        if job is None:
            if not q.start:
                return {"n_layer": q.n_layer, "steps": q.steps, "started": False, "done": False,
                        "variants": [], "error": None}
            running = next((j for j in ABLATIONS.values() if not j.done), None)
            if running is not None:
                raise HTTPException(409, "the server is training another ablation "
                                         f"({running.n_layer} blocks, {running.steps} steps); wait for it to "
                                         "finish, then ask again")
            job = ABLATIONS[key] = Ablation(q.n_layer, q.steps)
            while len(ABLATIONS) > KEEP:
                ABLATIONS.popitem(last=False)
            threading.Thread(target=job.run, name="gradschool-ablation", daemon=True).start()
        return job.snapshot()
