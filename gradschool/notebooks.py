"""Notebooks from the lessons: one Jupyter notebook a rung, written with nbformat from the lesson's Markdown.

    gradschool notebooks DIR      # DIR/r1_neuron.ipynb, ...: open them with `jupyter lab DIR`

The lesson (gradschool.lessons) is the one source: its prose becomes Markdown cells, its ```python blocks code
cells that run top to bottom (a `# -> TEXT` comment says what a cell prints), its ```source blocks a cell
that imports the named library objects and prints their code, and each ```figure block a code cell that
draws the chapter's live figure with matplotlib (where gradschool.figures.KIND has a `draw` function; else
a pointer to the chapter in the app).

A notebook records a digest of the cells it was written with, so `write_notebooks` can tell a notebook the
learner edited (never overwritten unless forced) from one it wrote (refreshed).
"""

import hashlib
import importlib
import re
from pathlib import Path

from gradschool.lessons import Figure, Lesson, lessons, library_object, parse_figure, segments

EXPECTED = re.compile(r"#\s*->\s*(.+?)\s*$")


def expected_outputs(code: str) -> list[str]:
    """What a code cell says it prints: the TEXT of each `# -> TEXT` comment, in order."""
    return [m.group(1) for line in code.splitlines() if (m := EXPECTED.search(line))]


def figure_draw(figure: Figure):
    """The `draw` function of the figure's module (gradschool.figures.KIND), or None if it has none."""
    try:
        module = importlib.import_module(f"gradschool.figures.{figure.kind.replace('-', '_')}")
    except ModuleNotFoundError:
        return None
    return getattr(module, "draw", None)


def figure_cell_source(figure: Figure, rung: int) -> tuple[str, str]:
    """(cell type, source) that stands for a live figure in the notebook."""
    if figure_draw(figure) is None:
        return "markdown", (f"*A live figure ({figure.kind}) stands here in the course: run "
                            f"`gradschool serve` and open chapter {rung}.*")
    module = f"gradschool.figures.{figure.kind.replace('-', '_')}"
    args = ", ".join(f"{k}={v!r}" for k, v in figure.args.items())
    return "code", f"from {module} import draw\n\ndraw({args})  # chapter {rung}'s live figure, drawn once"


def source_cell(names: list[str]) -> str:
    """A code cell that imports the named library objects (later cells use them) and prints their source."""
    imports, shown = [], []
    for name in names:
        parts = name.split(".")
        cut = next(i for i in range(len(parts), 0, -1) if is_module(".".join(parts[:i])))
        if cut == len(parts):
            imports.append(f"import {name}")
            shown.append(name)
        else:
            imports.append(f"from {'.'.join(parts[:cut])} import {parts[cut]}")
            shown.append(".".join(parts[cut:]))
    lines = ["import inspect", *dict.fromkeys(imports), ""]
    lines += [f"print(inspect.getsource({expr}))" for expr in shown]
    return "\n".join(lines)


def is_module(dotted: str) -> bool:
    """Whether a dotted name is an importable module."""
    try:
        importlib.import_module(dotted)
    except ImportError:
        return False
    return True


def lesson_notebook(lesson: Lesson):
    """The lesson as an nbformat v4 notebook."""
    import nbformat.v4 as v4

    cells = [v4.new_markdown_cell(f"*gradschool, rung {lesson.rung}: run the program with `gradschool rung "
                                  f"{lesson.rung}`, or the cells below from the top.*")]
    for info, body in segments(lesson.text):
        if info is None:
            cells.append(v4.new_markdown_cell(body.rstrip("\n")))
        elif info == "python":
            cells.append(v4.new_code_cell(body.rstrip("\n")))
        elif info == "source":
            library_object_names = [name.strip() for name in body.splitlines() if name.strip()]
            for name in library_object_names:
                library_object(name)  # refuses a name that does not exist, as the chapter does
            cells.append(v4.new_code_cell(source_cell(library_object_names)))
        elif info == "figure":
            kind, source = figure_cell_source(parse_figure(body), lesson.rung)
            cells.append(v4.new_code_cell(source) if kind == "code" else v4.new_markdown_cell(source))
        else:
            cells.append(v4.new_markdown_cell(f"```{info}\n{body}```"))
    if any(cell.cell_type == "code" and "import draw" in cell.source for cell in cells):
        cells.insert(1, v4.new_code_cell("%matplotlib inline"))  # draw() returns a figure: show it here
    notebook = v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["gradschool"] = {"rung": lesson.rung, "cells": cells_digest(notebook)}
    return notebook


def cells_digest(notebook) -> str:
    """A digest of the cells' types and sources (not their outputs: running a cell edits nothing)."""
    h = hashlib.sha256()
    for cell in notebook.cells:
        h.update(f"{cell.cell_type}\0{cell.source}\0".encode())
    return h.hexdigest()


def edited(path: Path) -> bool:
    """Whether the notebook at path is not as gradschool wrote it (its cells changed, or it is not ours)."""
    import nbformat

    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception:  # not a notebook nbformat can read: someone else's file
        return True
    return notebook.metadata.get("gradschool", {}).get("cells") != cells_digest(notebook)


def write_notebooks(folder: str | Path, force: bool = False) -> list[Path]:
    """Write every lesson's notebook into folder; refuse (before writing any) to overwrite edited ones."""
    import nbformat

    folder = Path(folder)
    targets = {folder / f"{lesson.name}.ipynb": lesson for lesson in lessons().values()}
    kept = [path.name for path in targets if path.exists() and edited(path)]
    if kept and not force:
        raise FileExistsError(f"{folder} holds notebooks you changed ({', '.join(kept)}); they are kept. "
                              "Pass --force to overwrite them, or write the notebooks to another folder")
    folder.mkdir(parents=True, exist_ok=True)
    for path, lesson in targets.items():
        nbformat.write(lesson_notebook(lesson), path)
    return list(targets)
