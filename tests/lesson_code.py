"""Shared by the chapter tests: run a lesson's ```python blocks; read the outputs their comments quote."""

import contextlib
import io

from gradschool.lessons import fenced_blocks


def run_python_blocks(text: str) -> tuple[str, list[str]]:
    """(what the lesson's python blocks print, run in order in one namespace, the outputs they quote).

    A quoted output is a comment on a print(...) line, or a comment line right after one.
    """
    blocks = [body for info, body in fenced_blocks(text) if info == "python"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec("\n".join(blocks), {})  # the lesson's own code, as a learner would paste it
    quoted = []
    for block in blocks:
        lines = block.splitlines()
        for before, line in zip([""] + lines, lines):
            code, _, comment = line.partition("#")
            after_print = code.strip() or before.strip()
            if comment and after_print.startswith("print("):
                quoted.append(comment.strip())
    return out.getvalue(), quoted
