"""Grade a learner's exercise file: run its parts in a child process, compare with the library, report.

    outcomes = grade(1, "exercise_1.py")
    for line in report(outcomes): print(line)

The inputs of each part are drawn here from a seeded generator, so a failure names an input that fails the
same way on the next run. The learner's file runs in one child process (child.py) with a time limit per part;
its results come back as JSON and are compared here with what the library computes for the same inputs.
"""

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import gradschool
from gradschool.exercises.checks import load
from gradschool.exercises.part import Case, Part, Results

TIME_LIMIT = 10.0  # seconds for each part (and for loading the file)
STARTUP = 30.0  # seconds the child may take to start Python and import NumPy on a slow machine


@dataclass(frozen=True)
class Outcome:
    """How one part went: passed, or the one-line reason it did not."""

    part: Part
    passed: bool
    reason: str = ""


def grade(n: int, path: str | os.PathLike, time_limit: float = TIME_LIMIT, seed: int = 0) -> list[Outcome]:
    """Grade the file at path as rung n's exercise: one Outcome per part, in order."""
    parts = load(n).PARTS
    other = other_rung(path, n)
    if other is not None:
        return [Outcome(p, False, f"this is rung {other}'s exercise (its first line says so): check it with "
                                  f"gradschool check {other} {path}") for p in parts]
    cases = {p.id: p.draw(np.random.default_rng([seed, n, i])) for i, p in enumerate(parts)}
    replies = run_child(n, str(Path(path).resolve()), cases, time_limit, len(parts))
    if "import" in replies:
        return [Outcome(p, False, replies["import"]["problem"]) for p in parts]
    outcomes, stopped_at = [], None
    for part in parts:
        reply = replies.get(part.id)
        if reply is None and stopped_at is None:
            stopped_at = part.id
            outcomes.append(Outcome(part, False, "did not finish: Python stopped during this part (the code "
                                    "exited, crashed, or hung where the time limit could not stop it)"))
        elif reply is None:
            outcomes.append(Outcome(part, False, f"not run: the check stopped during part {stopped_at}"))
        elif "problem" in reply:
            outcomes.append(Outcome(part, False, reply["problem"]))
        else:
            reason = judge(part, cases[part.id], reply["results"])
            outcomes.append(Outcome(part, reason is None, reason or ""))
    return outcomes


def other_rung(path: str | os.PathLike, n: int) -> int | None:
    """The rung named on the file's first line ('# Rung 3 exercise: ...'), if it is not n."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            match = re.match(r"# Rung (\d+) exercise", f.readline())
    except OSError:
        return None  # the child reports it, as for any file that does not load
    return int(match[1]) if match and int(match[1]) != n else None


def run_child(n: int, path: str, cases: dict[str, list[Case]], time_limit: float, n_parts: int) -> dict:
    """Run child.py on the file; its replies by part id ('import' if the file did not load)."""
    request = json.dumps({"rung": n, "file": path, "time_limit": time_limit, "cases": cases})
    root = str(Path(gradschool.__file__).resolve().parent.parent)  # the child imports this same gradschool
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])])}
    try:
        done = subprocess.run([sys.executable, "-m", "gradschool.exercises.child"], input=request,
                              capture_output=True, text=True, encoding="utf-8", errors="replace", env=env,
                              cwd=root, timeout=STARTUP + time_limit * (n_parts + 1))
        stdout = done.stdout
    except subprocess.TimeoutExpired as e:  # stuck where the watchdog cannot reach (inside a C call)
        stdout = e.stdout.decode("utf-8", "replace") if isinstance(e.stdout, bytes) else e.stdout or ""
    replies = {}
    for line in stdout.splitlines():
        try:
            reply = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(reply, dict) and "id" in reply:
            replies[reply["id"]] = reply
    return replies


def judge(part: Part, cases: list[Case], results: list[Results]) -> str | None:
    """None if the learner's results match the library's on every case, else the first difference."""
    for case, got in zip(cases, results, strict=True):
        if part.derive is not None:
            got = part.derive(case, got)
        for key, expected in part.oracle(case).items():
            difference = compare(got.get(key), expected, part.rtol, part.atol)
            if difference is not None:
                shown = part.show(case) if part.show else show(case)
                hint = part.hint_for(key)
                return f"{key} for {shown}: {difference}" + (f" — hint: {hint}" if hint else "")
    return None


def compare(got, expected, rtol: float, atol: float) -> str | None:
    """None if got matches expected (numbers and arrays within the tolerances), else 'expected .., got ..'."""
    if isinstance(expected, str) or (isinstance(expected, list) and all(isinstance(e, str) for e in expected)
                                     and expected):
        if got == expected:
            return None
        if isinstance(expected, list) and isinstance(got, list):
            shorter = min(len(got), len(expected))
            i = next((i for i, (g, e) in enumerate(zip(got, expected)) if g != e), shorter)
            e_i = expected[i] if i < len(expected) else "nothing more"
            g_i = got[i] if i < len(got) else "nothing more"
            return f"expected {len(expected)} items, got {len(got)}; item {i}: expected {e_i}, got {g_i}"
        return f"expected {expected}, got {got}"
    e = np.asarray(expected, dtype=np.float64)
    try:
        g = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"expected {number_text(e)}, got {got!r}"
    if g.shape != e.shape:
        return f"expected shape {e.shape}, got shape {g.shape}"
    bad = ~np.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
    if not bad.any():
        return None
    i = tuple(int(k) for k in np.argwhere(bad)[0])
    at = f" at [{', '.join(map(str, i))}]" if i else ""
    return f"expected {number_text(e[i])}, got {number_text(g[i])}{at}"


def number_text(x) -> str:
    return f"{float(x):.6g}" if np.ndim(x) == 0 else np.array2string(np.asarray(x), precision=4)


def show(case: Case) -> str:
    """The inputs of a case, briefly: numbers as they are, arrays in full when small, else by shape."""
    parts = []
    for name, value in case.items():
        if isinstance(value, (list, tuple)):
            a = np.asarray(value)
            text = (np.array2string(a, precision=4, separator=", ").replace("\n", "") if a.size <= 12
                    else f"an array of shape {a.shape}")
        elif isinstance(value, float):
            text = f"{value:.4g}"
        else:
            text = repr(value)
        parts.append(f"{name}={text}")
    return ", ".join(parts)


def report(outcomes: list[Outcome]) -> list[str]:
    """One line a part, ✓ or ✗ with the reason, then the score."""
    lines = [f"✓ {o.part.id} {o.part.title}" if o.passed else f"✗ {o.part.id} {o.part.title}: {o.reason}"
             for o in outcomes]
    lines.append(f"score: {sum(o.passed for o in outcomes)}/{len(outcomes)}")
    return lines
