"""Look at an expression graph: list its nodes and edges, or draw it as Graphviz DOT text or as SVG.

    nodes, edges = trace(loss)   # nodes in topological order (inputs first), edges as (child, parent)
    to_dot(loss)                 # text for Graphviz: dot -Tsvg graph.dot > graph.svg
    to_svg(loss)                 # an SVG drawing made in pure Python (no Graphviz needed)
"""

from html import escape

from gradschool.scalar.engine import Value, topological_order


def trace(root: Value) -> tuple[list[Value], list[tuple[Value, Value]]]:
    """All nodes behind root in topological order (inputs first, root last) and the (child, parent) edges."""
    nodes = topological_order(root)
    edges = [(child, v) for v in nodes for child in dict.fromkeys(v.children)]  # each child once, as in a * a
    return nodes, edges


def _dot_escape(text: str) -> str:
    """Escape the characters that mean something inside a Graphviz record label."""
    for ch in '\\{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text


def to_dot(root: Value) -> str:
    """Graphviz DOT text: a record (label | data | grad) per Value and a small node for each operation."""
    nodes, edges = trace(root)
    ids = {id(v): i for i, v in enumerate(nodes)}
    lines = ["digraph G {", "  rankdir=LR;"]
    for v in nodes:
        n = ids[id(v)]
        fields = (v.label, f"data {v.data:.4f}", f"grad {v.grad:.4f}")
        label = " | ".join(_dot_escape(field) for field in fields)
        lines.append(f'  n{n} [shape=record, label="{{ {label} }}"];')
        if v.op:
            lines.append(f'  n{n}op [label="{_dot_escape(v.op)}"];')
            lines.append(f"  n{n}op -> n{n};")
    for child, parent in edges:
        lines.append(f"  n{ids[id(child)]} -> n{ids[id(parent)]}op;")
    lines.append("}")
    return "\n".join(lines) + "\n"


CHAR_W, BOX_H, ROW_GAP = 7.3, 32, 20  # 12px monospace letters; a Value's box height; space between rows


def _box_text(v: Value) -> str:
    numbers = f"data {v.data:.4f} | grad {v.grad:.4f}"
    return f"{v.label} | {numbers}" if v.label else numbers


def to_svg(root: Value) -> str:
    """An SVG drawing, left to right: a Value stands in the column of its longest path from an input."""
    nodes, edges = trace(root)
    column: dict[int, int] = {}
    row: dict[int, int] = {}
    rows_in_column: dict[int, int] = {}
    for v in nodes:  # topological order: every child already has its column
        c = column[id(v)] = 1 + max((column[id(child)] for child in v.children), default=-1)
        row[id(v)] = rows_in_column.get(c, 0)
        rows_in_column[c] = row[id(v)] + 1
    box_w = round(16 + CHAR_W * max(len(_box_text(v)) for v in nodes))
    op_w = round(16 + CHAR_W * max((len(v.op) for v in nodes), default=1))  # an operation's oval
    col_w = box_w + op_w + 60  # box, gap for the edges, oval, short link to the result's box

    def box_xy(v: Value) -> tuple[int, int]:
        return 10 + op_w + 20 + column[id(v)] * col_w, 10 + row[id(v)] * (BOX_H + ROW_GAP)

    width = 20 + op_w + 20 + (max(column.values()) + 1) * col_w - 40
    height = 20 + max(rows_in_column.values()) * (BOX_H + ROW_GAP) - ROW_GAP
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="12">']
    for child, parent in edges:  # from the child's box to the oval of the parent's operation
        (x0, y0), (x1, y1) = box_xy(child), box_xy(parent)
        out.append(f'<line x1="{x0 + box_w}" y1="{y0 + BOX_H // 2}" x2="{x1 - 20 - op_w}" '
                   f'y2="{y1 + BOX_H // 2}" stroke="#888"/>')
    for i, v in enumerate(nodes):
        x, y = box_xy(v)
        cy = y + BOX_H // 2
        out.append(f'<g id="n{i}"><rect x="{x}" y="{y}" width="{box_w}" height="{BOX_H}" rx="4" '
                   f'fill="#f4f7ff" stroke="#335"/><text x="{x + box_w // 2}" y="{cy + 4}" '
                   f'text-anchor="middle">{escape(_box_text(v))}</text></g>')
        if v.op:
            ox = x - 20 - op_w // 2
            out.append(f'<ellipse cx="{ox}" cy="{cy}" rx="{op_w // 2}" ry="13" fill="#fff4e0" stroke="#a60"/>'
                       f'<text x="{ox}" y="{cy + 4}" text-anchor="middle">{escape(v.op)}</text>'
                       f'<line x1="{ox + op_w // 2}" y1="{cy}" x2="{x}" y2="{cy}" stroke="#a60"/>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
