"""The checks of each rung's exercise: `PARTS`, a list of gradschool.exercises.part.Part."""

import importlib
from types import ModuleType


def load(n: int) -> ModuleType:
    """Rung n's checks module."""
    return importlib.import_module(f"gradschool.exercises.checks.r{n}")
