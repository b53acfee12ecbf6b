"""Every rung is a program: it runs as a script, and its --plot draws the one way (no pyplot)."""

import ast
import importlib.util

import pytest

from gradschool import rungs


def source_tree(n: int) -> ast.Module:
    spec = importlib.util.find_spec(f"gradschool.rungs.{rungs.RUNGS[n]}")
    with open(spec.origin) as f:
        return ast.parse(f.read())


@pytest.mark.parametrize("n", sorted(rungs.RUNGS))
def test_rung_runs_main_as_a_script(n):
    guards = [node for node in source_tree(n).body if isinstance(node, ast.If)
              and ast.unparse(node.test) in ("__name__ == '__main__'", '__name__ == "__main__"')]
    assert guards, f"rung {n} has no `if __name__ == \"__main__\":`"
    assert ast.unparse(guards[0].body[0]) == "main()"


@pytest.mark.parametrize("n", sorted(rungs.RUNGS))
def test_rung_draws_without_pyplot(n):
    imported = {alias.name for node in ast.walk(source_tree(n)) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module for node in ast.walk(source_tree(n)) if isinstance(node, ast.ImportFrom)}
    assert not any(name and name.startswith("matplotlib") for name in imported), \
        f"rung {n} imports matplotlib itself; draw through gradschool.rungs.plots"
