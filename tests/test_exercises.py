"""The graded exercises: `gradschool exercise N` and `gradschool check N FILE`, on real files and processes.

The reference answers are built the way the grader builds them: gradschool/exercises/solutions/rN.py holds the
bodies of rung N's TODOs, and fill_in splices them into the starter in place of each `raise
NotImplementedError` (the starter the learner gets holds only the raise).
"""

import ast
import subprocess
import sys

import pytest
from click.testing import CliRunner

from gradschool.cli import cli
from gradschool.exercises import RUNGS, file_name, solution_text, starter_text
from gradschool.exercises.fill import fill_in, todo_names
from gradschool.exercises.grader import grade, report


def solved(n: int) -> str:
    return fill_in(starter_text(n), solution_text(n))


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def reasons(outcomes) -> dict[str, str]:
    return {o.part.id: o.reason for o in outcomes}


@pytest.mark.parametrize("n", RUNGS)
def test_the_starter_holds_no_solution_only_todos(n):
    starter = starter_text(n)
    solution_functions = {f"{c.name}.{f.name}" if c is not None else f.name
                          for c, f in _functions(ast.parse(solution_text(n)))}
    assert set(todo_names(starter)) == solution_functions  # every solved function is a bare TODO there
    assert starter.startswith(f"# Rung {n} exercise") and f"gradschool check {n} {file_name(n)}" in starter


def _functions(tree):
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            yield None, node
        elif isinstance(node, ast.ClassDef):
            yield from ((node, f) for f in node.body if isinstance(f, ast.FunctionDef))


@pytest.mark.parametrize("n", RUNGS)
def test_the_starter_fails_every_part_saying_it_is_not_written_yet(tmp_path, n):
    outcomes = grade(n, write(tmp_path, file_name(n), starter_text(n)))
    assert len(outcomes) >= 2
    for o in outcomes:
        assert not o.passed
        assert o.reason.startswith("not written yet: still raises NotImplementedError at line "), o.reason
        assert "TODO: write " in o.reason
    assert report(outcomes)[-1] == f"score: 0/{len(outcomes)}"


@pytest.mark.parametrize("n", RUNGS)
def test_the_starter_with_the_solutions_filled_in_passes_every_part_and_runs_as_a_script(tmp_path, n):
    path = write(tmp_path, file_name(n), solved(n))
    outcomes = grade(n, path)
    assert [o.reason for o in outcomes if not o.passed] == []
    assert report(outcomes) == [f"✓ {o.part.id} {o.part.title}" for o in outcomes] + [
        f"score: {len(outcomes)}/{len(outcomes)}"]
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, cwd=tmp_path,
                         timeout=60)
    assert run.returncode == 0, run.stderr  # self-contained: plain python runs its demo


# (rung, the correct line, the planted mistake, the one part it must fail, words of the expected report)
MISTAKES = [
    (1, "(other.data, self.data)", "(self.data, other.data)", "1.1", "local_grads"),
    (1, "(1 - t**2,)", "(t,)", "1.2", "d tanh/dx for x=0.5: expected 0.786448, got 0.462117 — hint: the "
                                      "derivative of tanh is 1 - tanh(x)**2"),
    (1, "            for child in v.children:\n                visit(child)\n            order.append(v)",
     "            order.append(v)\n            for child in v.children:\n                visit(child)", "1.3",
     "children before parents"),
    (2, "act = self.b", "act = Value(0.0)", "2.1", "output for w="),
    (2, "act = self.b", "act = Value(self.b.data)", "2.1", "d output/db for w="),  # a copy: no gradient to b
    (2, "[p for layer in self.layers for p in layer.parameters()]",
     "[layer.parameters() for layer in self.layers]", "2.2",
     "item 0: expected layer 0 neuron 0 w[0], got a list"),
    (3, "np.exp(logits - logits.max(axis=1, keepdims=True))", "np.exp(logits)", "3.1",
     "softmax(logits) for logits=[[  999.7197,  1000.5164"),
    (3, "return grad / len(targets)", "return grad", "3.3", "d loss/d logits"),
    (4, "smoothed.sum(axis=1, keepdims=True)", "smoothed.sum(axis=0, keepdims=True)", "4.2", "P for counts="),
    (5, "np.tanh(x @ W1 + b1)", "np.tanh(x @ W1) + b1", "5.2", "logits for contexts="),
    (6, "grad.sum(axis=tuple(range(grad.ndim - len(shape))))",
     "grad.sum(axis=tuple(range(len(shape), grad.ndim)))", "6.1",
     "unbroadcast(grad, (4,)) returned an array of shape (3,), expected shape (4,)"),
    (6, "unbroadcast(dB, B.shape)", "dB", "6.2", "expected shape (4, 5)"),
    (7, "scores = q @ k.T / np.sqrt(D)", "scores = q @ k.T", "7.1", "weights for q of shape (4, 3)"),
    (8, " - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True)", "", "8.1", "dx for x of shape (3, 5)"),
    (8, "return x + mlp(", "return mlp(", "8.2", "output for x of shape (5, 8), n_head=2"),
    (9, "(logits - logits.max()) / temperature", "logits / temperature", "9.1", "probs for logits="),
    (9, "np.where(scaled < kth", "np.where(scaled <= kth", "9.2", "top_k=1"),
    (9, "scores = cache_k @ q", "scores = cache_k[:-1] @ q", "9.3", "raised ValueError at line"),
]


@pytest.mark.parametrize("n, right, wrong, part, words", MISTAKES)
def test_a_planted_mistake_fails_exactly_its_part(tmp_path, n, right, wrong, part, words):
    text = solved(n)
    assert right in text
    outcomes = grade(n, write(tmp_path, file_name(n), text.replace(right, wrong, 1)))
    failed = {o.part.id: o.reason for o in outcomes if not o.passed}
    assert list(failed) == [part], failed
    assert words in failed[part]
    assert "Traceback" not in failed[part]


def test_a_syntax_error_is_reported_for_every_part_with_its_line(tmp_path):
    text = solved(3).replace("def softmax(logits", "def softmax(logits,,")
    line = text.splitlines().index(next(s for s in text.splitlines() if ",," in s)) + 1
    for reason in reasons(grade(3, write(tmp_path, "e.py", text))).values():
        assert reason == f"the file has a syntax error at line {line}: invalid syntax"


def test_an_exception_is_reported_at_the_learners_line_for_its_part_only(tmp_path):
    text = solved(3).replace("    m = logits.max(axis=1)\n", "    m = logits.max(axis=1)\n    1 / 0\n")
    line = text.splitlines().index("    1 / 0") + 1
    outcomes = grade(3, write(tmp_path, "e.py", text))
    assert reasons(outcomes) == {"3.1": "", "3.3": "",
                                 "3.2": f"raised ZeroDivisionError at line {line}: division by zero"}


def test_an_endless_loop_is_stopped_by_the_time_limit_for_its_part_only(tmp_path):
    loop = "    while True:\n        try:\n            pass\n        except Exception:\n            pass\n"
    text = solved(3).replace("    grad = softmax(logits)\n", loop)
    outcomes = grade(3, write(tmp_path, "e.py", text), time_limit=1.0)
    assert reasons(outcomes) == {"3.1": "", "3.2": "", "3.3": "did not finish within 1 s (an endless loop?)"}


def test_a_wrong_return_type_is_reported_as_such(tmp_path):
    text = solved(1).replace("return Value(t, (self,), (1 - t**2,))", "return t")
    outcomes = grade(1, write(tmp_path, "e.py", text))
    assert reasons(outcomes) == {"1.1": "", "1.3": "",
                                 "1.2": "Value(x).tanh() returned a float, expected a Value"}


def test_what_the_learners_code_prints_does_not_disturb_the_grading(tmp_path):
    fake = "    print('{\"id\": \"import\", \"problem\": \"fake\"}')\n"  # like the grader's own messages
    line = "    q, k, v = x @ Wq, x @ Wk, x @ Wv\n"
    text = solved(9).replace(line, line + fake)
    assert all(o.passed for o in grade(9, write(tmp_path, "e.py", text)))


def test_a_crash_of_python_is_reported_for_its_part_and_the_rest_not_run(tmp_path):
    text = solved(3).replace("    m = logits.max(axis=1)\n", "    import os\n    os._exit(3)\n")
    assert reasons(grade(3, write(tmp_path, "e.py", text))) == {
        "3.1": "",
        "3.2": "did not finish: Python stopped during this part (the code exited, crashed, or hung where the "
               "time limit could not stop it)",
        "3.3": "not run: the check stopped during part 3.2"}


# --- the commands ----------------------------------------------------------------------------------------

def test_check_prints_one_line_a_part_and_exits_0_only_when_all_pass(tmp_path):
    good = write(tmp_path, "good.py", solved(7))
    result = CliRunner().invoke(cli, ["check", "7", str(good)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "✓ 7.1 causal_attention_weights: scaled scores, causal mask, softmax",
        "✓ 7.2 attention_head: project, attend, mix the values",
        "score: 2/2"]
    result = CliRunner().invoke(cli, ["check", "7", str(write(tmp_path, "start.py", starter_text(7)))])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "score: 0/2"
    assert "\x1b[" not in result.output  # no colours when the output is not a terminal


def test_check_refuses_a_missing_file_clearly(tmp_path):
    result = CliRunner().invoke(cli, ["check", "1", str(tmp_path / "nowhere.py")])
    assert result.exit_code == 2
    assert "does not exist" in result.output and "Traceback" not in result.output


def test_exercise_writes_the_starter_and_refuses_to_overwrite_edits_unless_forced(tmp_path):
    folder = tmp_path / "work"
    path = folder / "exercise_4.py"
    result = CliRunner().invoke(cli, ["exercise", "4", str(folder)])
    assert result.exit_code == 0, result.output
    assert path.read_text(encoding="utf-8") == starter_text(4)
    assert f"gradschool check 4 {path}" in result.output
    assert CliRunner().invoke(cli, ["exercise", "4", str(folder)]).exit_code == 0  # untouched: nothing lost

    edited = starter_text(4) + "# my work\n"
    path.write_text(edited, encoding="utf-8")
    result = CliRunner().invoke(cli, ["exercise", "4", str(folder)])
    assert result.exit_code == 1
    assert "already exists and differs from the starter" in result.output and "--force" in result.output
    assert path.read_text(encoding="utf-8") == edited

    result = CliRunner().invoke(cli, ["exercise", "4", str(folder), "--force"])
    assert result.exit_code == 0, result.output
    assert path.read_text(encoding="utf-8") == starter_text(4)
    assert (folder / "exercise_4.py.bak").read_text(encoding="utf-8") == edited


def test_exercise_out_of_range_is_refused_clearly():
    result = CliRunner().invoke(cli, ["exercise", "10"])
    assert result.exit_code == 2
    assert "10 is not in the range 1<=x<=9" in result.output


def test_grading_leaves_the_librarys_random_stream_as_it_was(tmp_path):
    from gradschool.tensor.random import get_rng_state

    before = get_rng_state()
    assert all(o.passed for o in grade(8, write(tmp_path, "e.py", solved(8))))  # its oracle builds a Block
    assert get_rng_state() == before


def test_the_exercise_of_another_rung_is_named_rather_than_graded(tmp_path):
    path = write(tmp_path, "exercise_1.py", solved(1))
    for o in grade(3, path):
        assert o.reason == ("this is rung 1's exercise (its first line says so): check it with "
                            f"gradschool check 1 {path}")
