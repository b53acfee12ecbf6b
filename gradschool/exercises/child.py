"""The child process of `gradschool check`: import the learner's file, run each part, print JSON lines.

It reads the request from stdin: {"rung": n, "file": path, "time_limit": seconds, "cases": {part id: [...]}}.
For the import and then for each part it writes one line to stdout: {"id": ..., "results": [...]} or
{"id": ..., "problem": "raised ZeroDivisionError at line 42: division by zero"}. A watchdog (SIGALRM) stops
a part that runs past the time limit; whatever the learner's code prints goes to stderr, not into the JSON.
"""

import contextlib
import importlib.util
import json
import os
import signal
import sys
import traceback
from collections.abc import Iterator
from types import ModuleType

from gradschool.exercises import solution_text, starter_text
from gradschool.exercises.checks import load
from gradschool.exercises.fill import fill_in, load_text
from gradschool.exercises.part import Part, WrongType


class TimeLimit(BaseException):
    """The part ran past its time limit (a BaseException, so that `except Exception` cannot swallow it)."""


@contextlib.contextmanager
def watchdog(seconds: float) -> Iterator[None]:
    """Raise TimeLimit in this thread if the block takes longer than `seconds`."""
    def expire(signum, frame):
        raise TimeLimit()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def summary(e: BaseException, path: str) -> str:
    """The learner's error in one line, at the learner's line: 'raised KeyError at line 12: 'x''."""
    if isinstance(e, SyntaxError) and e.filename == path:
        return f"the file has a syntax error at line {e.lineno}: {e.msg}"
    frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == path]
    where = f" at line {frames[-1].lineno}" if frames else ""
    message = str(e).strip().splitlines()[0] if str(e).strip() else ""
    message = message if len(message) <= 200 else message[:197] + "..."
    if isinstance(e, NotImplementedError) and message.startswith("TODO"):
        return f"not written yet: still raises NotImplementedError{where} ({message})"
    return f"raised {type(e).__name__}{where}" + (f": {message}" if message else "")


def import_file(path: str, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def stand_ins(learner: ModuleType, names: tuple[str, ...], reference: ModuleType) -> Iterator[None]:
    """Within the block the learner's functions `names` are the reference ones: a part is graded alone."""
    saved = {name: getattr(learner, name, None) for name in names}
    for name in names:
        setattr(learner, name, getattr(reference, name))
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(learner, name, value)


def run_part(part: Part, learner: ModuleType, cases: list, reference: ModuleType | None, path: str,
             time_limit: float) -> dict:
    """The learner's results for every case of one part, or the problem that stopped them."""
    try:
        with watchdog(time_limit), stand_ins(learner, part.uses, reference):
            results = [part.answer(learner, case) for case in cases]
            line = json.dumps({"id": part.id, "results": results})
    except TimeLimit:
        return {"id": part.id, "problem": f"did not finish within {time_limit:g} s (an endless loop?)"}
    except WrongType as e:
        return {"id": part.id, "problem": str(e)}
    except BaseException as e:  # anything the learner's code raises, SystemExit included
        return {"id": part.id, "problem": summary(e, path)}
    return json.loads(line)


def main() -> None:
    request = json.load(sys.stdin)
    n, path, time_limit = request["rung"], request["file"], request["time_limit"]
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # the learner's prints go to stderr

    def emit(message: dict) -> None:
        protocol.write(json.dumps(message) + "\n")
        protocol.flush()

    try:
        with watchdog(time_limit):
            learner = import_file(path, f"exercise_{n}")
    except TimeLimit:
        emit({"id": "import", "problem": f"the file did not finish loading within {time_limit:g} s"})
        return
    except BaseException as e:
        problem = summary(e, path)
        emit({"id": "import", "problem": problem if "syntax error" in problem else "the file did not load: "
              + problem})
        return
    parts = load(n).PARTS
    reference = None
    if any(part.uses for part in parts):
        reference = load_text(fill_in(starter_text(n), solution_text(n)), f"reference_{n}")
    for part in parts:
        emit(run_part(part, learner, request["cases"][part.id], reference, path, time_limit))


if __name__ == "__main__":
    main()
    sys.stderr.flush()
    os._exit(0)  # now, even if the learner's code left threads running
