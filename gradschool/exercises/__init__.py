"""Graded exercises: `gradschool exercise N` writes rung N's starter, `gradschool check N FILE` grades it.

    starters/rN.py    what the learner gets: the rung's key pieces left as TODOs, each with a docstring
    solutions/rN.py   the same functions written out (fill.py puts them into the starter; never handed out)
    checks/rN.py      the parts: the inputs each TODO is tried on, and the library's answers (the oracle)
    part.py           what a part is; child.py runs the learner's code; grader.py compares and reports
"""

from importlib import resources

RUNGS = range(1, 10)  # every rung has an exercise


def file_name(n: int) -> str:
    """The name of rung n's exercise file in the learner's folder."""
    return f"exercise_{n}.py"


def starter_text(n: int) -> str:
    """The file `gradschool exercise n` writes: rung n's starter, TODOs and all."""
    return resources.files("gradschool.exercises.starters").joinpath(f"r{n}.py").read_text(encoding="utf-8")


def solution_text(n: int) -> str:
    """The solutions of rung n's TODOs (for the grader's reference code and the tests, not the learner)."""
    return resources.files("gradschool.exercises.solutions").joinpath(f"r{n}.py").read_text(encoding="utf-8")
