"""The chapters: lessons (gradschool.lessons) rendered into pages whose figures the engine computes.

Python-level checks of the lesson format and the renderer, each figure API against its library function,
and each chapter in Chromium: its controls driven, the numbers shown checked against the library.
"""

import json
import re
from pathlib import Path

import browser
import pytest
from browser import watched_tab
from fastapi.testclient import TestClient
from live_server import serve
from playwright.sync_api import expect

from gradschool.figures.softmax import softmax_figure
from gradschool.lessons import LessonError, lessons, parse_figure, read_lesson
from gradschool.web.app import create_app
from gradschool.web.chapter import STATIC, ChapterRenderer, chapter_body

browser_context = browser.browser_context  # the shared fixture: offline Chromium, see tests/browser.py
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


# --- chapter 3: softmax ---

def test_softmax_api_is_the_librarys_numbers():
    body = {"logits": [0.0, 0.0, 5.0], "target": 0, "temperature": 1.0}
    r = client.post("/api/figure/softmax", json=body)
    assert r.status_code == 200
    assert r.json() == softmax_figure([0.0, 0.0, 5.0], 0, 1.0)
    assert r.json()["loss"] == pytest.approx(5.0134, abs=1e-4)  # rung 3's printed line
    probs, grads = r.json()["probs"], r.json()["grads"]
    assert grads == pytest.approx([probs[0] - 1, probs[1], probs[2]])  # softmax - one-hot
    for bad, word in [({"logits": [1.0]}, "logits"), ({"logits": [1.0, 2.0], "target": 5}, "target"),
                      ({"logits": [1.0, 2.0], "temperature": 0}, "temperature")]:
        r = client.post("/api/figure/softmax", json=bad)
        assert r.status_code == 422 and word in r.json()["detail"], r.json()


@pytest.fixture(scope="module")
def server():
    with serve(create_app()) as url:
        yield url


@pytest.fixture
def page(browser_context, server, request):
    with watched_tab(browser_context, request.node.name) as tab:
        tab.base = server
        yield tab


def shown_loss(page) -> float:
    text = page.locator("#fig-1 .readout").inner_text()
    return float(re.search(r": (-?[\d.]+)$", text).group(1))


def test_chapter3_softmax_figure_shows_the_librarys_loss_and_keeps_its_state_in_the_link(page):
    page.goto(page.base + "/chapter/3")
    expect(page.locator("#fig-1 .readout")).to_contain_text("cross-entropy of class 0")
    assert shown_loss(page) == pytest.approx(softmax_figure([2, 1, 0.1], 0)["loss"], abs=1e-4)
    logit2 = page.get_by_label("logit 2")
    logit2.focus()
    for _ in range(20):
        page.keyboard.press("ArrowRight")  # 0.1 -> 2.1 in steps of 0.1
    page.get_by_label("the right class").select_option("2")
    want = softmax_figure([2, 1, 2.1], 2)["loss"]
    expect(page.locator("#fig-1 .readout")).to_contain_text(f"{want:.4f}")
    link = page.url
    assert "fig-1.z2=2.1" in link and "fig-1.target=2" in link
    page.goto(page.base + "/")
    page.goto(link)  # the link reproduces the view
    expect(page.locator("#fig-1 .readout")).to_contain_text(f"cross-entropy of class 2: {want:.4f}")
    assert Path(browser.ARTIFACTS).exists()


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
