"""The chapters: lessons (gradschool.lessons) rendered into pages whose figures the engine computes.

Python-level checks of the lesson format and the renderer. Each chapter's figures are tested in
tests/test_chapter_N.py: their APIs against the library, and in Chromium, their controls driven and the
numbers shown checked against the library.
"""

import json
import re

import pytest
from fastapi.testclient import TestClient

from gradschool.lessons import LessonError, lessons, parse_figure, read_lesson
from gradschool.web.app import create_app
from gradschool.web.chapter import STATIC, ChapterRenderer, chapter_body

client = TestClient(create_app(), base_url="http://127.0.0.1:8000")


# --- the lesson format ---

def test_every_lesson_renders_and_every_figure_kind_has_a_script():
    assert lessons(), "no lesson found"
    for rung, lesson in lessons().items():
        assert lesson.name.startswith(f"r{rung}_")
        body, kinds = chapter_body(rung)
        assert f"<h1>{lesson.title}</h1>" in body
        assert f"gradschool rung {rung}" in body
        assert kinds == list(dict.fromkeys(f.kind for f in lesson.figures()))
        for kind in kinds:
            assert (STATIC / "figures" / f"{kind}.js").read_text().count(f'registerFigure("{kind}"') == 1


def test_a_figure_block_becomes_a_figure_element_with_its_arguments():
    renderer = ChapterRenderer()
    html = renderer.render("Text\n\n```figure\nsoftmax classes=3 logits=2,1,0.1\n```\n\n"
                           "```figure\nsoftmax\n```\n")
    figure = r'<div class="figure" id="(fig-\d)" data-figure="(\w+)" data-args=\'([^\']*)\'>'
    figures = re.findall(figure, html)
    assert [(i, k) for i, k, _ in figures] == [("fig-1", "softmax"), ("fig-2", "softmax")]
    assert json.loads(figures[0][2].replace("&quot;", '"')) == {"classes": "3", "logits": "2,1,0.1"}
    assert renderer.kinds == ["softmax"]


def test_a_source_block_shows_the_real_source_and_python_blocks_stay_code():
    html = ChapterRenderer().render("```source\ngradschool.scalar.losses.softmax\n```\n\n"
                                    "```python\nx = 1 < 2\n```\n")
    assert "def softmax(logits: list[Value]) -&gt; list[Value]:" in html
    assert '<code class="language-python">x = 1 &lt; 2\n</code>' in html
    with pytest.raises(LessonError, match="names 'gradschool.scalar.nothing', which does not exist"):
        ChapterRenderer().render("```source\ngradschool.scalar.nothing\n```\n")


@pytest.mark.parametrize("line", ["", "Softmax", "softmax classes", "softmax a=1\nb=2", "two words"])
def test_a_malformed_figure_block_is_refused(line):
    with pytest.raises(LessonError, match="a figure block holds one line"):
        parse_figure(line)


def test_lesson_files_are_checked_when_read(tmp_path):
    for name, text, message in [("notes.md", "# T\n", "named rN_<name>.md"),
                                ("r4_x.md", "no title\n", "starts with its title"),
                                ("r4_x.md", "# T\n\n```figure\nBad Kind\n```\n", "a figure block")]:
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(LessonError, match=re.escape(message)):
            read_lesson(path)


def test_an_unwritten_chapter_is_404_naming_the_written_ones():
    r = client.get("/chapter/99")
    assert r.status_code == 404
    assert ", ".join(map(str, lessons())) in r.json()["detail"]


def test_every_chapter_links_its_notebook_and_exercise_and_they_download():
    from gradschool.exercises import RUNGS, starter_text

    for rung, lesson in lessons().items():
        page = client.get(f"/chapter/{rung}").text
        assert f'href="/download/notebook/{rung}"' in page
        assert (f'href="/download/exercise/{rung}"' in page) == (rung in RUNGS)
        r = client.get(f"/download/notebook/{rung}")
        assert r.status_code == 200 and f'filename="{lesson.name}.ipynb"' in r.headers["content-disposition"]
        assert json.loads(r.text)["metadata"]["gradschool"]["rung"] == rung
        if rung in RUNGS:
            r = client.get(f"/download/exercise/{rung}")
            assert r.status_code == 200 and r.text == starter_text(rung)
    assert client.get("/download/exercise/99").status_code == 404
    assert client.get("/download/notebook/99").status_code == 404
