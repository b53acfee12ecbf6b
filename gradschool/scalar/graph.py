"""Look at an expression graph: list its nodes and edges, or draw it as Graphviz DOT text or as SVG.

    nodes, edges = trace(loss)   # nodes in topological order (inputs first), edges as (child, parent)
    to_dot(loss)                 # text for Graphviz: dot -Tsvg graph.dot > graph.svg
    to_svg(loss)                 # an SVG drawing made in pure Python (no Graphviz needed)
"""

from html import escape

from gradschool.scalar.engine import Value


def trace(root: Value) -> tuple[list[Value], list[tuple[Value, Value]]]:
    """All nodes behind root in topological order (inputs first, root last) and the (child, parent) edges."""
    nodes: list[Value] = []
    edges: list[tuple[Value, Value]] = []
    visited = {root}
    stack = [(root, False)]
    while stack:  # depth-first, without recursion so that deep graphs work
        v, children_done = stack.pop()
        if children_done:
            nodes.append(v)
            continue
        stack.append((v, True))
        for child in dict.fromkeys(v._prev):  # each child once, even in a * a
            edges.append((child, v))
            if child not in visited:
                visited.add(child)
                stack.append((child, False))
    return nodes, edges


def _ids(nodes: list[Value]) -> dict[int, int]:
    return {id(v): i for i, v in enumerate(nodes)}


def _dot_escape(text: str) -> str:
    """Escape the characters that mean something inside a Graphviz record label."""
    for ch in '\\{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text


def to_dot(root: Value) -> str:
    """Graphviz DOT text: a record (label | data | grad) per Value and a small node for each operation."""
    nodes, edges = trace(root)
    ids = _ids(nodes)
    lines = ["digraph G {", "  rankdir=LR;"]
    for v in nodes:
        n = ids[id(v)]
        fields = (v.label, f"data {v.data:.4f}", f"grad {v.grad:.4f}")
        label = " | ".join(_dot_escape(field) for field in fields)
        lines.append(f'  n{n} [shape=record, label="{{ {label} }}"];')
        if v._op:
            lines.append(f'  n{n}op [label="{_dot_escape(v._op)}"];')
            lines.append(f"  n{n}op -> n{n};")
    for child, parent in edges:
        lines.append(f"  n{ids[id(child)]} -> n{ids[id(parent)]}op;")
    lines.append("}")
    return "\n".join(lines) + "\n"


BOX_W, BOX_H = 240, 32  # one Value's box
OP_R = 14  # radius of an operation's circle
COL_W, ROW_H = BOX_W + 4 * OP_R + 40, BOX_H + 24  # the grid the boxes sit on


def to_svg(root: Value) -> str:
    """An SVG drawing, left to right: a Value stands in the column of its longest path from an input."""
    nodes, edges = trace(root)
    ids = _ids(nodes)
    column: dict[int, int] = {}
    for v in nodes:  # topological order: every child already has its column
        column[id(v)] = 1 + max((column[id(c)] for c in v._prev), default=-1)
    rows: dict[int, int] = {}
    row_of: dict[int, int] = {}
    for v in nodes:
        c = column[id(v)]
        row_of[id(v)] = rows.get(c, 0)
        rows[c] = row_of[id(v)] + 1

    def box_xy(v: Value) -> tuple[int, int]:
        return 10 + 3 * OP_R + column[id(v)] * COL_W, 10 + row_of[id(v)] * ROW_H

    width = 20 + 3 * OP_R + (max(column.values()) + 1) * COL_W
    height = 20 + max(rows.values()) * ROW_H
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="12">']
    for child, parent in edges:  # child's box -> parent's operation circle
        (x0, y0), (x1, y1) = box_xy(child), box_xy(parent)
        out.append(f'<line x1="{x0 + BOX_W}" y1="{y0 + BOX_H // 2}" x2="{x1 - 2 * OP_R - OP_R}" '
                   f'y2="{y1 + BOX_H // 2}" stroke="#888"/>')
    for v in nodes:
        x, y = box_xy(v)
        cy = y + BOX_H // 2
        text = f"{v.label} | data {v.data:.4f} | grad {v.grad:.4f}" if v.label else \
            f"data {v.data:.4f} | grad {v.grad:.4f}"
        out.append(f'<g id="n{ids[id(v)]}"><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="4" '
                   f'fill="#f4f7ff" stroke="#335"/><text x="{x + BOX_W // 2}" y="{cy + 4}" '
                   f'text-anchor="middle">{escape(text)}</text></g>')
        if v._op:
            ox = x - 2 * OP_R
            out.append(f'<circle cx="{ox}" cy="{cy}" r="{OP_R}" fill="#fff4e0" stroke="#a60"/>'
                       f'<text x="{ox}" y="{cy + 4}" text-anchor="middle">{escape(v._op)}</text>'
                       f'<line x1="{ox + OP_R}" y1="{cy}" x2="{x}" y2="{cy}" stroke="#a60"/>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
