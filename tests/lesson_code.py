"""Shared by the chapter tests: run a lesson's ```python blocks; read the outputs their comments quote."""

import contextlib
import io

from gradschool.lessons import fenced_blocks
from gradschool.notebooks import expected_outputs


def run_python_blocks(text: str) -> tuple[str, list[str]]:
    """(what the lesson's python blocks print, run in order in one namespace, the outputs they quote).

    A quoted output is a `# -> TEXT` comment (gradschool.notebooks.expected_outputs: the notebooks check the
    same quotes).
    """
    blocks = [body for info, body in fenced_blocks(text) if info == "python"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec("\n".join(blocks), {})  # the lesson's own code, as a learner would paste it
    return out.getvalue(), [quote for block in blocks for quote in expected_outputs(block)]
