"""The course pages in a real browser (Debian's Chromium driven by Playwright) against the real server.

Every page is loaded offline (any non-loopback request fails the test), its controls are driven with the mouse
and keyboard, and the numbers it shows are checked. Screenshots go to test-artifacts/; set
GRADSCHOOL_UPDATE_SCREENSHOTS=1 to also refresh the ones in docs/screenshots/.
"""

import math
import os
import random
import re
from urllib.parse import parse_qs, urlparse

import browser
import pytest
from browser import DOCS, watched_tab
from live_server import serve
from playwright.sync_api import expect

from gradschool.scalar.nn import MLP
from gradschool.web import demos
from gradschool.web.app import create_app

browser_context = browser.browser_context  # the shared fixture: offline Chromium, see tests/browser.py


@pytest.fixture(scope="module")
def server():
    with serve(create_app()) as url:
        yield url


@pytest.fixture
def page(browser_context, server, request):
    with watched_tab(browser_context, request.node.name) as tab:
        tab.base = server
        yield tab


def doc_shot(tab, name: str, figure: int = 0, whole_page: bool = False) -> None:
    """Refresh docs/screenshots/NAME.png (a demo figure, as a small 128-colour PNG) when asked to."""
    if not os.environ.get("GRADSCHOOL_UPDATE_SCREENSHOTS"):
        return
    from PIL import Image

    DOCS.mkdir(parents=True, exist_ok=True)
    path = DOCS / f"{name}.png"
    if whole_page:
        tab.screenshot(path=str(path))
    else:
        tab.locator(".figure").nth(figure).screenshot(path=str(path))
    Image.open(path).convert("RGB").quantize(colors=128).save(path, optimize=True)


def test_home_page_is_the_ladder_of_rungs(page):
    from gradschool import rungs
    from gradschool.lessons import lessons
    from gradschool.web.pages import DEMOS

    page.goto(page.base + "/")
    items = page.locator("main ol.ladder > li")
    expect(items).to_have_count(len(rungs.RUNGS))
    for n in rungs.RUNGS:
        expect(items.nth(n - 1)).to_contain_text(f"gradschool rung {n}")
    for n, lesson in lessons().items():
        expect(page.locator("main").get_by_role("link", name=f"{n} · {lesson.title}")).to_be_visible()
    expect(page.locator("header nav a")).to_have_count(1 + len(lessons()) + len(DEMOS))


def test_neuron_sliders(page):
    page.goto(page.base + "/neuron")
    expect(page.locator("#raw")).to_have_text("0.3400")  # 0.5*0.5 + (-0.3)*(-0.3) + 0
    expect(page.locator("#out")).to_have_text(f"{math.tanh(0.34):.4f}")
    page.locator("#w1").fill("1.5")
    expect(page.locator("#raw")).to_have_text("0.8400")
    expect(page.locator("#out")).to_have_text(f"{math.tanh(0.84):.4f}")
    expect(page.locator("#g-w1")).to_have_text(f"{(1 - math.tanh(0.84) ** 2) * 0.5:.4f}")  # x1 * tanh'(raw)
    page.locator("#b").focus()
    page.keyboard.press("ArrowRight")  # keyboard operable: b goes up one step, 0.01
    expect(page.locator("#raw")).to_have_text("0.8500")
    assert "w1=1.5" in page.url and "b=0.01" in page.url
    page.goto(page.base + "/neuron#w1=-1&w2=2&b=0.5")  # a link reproduces the view
    page.reload()
    expect(page.locator("#raw")).to_have_text(f"{-0.5 - 0.6 + 0.5:.4f}")
    expect(page.locator("#code")).to_contain_text("def neuron")
    doc_shot(page, "1-neuron")


def test_forward_pass_lights_every_layer(page):
    page.goto(page.base + "/forward#x1=1&x2=-2&seed=42")
    expect(page.locator("#n1-0 .value")).to_have_text("?")
    page.get_by_role("button", name="Run forward pass").click()
    want = demos.forward_pass([1.0, -2.0], 42)
    expect(page.locator("#prediction")).to_have_text(f"{want['layers'][2][0]:.4f}")
    for i, v in enumerate(want["layers"][1]):
        expect(page.locator(f"#n1-{i} .value")).to_have_text(f"{v:.3f}")
    assert page.locator(".node.lit").count() == 6
    doc_shot(page, "2-forward")


def test_loss_landscape_steps_and_diverges(page):
    page.goto(page.base + "/loss")
    expect(page.locator("#readout")).to_have_text("w = 3.00 · loss = 1.00")
    expect(page.locator("#lr-val")).to_have_text("0.10")
    page.get_by_role("button", name="Step").click()
    expect(page.locator("#readout")).to_have_text("w = 2.80 · loss = 0.64")  # 3 - 0.1 * 2(3 - 2)
    page.get_by_role("button", name="Step").click()
    expect(page.locator("#readout")).to_have_text("w = 2.64 · loss = 0.41")
    doc_shot(page, "3-loss")
    page.locator("#lr").fill("1.1")
    page.get_by_role("button", name="Reset").click()
    expect(page.locator("#readout")).to_have_text("w = 3.00 · loss = 1.00")
    page.get_by_role("button", name="Step").click()
    expect(page.locator("#status")).to_contain_text("learning rate is too high")
    expect(page.locator("#readout")).to_have_text("w = 0.80 · loss = 1.44")  # 3 - 1.1 * 2 = 0.8: overshoot
    page.locator("#lr").fill("1.2")  # each step now multiplies the distance to w = 2 by 1.4
    for _ in range(40):
        before = page.locator("#readout").inner_text()
        page.locator("#step").click()
        page.wait_for_function("b => document.getElementById('step').disabled || "
                               "document.getElementById('readout').textContent !== b", arg=before)
        if page.locator("#step").is_disabled():
            break
    expect(page.locator("#status")).to_contain_text("w left the chart")


def test_derivative_drag_and_keyboard(page):
    page.goto(page.base + "/derivative")
    expect(page.locator("#readout")).to_have_text("x = 1.00  ·  f(x) = 1.00  ·  f'(x) = 2.00")
    page.locator("#plot").scroll_into_view_if_needed()
    handle = page.locator("#handle").bounding_box()
    box = page.locator("#plot").bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    # The mouse ended a fifth of the way across the plot: x = -3 + (0.2 * 560 - 30) / 530 * 6, about -2.07.
    expect(page.locator("#readout")).to_contain_text(re.compile(r"x = -2\.(0\d|10)  "))
    x = float(re.search(r"x = (-?[\d.]+)", page.locator("#readout").inner_text()).group(1))
    expect(page.locator("#readout")).to_contain_text(f"f'(x) = {2 * x:.2f}")
    doc_shot(page, "4-derivative")
    page.locator("#x").focus()
    page.keyboard.press("End")
    expect(page.locator("#readout")).to_have_text("x = 3.00  ·  f(x) = 9.00  ·  f'(x) = 6.00")


def test_expression_graph_forward_and_backprop(page):
    page.goto(page.base + "/graph")
    page.get_by_role("button", name="Forward").click()
    expect(page.locator("#result")).to_have_text("e = -0.9993")
    page.get_by_role("button", name="Backprop").click()
    expect(page.locator("#result")).to_have_text("e = -0.9993, a.grad = -0.0027, b.grad = 0.0027")
    expect(page.locator('[data-label="a"] .grad')).to_have_text("grad  -0.0027")
    expect(page.locator("#trace li")).to_have_count(5)
    chain_rule = "a.grad = (1.0000 × 0.0013) + (-3.0000 × 0.0013) = -0.0027"  # via a*b + a, and via a*b
    expect(page.locator("#trace")).to_contain_text(chain_rule)
    doc_shot(page, "5-graph")
    page.get_by_label("expression", exact=True).fill("x*x + 1")
    page.get_by_label("variables", exact=True).fill("x = 3")
    page.get_by_label("variables", exact=True).press("Enter")
    expect(page.locator("#result")).to_have_text("e = 10.0000")
    page.get_by_role("button", name="Backprop").click()
    expect(page.locator("#result")).to_contain_text("x.grad = 6.0000")
    assert parse_qs(urlparse(page.url).fragment) == {"expr": ["x*x + 1"], "vars": ["x = 3"]}
    page.expected_console.append("the server responded with a status of 422")
    page.get_by_label("expression", exact=True).fill("x +* 2")
    page.get_by_role("button", name="Forward").click()
    expect(page.locator("#error")).to_contain_text("expected a number")
    expect(page.locator("#caret")).to_have_text("x +* 2\n   ^")


def tiny_first_loss(seed: int) -> float:
    model = MLP(4, [3, 1], rng=random.Random(seed))
    xs = [[2.0, 3.0, -1.0, 1.0], [3.0, -1.0, 0.5, 1.0], [0.5, 1.0, 1.0, 1.0], [1.0, 1.0, -1.0, 1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    return sum((model(x) - y) ** 2 for x, y in zip(xs, ys, strict=True)).data


def test_training_step_play_pause_and_moons(page):
    page.goto(page.base + "/training#seed=5")
    expect(page.locator("#tiny-table tr")).to_have_count(4)
    page.locator("#tiny-step").click()
    expect(page.locator("#tiny-steps")).to_have_text("1")
    expect(page.locator("#tiny-loss")).to_have_text(f"{tiny_first_loss(5):.4f}")
    page.locator("#tiny-play").click()
    expect(page.locator("#tiny-steps")).to_have_text(re.compile(r"^([5-9]|\d\d+)$"))
    page.locator("#tiny-pause").click()
    expect(page.locator("#tiny-status")).to_contain_text("Paused at step")
    expect(page.locator("#tiny-chart path.curve")).to_have_count(1)
    page.locator("#moons-step").click()
    expect(page.locator("#moons-steps")).to_have_text("1")
    expect(page.locator("#moons-accuracy")).to_have_text(re.compile(r"^\d+%$"))
    page.locator("#moons-play").click()
    expect(page.locator("#moons-steps")).to_have_text(re.compile(r"^([3-9]\d|\d{3,})$"), timeout=20_000)
    page.locator("#moons-pause").click()
    expect(page.locator("#moons-status")).to_contain_text("Paused at step")
    doc_shot(page, "6-training")
    doc_shot(page, "6-moons", figure=1)
    page.locator("#moons-hidden").fill("4,x")
    page.locator("#moons-reset").click()
    expect(page.locator("#moons-status")).to_contain_text("whole numbers")


# Each page's sign that its script ran and reached the server under the Content-Security-Policy.
PAGE_WORKS = {"/": "header nav a", "/neuron": "#code", "/forward": "#code", "/loss": "#code",
              "/derivative": "#code", "/graph": "#code", "/training": "#tiny-table tr"}
WATCH_CSP = ("window.cspViolations = [];"
             "document.addEventListener('securitypolicyviolation',"
             "  e => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));")


def test_every_page_works_under_the_content_security_policy(page):
    page.add_init_script(WATCH_CSP)
    for path, sign in PAGE_WORKS.items():
        response = page.goto(page.base + path)
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        expect(page.locator(sign).first).not_to_be_empty()
        if path == "/training":
            expect(page.locator("#tiny-table tr")).to_have_count(4)  # the websocket answered the reset
        assert page.evaluate("window.cspViolations") == [], path
    # The watch does see a violation: an inline style attribute is refused.
    page.expected_console.append("Content Security Policy")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    page.wait_for_function("window.cspViolations.length > 0")
    assert "style-src" in page.evaluate("window.cspViolations")[0]
