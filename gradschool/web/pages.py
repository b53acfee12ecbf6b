"""The course's HTML pages: each chapter's body (pages/NAME.html) in one layout, with the same head and nav.

Page scripts live in static/NAME.js (no inline script or style, so the Content-Security-Policy forbids both).
"""

import html
from functools import cache
from pathlib import Path
from string import Template

FOLDER = Path(__file__).parent / "pages"
STATIC = Path(__file__).parent / "static"
# name: (the link in the navigation, the page's title); "index" is the home page at /.
CHAPTERS = {
    "neuron": ("1 · Neuron", "1 · Neuron playground"),
    "forward": ("2 · Forward pass", "2 · Forward pass"),
    "loss": ("3 · Loss landscape", "3 · Loss landscape"),
    "derivative": ("4 · Derivative", "4 · Derivative"),
    "graph": ("5 · Expression graph", "5 · Expression graph"),
    "training": ("6 · Training", "6 · Training"),
    "lm": ("7 · Language models", "7 · Language models"),
}
HOME_TITLE = "gradschool · neural networks from scratch"


def nav(current: str) -> str:
    """The chapter links, the current page marked with aria-current."""
    links = ['<a class="home" href="/">gradschool</a>']
    for name, (link, _) in CHAPTERS.items():
        here = ' aria-current="page"' if name == current else ""
        links.append(f'<a href="/{name}"{here}>{html.escape(link)}</a>')
    return "\n".join(links)


@cache
def render(name: str) -> str:
    """The full HTML of page `name` ("index" or a chapter)."""
    title = HOME_TITLE if name == "index" else f"{CHAPTERS[name][1]} · gradschool"
    script = f'<script src="/static/{name}.js" defer></script>' if (STATIC / f"{name}.js").exists() else ""
    layout = Template((FOLDER / "layout.html").read_text(encoding="utf-8"))
    return layout.substitute(title=html.escape(title), script=script, nav=nav(name),
                             main=(FOLDER / f"{name}.html").read_text(encoding="utf-8"))
