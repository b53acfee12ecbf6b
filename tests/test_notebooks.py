"""The notebooks (gradschool.notebooks): one a lesson, run top to bottom by nbclient, printing as it says."""

import nbformat
import pytest
from click.testing import CliRunner
from nbclient import NotebookClient

from gradschool.cli import cli
from gradschool.lessons import lessons, segments
from gradschool.notebooks import edited, expected_outputs, lesson_notebook, write_notebooks

CELL_TIMEOUT = 300  # seconds a cell may run (rung 9's cells train a small model)


def test_every_lesson_becomes_a_valid_notebook_of_its_own_text():
    for lesson in lessons().values():
        notebook = lesson_notebook(lesson)
        nbformat.validate(notebook)
        code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
        blocks = [body.rstrip("\n") for info, body in segments(lesson.text) if info == "python"]
        assert [c for c in code if c in blocks] == blocks  # every python block, in order, as it is
        prose = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
        assert f"# {lesson.title}" in prose
        assert "```figure" not in prose and "```source" not in prose


def test_expected_outputs_are_the_arrow_comments():
    code = "print(1 + 1)  # -> 2\nx = 3\n# -> loss 5.0134, push 0.99\n# a plain comment"
    assert expected_outputs(code) == ["2", "loss 5.0134, push 0.99"]


@pytest.mark.parametrize("rung", sorted(lessons()))
def test_the_notebook_runs_top_to_bottom_and_prints_what_the_lesson_says(rung, tmp_path):
    notebook = lesson_notebook(lessons()[rung])
    NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3", resources={
        "metadata": {"path": str(tmp_path)}}).execute()  # raises CellExecutionError on any error
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        printed = "".join(out.get("text", "") for out in cell.outputs if out.output_type == "stream")
        for want in expected_outputs(cell.source):
            assert want in printed, f"cell\n{cell.source}\nprinted\n{printed}\nnot {want!r}"


def test_an_edited_notebook_is_kept_unless_forced(tmp_path):
    paths = write_notebooks(tmp_path)
    assert sorted(p.name for p in paths) == sorted(f"{lesson.name}.ipynb" for lesson in lessons().values())
    path = paths[0]
    ran = nbformat.read(path, as_version=4)
    first_code = next(cell for cell in ran.cells if cell.cell_type == "code")
    first_code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]  # run: not edited
    nbformat.write(ran, path)
    assert not edited(path)
    write_notebooks(tmp_path)  # a notebook as gradschool wrote it is refreshed
    mine = nbformat.read(path, as_version=4)
    mine.cells.append(nbformat.v4.new_code_cell("my_own = 42"))
    nbformat.write(mine, path)
    before = path.read_bytes()
    assert edited(path)
    kept = f"holds notebooks you changed \\({path.name}\\); they are kept"
    with pytest.raises(FileExistsError, match=kept):
        write_notebooks(tmp_path)
    assert path.read_bytes() == before
    result = CliRunner().invoke(cli, ["notebooks", str(tmp_path)])
    assert result.exit_code == 1 and "Pass --force to overwrite them" in result.output
    assert path.read_bytes() == before
    result = CliRunner().invoke(cli, ["notebooks", str(tmp_path), "--force"])
    assert result.exit_code == 0 and f"jupyter lab {tmp_path}" in result.output
    assert "my_own = 42" not in path.read_text()


def test_a_file_that_is_not_a_notebook_is_never_overwritten(tmp_path):
    name = f"{next(iter(lessons().values())).name}.ipynb"
    (tmp_path / name).write_text("my notes")
    with pytest.raises(FileExistsError, match=name):
        write_notebooks(tmp_path)
    assert (tmp_path / name).read_text() == "my notes"
