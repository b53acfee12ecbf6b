"""The course's lessons: one Markdown file a rung, the one source of each chapter's text.

A lesson is `rN_<name>.md`, named like its rung program (`gradschool/rungs/rN_<name>.py`), readable as plain
Markdown anywhere. Its first `# ` heading is the chapter's title. Besides prose it holds three kinds of fenced
block:

    ```python          code the learner reads and runs, top to bottom (a code panel; a notebook cell); a
                       comment `# -> TEXT` says what it prints, and the notebook tests check it
    ```source          dotted names of library objects, one a line: their real source is shown
    ```figure          one line, `KIND key=value ...`: a live figure, computed by the engine on request

The web app renders a lesson into its chapter (gradschool.web.chapter), and the notebooks turn the same file
into cells, so the text exists once.

    for rung, found in lessons().items():
        print(rung, found.title, [figure.kind for figure in found.figures()])
"""

import importlib
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


def segments(text: str) -> list[tuple[str | None, str]]:
    """A Markdown text cut into its prose and its ``` fenced blocks, in order: (None, prose), (info, body)."""
    out: list[tuple[str | None, str]] = []
    info, lines = None, []
    for line in text.splitlines(keepends=True):
        fence = line.startswith("```")
        if fence and info is None:  # a block opens: the prose so far is one segment
            if "".join(lines).strip():
                out.append((None, "".join(lines).strip("\n") + "\n"))
            info, lines = line[3:].strip(), []
        elif fence and not line[3:].strip():  # the block closes
            out.append((info, "".join(lines)))
            info, lines = None, []
        else:
            lines.append(line)
    if info is not None:
        raise LessonError(f"a ```{info} block is never closed")
    if "".join(lines).strip():
        out.append((None, "".join(lines).strip("\n") + "\n"))
    return out


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(info, body) of each ``` fenced block of a Markdown text, in order."""
    return [(info, body) for info, body in segments(text) if info is not None]


def library_object(dotted: str) -> object:
    """The object named by a dotted path such as gradschool.scalar.engine.Value.tanh."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr, None)
            if obj is None:
                raise LessonError(f"a source block names {dotted!r}, which does not exist")
        return obj
    raise LessonError(f"a source block names {dotted!r}, which does not exist")


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
