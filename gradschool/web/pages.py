"""The course's HTML pages, all in one layout (pages/layout.html) with the same head and navigation.

- `/` is the ladder: every rung, its program, and its chapter where the lesson is written;
- `/chapter/N` is rung N's chapter, rendered from its lesson (gradschool.web.chapter);
- the first seed's old demo pages (MOVED) redirect to the chapter figure they became (`moved_to`).

Scripts and styles are files in static/ (no inline ones: the Content-Security-Policy forbids both).
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
# The first seed's demo pages that became figures of chapters 1-2: old page -> the figure kind it became.
MOVED = {
    "neuron": "neuron",
    "forward": "forward",
    "loss": "descent",
    "derivative": "derivative",
    "graph": "graph",
    "training": "training",
}
HOME_TITLE = "gradschool · neural networks from scratch"


def nav(current: str) -> str:
    """The links to every chapter, the current page marked with aria-current."""
    links = ['<a class="home" href="/">gradschool</a>']
    for rung, lesson in lessons().items():
        here = ' aria-current="page"' if current == f"chapter/{rung}" else ""
        links.append(f'<a href="/chapter/{rung}"{here}>{rung} · {html.escape(lesson.title)}</a>')
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
def moved_to(name: str) -> str:
    """Where old page `name` lives now: /chapter/N#fig-K, the first figure of its kind in the lessons."""
    for rung, found in lessons().items():
        kinds = [figure.kind for figure in found.figures()]
        if MOVED[name] in kinds:
            return f"/chapter/{rung}#fig-{kinds.index(MOVED[name]) + 1}"
    return "/"


@cache
def render_home() -> str:
    """The full HTML of the home page: the ladder."""
    main = (FOLDER / "index.html").read_text(encoding="utf-8").replace("<!--ladder-->", ladder())
    return layout(HOME_TITLE, "index", main)


@cache
def render_chapter(rung: int) -> str:
    """The full HTML of rung `rung`'s chapter."""
    body, kinds = chapter_body(rung)
    title = f"{rung} · {lessons()[rung].title} · gradschool"
    return layout(title, f"chapter/{rung}", body, figure_assets(kinds))
