"""Chapter 1, the neuron and the chain rule: the lesson's numbers are rung 1's, and its figures in Chromium.

The figures (neuron, tanh, derivative, expression graph) are driven with the mouse and keyboard and the
numbers they show are checked against the library, computed here.
"""

import math
import re
from urllib.parse import urlparse

import browser
import pytest
from browser import doc_screenshot
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from gradschool.figures.tanh import tanh_and_slope, tanh_figure
from gradschool.lessons import fenced_blocks, lessons
from gradschool.rungs import r1_neuron
from gradschool.web import demos
from gradschool.web.app import create_app

# the shared fixtures (tests/browser.py): offline Chromium, the real server, a watched tab
browser_context, server, page = browser.browser_context, browser.server, browser.page
client = TestClient(create_app(), base_url="http://127.0.0.1:8000")
CHAPTER_LINE = "chapter 1 of the course: `gradschool serve`, then http://127.0.0.1:8000/chapter/1"


def printed_lines(rung: int) -> list[str]:
    """The lines of the lesson's ```text blocks: what it says the rung program prints."""
    return [line for info, body in fenced_blocks(lessons()[rung].text) if info == "text"
            for line in body.splitlines() if line.strip()]


def test_the_lesson_quotes_what_rung_1_prints(capsys):
    r1_neuron.main()
    output = capsys.readouterr().out.splitlines()
    quoted = printed_lines(1)
    assert len(quoted) >= 9
    for line in quoted:
        assert line in output, f"the lesson quotes {line!r}, which rung 1 does not print"
    assert output[-1] == CHAPTER_LINE


def test_the_lesson_is_chapter_1_with_its_figures():
    lesson = lessons()[1]
    assert lesson.title == "The neuron and the chain rule"
    assert [f.kind for f in lesson.figures()] == ["neuron", "tanh", "derivative", "graph"]
    text = lesson.text
    for dataset_row in ("[2.0, 3.0, -1.0, 1.0]", "[3.0, -1.0, 0.5, 1.0]", "ys = [1.0, -1.0, -1.0, 1.0]"):
        assert dataset_row in text  # the first seed's motivation: its xs and ys


def test_tanh_api_is_the_engines_numbers():
    r = client.post("/api/figure/tanh", json={"x": 0.34})
    assert r.status_code == 200
    assert r.json() == tanh_figure(0.34)
    assert r.json()["slope"] == pytest.approx(1 - math.tanh(0.34) ** 2, abs=1e-12)
    for x, t, slope in r.json()["curve"]:
        assert (t, slope) == pytest.approx((math.tanh(x), 1 - math.tanh(x) ** 2), abs=1e-12)
    r = client.post("/api/figure/tanh", json={"x": 11})
    assert r.status_code == 422 and r.json()["detail"] == "x must be at most 10.0"


# --- in Chromium ---

def figure(page, kind: str):
    return page.locator(f'.figure[data-figure="{kind}"]')


def test_chapter_page_shows_the_lesson_and_where_to_run_it(page):
    page.goto(page.base + "/chapter/1")
    expect(page.locator("h1")).to_have_text("The neuron and the chain rule")
    expect(page.locator(".kicker").first).to_have_text("Chapter 1")
    expect(page).to_have_title("1 · The neuron and the chain rule · gradschool")
    here = page.locator('header nav a[aria-current="page"]')
    expect(here).to_have_text("1 · The neuron and the chain rule")
    expect(page.locator(".run-it")).to_contain_text("gradschool rung 1")
    expect(page.locator("details.code").first).to_contain_text("def numerical_gradient")
    expect(figure(page, "neuron").locator(".raw")).to_have_text("0.3400")


def test_neuron_sliders(page):
    page.goto(page.base + "/chapter/1")
    fig = figure(page, "neuron")
    expect(fig.locator(".raw")).to_have_text("0.3400")  # 0.5*0.5 + (-0.3)*(-0.3) + 0
    expect(fig.locator(".out")).to_have_text(f"{math.tanh(0.34):.4f}")
    fig.get_by_label("w1").fill("1.5")
    expect(fig.locator(".raw")).to_have_text("0.8400")
    expect(fig.locator(".out")).to_have_text(f"{math.tanh(0.84):.4f}")
    slope = (1 - math.tanh(0.84) ** 2) * 0.5  # x1 * tanh'(raw)
    expect(fig.locator(".slope-w1")).to_have_text(f"{slope:.4f}")
    fig.get_by_label("b", exact=True).focus()
    page.keyboard.press("ArrowRight")  # keyboard operable: b goes up one step, 0.01
    expect(fig.locator(".raw")).to_have_text("0.8500")
    assert "fig-1.w1=1.5" in page.url and "fig-1.b=0.01" in page.url
    page.goto(page.base + "/chapter/1#fig-1.w1=-1&fig-1.w2=2&fig-1.b=0.5")  # a link reproduces the view
    page.reload()
    expect(fig.locator(".raw")).to_have_text(f"{-0.5 - 0.6 + 0.5:.4f}")
    want = demos.neuron(-1, 2, 0.5)
    expect(fig.locator(".slope-w2")).to_have_text(f"{want['grads']['w2']:.4f}")


def test_tanh_figure_marks_the_operating_point_and_its_slope(page):
    page.goto(page.base + "/chapter/1")
    fig = figure(page, "tanh")
    t, slope = tanh_and_slope(0.34)
    expect(fig.locator(".t")).to_have_text(f"{t:.4f}")
    expect(fig.locator(".slope")).to_have_text(f"{slope:.4f}")
    slider = fig.get_by_label("raw sum x")
    slider.focus()
    page.keyboard.press("PageUp")  # a big step of the keyboard, twice: towards saturation
    page.keyboard.press("PageUp")
    page.keyboard.press("ArrowRight")
    x = float(slider.input_value())
    assert x > 1.5
    t, slope = tanh_and_slope(x)
    expect(fig.locator(".slope")).to_have_text(f"{slope:.4f}")  # saturating: the slope is small
    expect(fig.locator(".t")).to_have_text(f"{t:.4f}")
    assert slope < 0.2
    fig_id = fig.get_attribute("id")
    assert f"{fig_id}.x={slider.input_value()}" in page.url
    expect(fig.locator("svg path.curve")).to_have_count(2)  # tanh and its slope


def test_derivative_drag_and_keyboard(page):
    page.goto(page.base + "/chapter/1")
    fig = figure(page, "derivative")
    readout = fig.locator(".readout")
    expect(readout).to_have_text("x = 1.00  ·  f(x) = 1.00  ·  f'(x) = 2.00")
    plot = fig.locator("svg")
    plot.scroll_into_view_if_needed()
    handle = fig.locator(".handle").bounding_box()
    box = plot.bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    # The mouse ended a fifth of the way across the plot: x = -3 + (0.2 * 560 - 30) / 530 * 6, about -2.07.
    expect(readout).to_contain_text(re.compile(r"x = -2\.(0\d|10)  "))
    x = float(re.search(r"x = (-?[\d.]+)", readout.inner_text()).group(1))
    expect(readout).to_contain_text(f"f'(x) = {2 * x:.2f}")
    fig.get_by_label("x", exact=True).focus()
    page.keyboard.press("End")
    expect(readout).to_have_text("x = 3.00  ·  f(x) = 9.00  ·  f'(x) = 6.00")


def test_expression_graph_forward_and_backprop(page):
    page.goto(page.base + "/chapter/1")
    fig = figure(page, "graph")
    result, trace = fig.locator(".result"), fig.locator(".trace")
    fig.get_by_role("button", name="Forward").click()
    expect(result).to_have_text("e = -0.9993")
    fig.get_by_role("button", name="Backprop", exact=True).click()
    expect(result).to_have_text("e = -0.9993, a.grad = -0.0027, b.grad = 0.0027")
    expect(fig.locator('[data-label="a"] .grad')).to_have_text("grad  -0.0027")
    expect(trace.locator("li")).to_have_count(5)
    chain_rule = "a.grad = (1.0000 × 0.0013) + (-3.0000 × 0.0013) = -0.0027"  # via a*b + a, and via a*b
    expect(trace).to_contain_text(chain_rule)
    doc_screenshot(page, "chapter-1", at=fig)
    fig.get_by_label("expression", exact=True).fill("x*x + 1")
    fig.get_by_label("variables", exact=True).fill("x = 3")
    fig.get_by_label("variables", exact=True).press("Enter")
    expect(result).to_have_text("e = 10.0000")
    fig.get_by_role("button", name="Backprop", exact=True).click()
    expect(result).to_contain_text("x.grad = 6.0000")
    fig_id = fig.get_attribute("id")
    assert f"{fig_id}.expr=x*x+%2B+1" in page.url and f"{fig_id}.vars=x+%3D+3" in page.url
    page.expected_console.append("the server responded with a status of 422")
    fig.get_by_label("expression", exact=True).fill("x +* 2")
    fig.get_by_role("button", name="Forward").click()
    expect(fig.locator(".status.bad")).to_contain_text("expected a number")
    expect(fig.locator(".caret")).to_have_text("x +* 2\n   ^")


def test_backprop_steps_one_node_at_a_time(page):
    page.goto(page.base + "/chapter/1")
    fig = figure(page, "graph")
    want = demos.expression_graph("tanh(a*b + a)", {"a": 2.0, "b": -3.0})
    fig.get_by_role("button", name="Forward").click()
    expect(fig.locator(".result")).to_have_text("e = -0.9993")
    one = fig.get_by_role("button", name="Backprop one node")
    for done, node_id in enumerate(want["backward_order"], start=1):
        one.click()
        expect(fig.locator(".trace li")).to_have_count(done)
        node = want["nodes"][node_id]
        expect(fig.locator(f'[data-node="{node_id}"] .grad')).to_have_text(f"grad  {node['grad']:.4f}")
        expect(fig.locator(".node.back")).to_have_count(done)  # only the nodes reached so far
    expect(one).to_be_disabled()
    expect(fig.locator(".result")).to_have_text("e = -0.9993, a.grad = -0.0027, b.grad = 0.0027")


def test_a_graph_of_constants_names_them_and_leaves_no_dangling_comma(page):
    page.goto(page.base + "/chapter/1")
    fig = figure(page, "graph")
    fig.get_by_label("expression", exact=True).fill("2^3^2")
    fig.get_by_label("variables", exact=True).fill("")
    fig.get_by_role("button", name="Forward").click()
    expect(fig.locator(".result")).to_have_text("e = 512.0000")  # 2^(3^2), right-associative
    fig.get_by_role("button", name="Backprop", exact=True).click()
    expect(fig.locator(".trace li")).to_have_count(2)
    want = demos.expression_graph("2^3^2", {})["nodes"][0]["grad"]  # d(2^9)/d2 = 9 * 2^8
    expect(fig.locator(".trace")).to_contain_text(f"grad of constant 2 = (2304.0000 × 1.0000) = {want:.4f}")
    assert ".grad" not in fig.locator(".trace li").nth(1).inner_text()
    expect(fig.locator(".result")).to_have_text("e = 512.0000")


@pytest.mark.parametrize(("variables", "words"), [
    ("a = 200, b = 1", "variable 'a' must be at most 100"),
    ("a = 1.2.3", 'variable a: "1.2.3" is not a number'),
    ("a: 2", 'cannot read "a: 2"; write variables like a = 2, b = -3'),
    ("a = 2, __class__ = 1", 'cannot read "__class__ = 1"'),
    (", ".join(f"{v} = 1" for v in "abcdefghi"), "variables may have at most 8 items"),
])
def test_bad_variables_get_a_plain_message_not_a_validation_path(page, variables, words):
    page.goto(page.base + "/chapter/1")
    page.expected_console.append("the server responded with a status of 422")
    fig = figure(page, "graph")
    fig.get_by_label("expression", exact=True).fill("a")
    fig.get_by_label("variables", exact=True).fill(variables)
    fig.get_by_role("button", name="Forward").click()
    error = fig.locator(".status.bad")
    expect(error).to_contain_text(words)
    assert "Input should" not in error.inner_text() and "variables." not in error.inner_text()


def test_the_expression_input_fits_its_panel_at_400_pixels(page):
    page.set_viewport_size({"width": 400, "height": 800})
    page.goto(page.base + "/chapter/1")
    fig = figure(page, "graph")
    panel = fig.bounding_box()
    for label in ("expression", "variables"):
        field = fig.get_by_label(label, exact=True).bounding_box()
        assert panel["x"] <= field["x"] and field["x"] + field["width"] <= panel["x"] + panel["width"], label
    assert fig.evaluate("e => e.scrollWidth <= e.clientWidth")  # nothing in the figure sticks out


def test_old_demo_urls_redirect_to_their_chapter_figure(page):
    for old, kind in [("/neuron", "neuron"), ("/derivative", "derivative"), ("/graph", "graph")]:
        response = client.get(old, follow_redirects=False)
        assert response.status_code == 308
        path, fig_id = response.headers["location"].split("#")
        assert path == "/chapter/1"
        page.goto(page.base + old)
        assert urlparse(page.url).path == "/chapter/1"
        expect(page.locator(f"#{fig_id}")).to_have_attribute("data-figure", kind)
        expect(page.locator(f"#{fig_id}")).to_be_in_viewport()  # the browser went to the figure's anchor
