"""A lesson (gradschool.lessons) as a chapter page: its Markdown rendered, its blocks made live.

- ```python blocks become code panels;
- ```source blocks show the real source of the library objects they name (inspect.getsource), so the page
  shows the code that computes its numbers;
- ```figure blocks become `<div class="figure" data-figure=KIND data-args=JSON id=fig-N>`, drawn in the
  browser by static/figures/KIND.js (registerFigure in course.js) from the numbers its API computes.

The chapter then ends with how to run the rung's program, and links to the chapters before and after.
"""

import html
import inspect
import json
import textwrap
from functools import cache
from pathlib import Path

from markdown_it import MarkdownIt

from gradschool.exercises import RUNGS as EXERCISES
from gradschool.exercises import file_name
from gradschool.lessons import Lesson, LessonError, lessons, library_object, parse_figure

STATIC = Path(__file__).parent / "static"


def source_panel(names: list[str]) -> str:
    """The real source of each named object, as one code panel."""
    code = "\n\n".join(textwrap.dedent(inspect.getsource(library_object(name))).rstrip() for name in names)
    summary = "The library code: " + ", ".join(f"<code>{html.escape(n)}</code>" for n in names)
    return (f'<details class="code" open><summary>{summary}</summary>'
            f'<pre><code class="language-python">{html.escape(code)}</code></pre></details>\n')


class ChapterRenderer:
    """Markdown to HTML with the lesson's three kinds of fenced block; collects the figure kinds used."""

    def __init__(self) -> None:
        self.md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")
        # markdown-it binds a render rule to its renderer: the rule's first argument is that renderer
        self.md.add_render_rule("fence", lambda renderer, *args: self.fence(*args))
        self.kinds: list[str] = []

    def fence(self, tokens, idx, options, env) -> str:  # markdown-it's render-rule signature
        token = tokens[idx]
        info = token.info.strip()
        if info == "figure":
            figure = parse_figure(token.content)
            if figure.kind not in self.kinds:
                self.kinds.append(figure.kind)
            n = env.setdefault("figures", 0) + 1
            env["figures"] = n
            return (f'<div class="figure" id="fig-{n}" data-figure="{html.escape(figure.kind)}" '
                    f"data-args='{html.escape(json.dumps(figure.args), quote=True)}'></div>\n")
        if info == "source":
            return source_panel([line.strip() for line in token.content.splitlines() if line.strip()])
        language = html.escape(info or "text")
        code = html.escape(token.content)
        return f'<pre class="code"><code class="language-{language}">{code}</code></pre>\n'

    def render(self, text: str) -> str:
        return self.md.render(text, {})


def run_it_yourself(lesson: Lesson) -> str:
    """The chapter's closing box: the rung program to run, its notebook, its exercise, the chapters around."""
    written = lessons()
    before = max((r for r in written if r < lesson.rung), default=None)
    after = min((r for r in written if r > lesson.rung), default=None)
    links = []
    if before is not None:
        title = html.escape(written[before].title)
        links.append(f'<a href="/chapter/{before}" rel="prev">← {before} · {title}</a>')
    if after is not None:
        title = html.escape(written[after].title)
        links.append(f'<a href="/chapter/{after}" rel="next">{after} · {title} →</a>')
    n = lesson.rung
    practice = ""
    if n in EXERCISES:
        link = f'<a href="/download/exercise/{n}" download>{file_name(n)}</a>'
        practice = (f"<p>Write it yourself: {link} leaves the key pieces of this rung as TODOs "
                    f"(or <code>gradschool exercise {n}</code>); "
                    f"<code>gradschool check {n} {file_name(n)}</code> grades it.</p>")
    return (f'<aside class="run-it" aria-label="Run it yourself"><h2>Run it yourself</h2>'
            f"<p><code>gradschool rung {n}</code> runs this chapter's program, "
            f"<code>{lesson.program}</code>, on your machine. This chapter as a Jupyter notebook: "
            f'<a href="/download/notebook/{n}" download>{lesson.name}.ipynb</a> '
            f"(or <code>gradschool notebooks DIR</code> for every chapter).</p>{practice}</aside>\n"
            f'<nav class="pager" aria-label="Chapters around this one">{" ".join(links)}</nav>\n')


@cache
def chapter_body(rung: int) -> tuple[str, list[str]]:
    """(the chapter's main HTML, the figure kinds its page must load) for the lesson of `rung`."""
    lesson = lessons()[rung]
    renderer = ChapterRenderer()
    body = f'<p class="kicker">Chapter {rung}</p>\n' + renderer.render(lesson.text) + run_it_yourself(lesson)
    missing = [kind for kind in renderer.kinds if not (STATIC / "figures" / f"{kind}.js").exists()]
    if missing:
        raise LessonError(f"{lesson.name}.md uses figure kinds with no script: "
                          f"{', '.join(f'static/figures/{k}.js' for k in missing)}")
    return body, renderer.kinds


def figure_assets(kinds: list[str]) -> str:
    """The <script> (and <link>, where a kind has a stylesheet) tags of the figure kinds a page uses."""
    tags = []
    for kind in kinds:
        tags.append(f'<script src="/static/figures/{kind}.js" defer></script>')
        if (STATIC / "figures" / f"{kind}.css").exists():
            tags.append(f'<link rel="stylesheet" href="/static/figures/{kind}.css">')
    return "\n".join(tags)
