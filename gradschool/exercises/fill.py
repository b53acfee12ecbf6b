"""Fill a starter's TODOs with their solutions: the reference code the grader and the tests run.

A TODO is a function (or method) whose body, after its docstring, is one `raise NotImplementedError(...)`.
fill_in keeps the starter's signature and docstring and puts the body of the solution's function of the same
name (`Value.tanh`, `softmax`) in place of the raise; everything else in the starter stays as it is.
"""

import ast
import textwrap
from types import ModuleType


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    """Every function of a module by its qualified name: 'softmax', 'Value.tanh'."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found[node.name] = node
        elif isinstance(node, ast.ClassDef):
            found.update({f"{node.name}.{f.name}": f for f in node.body if isinstance(f, ast.FunctionDef)})
    return found


def _is_todo(fn: ast.FunctionDef) -> bool:
    body = fn.body[1:] if ast.get_docstring(fn) is not None else fn.body
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    exc = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


def todo_names(starter: str) -> list[str]:
    """The qualified names of the starter's TODOs, in file order."""
    return [name for name, fn in _functions(ast.parse(starter)).items() if _is_todo(fn)]


def fill_in(starter: str, solution: str) -> str:
    """The starter with each TODO's `raise NotImplementedError` replaced by the solution's body."""
    todos = {name: fn for name, fn in _functions(ast.parse(starter)).items() if _is_todo(fn)}
    solved = _functions(ast.parse(solution))
    missing = [name for name in todos if name not in solved]
    if missing:
        raise ValueError(f"the solution has no function for the TODOs {', '.join(missing)}")
    lines = starter.splitlines(keepends=True)
    solution_lines = solution.splitlines(keepends=True)
    for fn in sorted(todos.values(), key=lambda f: f.lineno, reverse=True):  # bottom up: line numbers hold
        raise_stmt = fn.body[-1]
        name = next(n for n, f in todos.items() if f is fn)
        body = solved[name].body
        if ast.get_docstring(solved[name]) is not None:
            body = body[1:]
        start = body[0].lineno - 1
        while start - 1 > solved[name].lineno - 1 and solution_lines[start - 1].strip().startswith("#"):
            start -= 1  # comments just above the first statement belong to the body
        text = textwrap.dedent("".join(solution_lines[start:body[-1].end_lineno]))
        indented = textwrap.indent(text, " " * raise_stmt.col_offset)
        lines[raise_stmt.lineno - 1:raise_stmt.end_lineno] = [indented]
    return "".join(lines)


def load_text(text: str, name: str) -> ModuleType:
    """Run Python source as a fresh module called name."""
    module = ModuleType(name)
    exec(compile(text, f"<{name}>", "exec"), module.__dict__)
    return module
