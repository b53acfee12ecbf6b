"""The course's HTML pages, all in one layout (pages/layout.html) with the same head and navigation.

- `/` is the ladder: every rung, its program, and its chapter where the lesson is written;
- `/chapter/N` is rung N's chapter, rendered from its lesson (gradschool.web.chapter);
- `/NAME` are the first seed's demo pages (pages/NAME.html), until the chapters of rungs 1-2 hold them.

Page scripts live in static/ (no inline script or style, so the Content-Security-Policy forbids both).
"""

import html
from functools import cache
from pathlib import Path
from string import Template

from gradschool import rungs
from gradschool.lessons import lessons
from gradschool.web.chapter import chapter_body, figure_assets

FOLDER = Path(__file__).parent / "pages"
STATIC = Path(__file__).parent / "static"
# name: (the link in the navigation, the page's title)
DEMOS = {
    "neuron": ("Neuron", "Neuron playground"),
    "forward": ("Forward pass", "Forward pass"),
    "loss": ("Loss landscape", "Loss landscape"),
    "derivative": ("Derivative", "Derivative"),
    "graph": ("Expression graph", "Expression graph"),
    "training": ("Training", "Training"),
}
HOME_TITLE = "gradschool · neural networks from scratch"


def nav(current: str) -> str:
    """The links to every chapter (and demo page), the current page marked with aria-current."""
    links = ['<a class="home" href="/">gradschool</a>']
    for rung, lesson in lessons().items():
        here = ' aria-current="page"' if current == f"chapter/{rung}" else ""
        links.append(f'<a href="/chapter/{rung}"{here}>{rung} · {html.escape(lesson.title)}</a>')
    for name, (link, _) in DEMOS.items():
        here = ' aria-current="page"' if name == current else ""
        links.append(f'<a class="demo" href="/{name}"{here}>{html.escape(link)}</a>')
    return "\n".join(links)


def ladder() -> str:
    """The home page's list of rungs: each one's program, and its chapter where the lesson is written."""
    items = []
    written = lessons()
    for n in sorted(rungs.RUNGS):
        module = rungs.load(n)
        what = html.escape(rungs.describe(module)) if module else "(not written yet)"
        if n in written:
            head = f'<a href="/chapter/{n}"><b>{n} · {html.escape(written[n].title)}</b></a>'
        else:
            head = f"<b>{n} · {html.escape(rungs.RUNGS[n])}</b>"
        items.append(f"  <li>{head}<br>{what}<br><code>gradschool rung {n}</code></li>")
    return '<ol class="cards ladder">\n' + "\n".join(items) + "\n</ol>"


def layout(title: str, current: str, main: str, scripts: str = "") -> str:
    """A whole page: the shared head and navigation around `main`."""
    template = Template((FOLDER / "layout.html").read_text(encoding="utf-8"))
    return template.substitute(title=html.escape(title), script=scripts, nav=nav(current), main=main)


@cache
def render(name: str) -> str:
    """The full HTML of page `name`: "index" (the ladder) or a demo page."""
    if name == "index":
        main = (FOLDER / "index.html").read_text(encoding="utf-8").replace("<!--ladder-->", ladder())
        return layout(HOME_TITLE, name, main)
    script = f'<script src="/static/{name}.js" defer></script>' if (STATIC / f"{name}.js").exists() else ""
    main = (FOLDER / f"{name}.html").read_text(encoding="utf-8")
    return layout(f"{DEMOS[name][1]} · gradschool", name, main, script)


@cache
def render_chapter(rung: int) -> str:
    """The full HTML of rung `rung`'s chapter."""
    body, kinds = chapter_body(rung)
    title = f"{rung} · {lessons()[rung].title} · gradschool"
    return layout(title, f"chapter/{rung}", body, figure_assets(kinds))
