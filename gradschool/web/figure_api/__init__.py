"""The JSON APIs of the chapters' live figures: one module a topic, each with an APIRouter named `router`.

A figure's numbers come from a pure function of the library (gradschool.figures.TOPIC, no web imports, so
the notebooks draw the same figure with matplotlib); the module here only checks the request (a Strict
schema from gradschool.web.schemas, plain-language 422s) and calls it. `routers()` finds every module, so a
new topic needs no edit elsewhere. A figure function's ValueError (a request it cannot draw, in words) is a
422 with that message (`refusals_are_422`).
"""

import functools
import importlib
import pkgutil
from collections.abc import Callable

from fastapi import APIRouter, HTTPException


def routers() -> list[APIRouter]:
    """The `router` of every module in this package, in name order."""
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.append(module.router)
    return found


def refusals_are_422(endpoint: Callable) -> Callable:
    """The endpoint, with the ValueError its figure function raises answered as a 422 naming the problem."""

    @functools.wraps(endpoint)
    def checked(*args, **kwargs):
        try:
            return endpoint(*args, **kwargs)
        except ValueError as e:
            raise HTTPException(422, str(e)) from None

    return checked
