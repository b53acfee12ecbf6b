"""The course's lessons: one Markdown file a rung, the one source of each chapter's text.

A lesson is `rN_<name>.md`, named like its rung program (`gradschool/rungs/rN_<name>.py`), readable as plain
Markdown anywhere. Its first `# ` heading is the chapter's title. Besides prose it holds three kinds of fenced
block:

    ```python          code the learner reads and runs (shown as a code panel)
    ```source          dotted names of library objects, one a line: their real source is shown
    ```figure          one line, `KIND key=value ...`: a live figure, computed by the engine on request

The web app renders a lesson into its chapter (gradschool.web.chapter), and the notebooks turn the same file
into cells, so the text exists once.

    for rung, found in lessons().items():
        print(rung, found.title, [figure.kind for figure in found.figures()])
"""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FOLDER = Path(__file__).parent
NAME = re.compile(r"^r(\d+)_([a-z0-9_]+)\.md$")
FIGURE_LINE = re.compile(r"^([a-z][a-z0-9-]*)((?:\s+[a-z_][a-z0-9_]*=\S+)*)\s*$")


class LessonError(ValueError):
    """A lesson file that does not follow the format above."""


@dataclass(frozen=True)
class Figure:
    """A live figure: its kind (which script draws it) and its arguments, as written in the lesson."""

    kind: str
    args: dict[str, str]


@dataclass(frozen=True)
class Lesson:
    rung: int
    name: str  # the rung program's module name, e.g. "r3_learning_well"
    title: str
    text: str  # the Markdown

    @property
    def program(self) -> str:
        """The rung program's path in the package, e.g. gradschool/rungs/r3_learning_well.py."""
        return f"gradschool/rungs/{self.name}.py"

    def figures(self) -> list[Figure]:
        """The lesson's figures, in order."""
        return [parse_figure(body) for info, body in fenced_blocks(self.text) if info == "figure"]


def parse_figure(body: str) -> Figure:
    """A figure block's line `KIND key=value ...` as a Figure; LessonError if it is not of that form."""
    line = body.strip()
    match = FIGURE_LINE.match(line)
    if not match or "\n" in line:
        raise LessonError(f"a figure block holds one line `kind key=value ...`, not {line!r}")
    args = dict(pair.split("=", 1) for pair in match.group(2).split())
    return Figure(match.group(1), args)


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(info, body) of each ``` fenced block of a Markdown text, in order."""
    return [(m.group(1).strip(), m.group(2)) for m in re.finditer(r"^```([^\n`]*)\n(.*?)^```\s*$", text,
                                                                   flags=re.M | re.S)]


def read_lesson(path: Path) -> Lesson:
    """The lesson in `path` (named rN_<name>.md), checked: a `# ` title and well-formed figure blocks."""
    match = NAME.match(path.name)
    if not match:
        raise LessonError(f"{path.name}: a lesson file is named rN_<name>.md, like its rung program")
    text = path.read_text(encoding="utf-8")
    title = next((line[2:].strip() for line in text.splitlines() if line.startswith("# ")), None)
    if not title:
        raise LessonError(f"{path.name}: a lesson starts with its title as a `# ` heading")
    found = Lesson(int(match.group(1)), path.stem, title, text)
    found.figures()  # refuses a malformed figure block now, not when a page is drawn
    return found


@cache
def lessons(folder: Path = FOLDER) -> dict[int, Lesson]:
    """Every lesson in `folder`, by rung number, in ladder order."""
    found = [read_lesson(path) for path in folder.glob("r*.md")]
    return {lesson.rung: lesson for lesson in sorted(found, key=lambda lesson: lesson.rung)}


def lesson(rung: int, folder: Path = FOLDER) -> Lesson:
    """The lesson of one rung; LookupError naming the written ones if it has none."""
    written = lessons(folder)
    if rung not in written:
        raise LookupError(f"rung {rung} has no lesson yet; the lessons are for rungs "
                          f"{', '.join(map(str, written)) or 'none'}")
    return written[rung]
