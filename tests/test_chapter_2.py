"""Chapter 2, layers and the MLP: the lesson's numbers are rung 2's, and its figures in Chromium.

The figures (forward pass, loss landscape, the training loop, two moons) are driven with the mouse and
keyboard and the numbers they show are checked against the library, computed here.
"""

import random
import re
from urllib.parse import urlparse

import browser
from browser import doc_screenshot
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from gradschool.lessons import fenced_blocks, lessons
from gradschool.rungs import r2_mlp
from gradschool.scalar.nn import MLP
from gradschool.web import demos
from gradschool.web.app import create_app
from gradschool.web.training import TinyJob

# the shared fixtures (tests/browser.py): offline Chromium, the real server, a watched tab
browser_context, server, page = browser.browser_context, browser.server, browser.page
CHAPTER_LINE = "chapter 2 of the course: `gradschool serve`, then http://127.0.0.1:8000/chapter/2"


def test_the_lesson_quotes_what_rung_2_prints(capsys):
    r2_mlp.main()
    output = capsys.readouterr().out.splitlines()
    quoted = [line for info, body in fenced_blocks(lessons()[2].text) if info == "text"
              for line in body.splitlines() if line.strip()]
    assert len(quoted) >= 9
    for line in quoted:
        assert line in output, f"the lesson quotes {line!r}, which rung 2 does not print"
    assert output[-1] == CHAPTER_LINE


def test_the_lesson_is_chapter_2_and_ends_with_the_full_pipeline():
    lesson = lessons()[2]
    assert lesson.title == "Layers and the MLP"
    assert [f.kind for f in lesson.figures()] == ["forward", "descent", "training", "moons"]
    pipeline = lesson.text.split("## The full pipeline", 1)[1].split("\n## ", 1)[0]
    steps = re.findall(r"^(\d)\. \*\*", pipeline, flags=re.M)
    assert steps == ["1", "2", "3", "4", "5", "6"]
    assert len(MLP(4, [3, 1]).parameters()) == 19 and "19 parameters" in lesson.text


def test_a_live_learning_rate_has_the_resets_limit_and_a_refusal_pauses():
    client = TestClient(create_app(), base_url="http://127.0.0.1:8000")
    with client.websocket_connect("ws://127.0.0.1:8000/api/train") as ws:
        ws.send_json({"type": "reset", "config": {"task": "tiny", "lr": 3}})
        reset_refused = ws.receive_json()
        ws.send_json({"type": "reset", "config": {"task": "tiny"}})
        assert ws.receive_json()["type"] == "reset"
        ws.send_json({"type": "lr", "lr": 0.5})
        assert ws.receive_json() == {"type": "lr", "lr": 0.5}  # in effect from the next step
        ws.send_json({"type": "play"})
        assert ws.receive_json()["type"] == "step"
        ws.send_json({"type": "lr", "lr": 3})
        while (m := ws.receive_json())["type"] == "step":
            pass  # the steps already on their way
        assert m["type"] == "error"
        [session] = client.app.state.sessions
        assert not session.playing() and session.job.lr == 0.5  # paused, on the rate the page still shows
    assert reset_refused["detail"] == "config.lr must be at most 2.0"
    assert m["detail"].startswith("lr must be at most 2.0; training keeps the learning rate 0.5")


# --- in Chromium ---

def figure(page, kind: str):
    return page.locator(f'.figure[data-figure="{kind}"]')


def test_chapter_page_shows_the_lesson_and_where_to_run_it(page):
    page.goto(page.base + "/chapter/2")
    expect(page.locator("h1")).to_have_text("Layers and the MLP")
    expect(page).to_have_title("2 · Layers and the MLP · gradschool")
    expect(page.locator(".run-it")).to_contain_text("gradschool rung 2")
    expect(page.locator("details.code").first).to_contain_text("class Neuron(Module)")
    expect(page.locator('a[rel="prev"]')).to_have_attribute("href", "/chapter/1")
    expect(figure(page, "training").locator("tbody tr")).to_have_count(4)


def test_forward_pass_lights_every_layer(page):
    page.goto(page.base + "/chapter/2")
    fig = figure(page, "forward")
    fig_id = fig.get_attribute("id")
    page.goto(page.base + f"/chapter/2#{fig_id}.x1=1&{fig_id}.x2=-2&{fig_id}.seed=42")
    page.reload()
    expect(fig.locator('[data-node="1-0"] .value')).to_have_text("?")
    fig.get_by_role("button", name="Run forward pass").click()
    want = demos.forward_pass([1.0, -2.0], 42)
    expect(fig.locator(".prediction")).to_have_text(f"{want['layers'][2][0]:.4f}")
    for i, v in enumerate(want["layers"][1]):
        expect(fig.locator(f'[data-node="1-{i}"] .value')).to_have_text(f"{v:.3f}")
    assert fig.locator(".node.lit").count() == 6
    fig.get_by_label("seed").fill("7")
    fig.get_by_label("x2").fill("0.5")
    fig.get_by_role("button", name="Run forward pass").click()
    want = demos.forward_pass([1.0, 0.5], 7)
    expect(fig.locator(".prediction")).to_have_text(f"{want['layers'][2][0]:.4f}")
    assert f"{fig_id}.seed=7" in page.url


def test_loss_landscape_steps_and_diverges(page):
    page.goto(page.base + "/chapter/2")
    fig = figure(page, "descent")
    readout, status = fig.locator(".readout"), fig.locator(".status")
    step = fig.get_by_role("button", name="Step")
    expect(readout).to_have_text("w = 3.00 · loss = 1.00")
    expect(fig.locator("output")).to_have_text("0.10")
    step.click()
    expect(readout).to_have_text("w = 2.80 · loss = 0.64")  # 3 - 0.1 * 2(3 - 2)
    step.click()
    expect(readout).to_have_text("w = 2.64 · loss = 0.41")
    fig.get_by_label("learning rate").fill("1.1")
    fig.get_by_role("button", name="Reset").click()
    expect(readout).to_have_text("w = 3.00 · loss = 1.00")
    step.click()
    expect(status).to_contain_text("learning rate is too high")
    expect(readout).to_have_text("w = 0.80 · loss = 1.44")  # 3 - 1.1 * 2 = 0.8: overshoot
    fig.get_by_label("learning rate").fill("1.2")  # each step now multiplies the distance to w = 2 by 1.4
    for _ in range(40):
        before = readout.inner_text()
        step.click()
        changed = ("([f, b]) => f.querySelector('button').disabled"
                   " || f.querySelector('.readout').textContent !== b")
        page.wait_for_function(changed, arg=[fig.element_handle(), before])
        if step.is_disabled():
            break
    expect(status).to_contain_text("w left the chart")


def tiny_first_loss(seed: int) -> float:
    model = MLP(4, [3, 1], rng=random.Random(seed))
    xs = [[2.0, 3.0, -1.0, 1.0], [3.0, -1.0, 0.5, 1.0], [0.5, 1.0, 1.0, 1.0], [1.0, 1.0, -1.0, 1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    return sum((model(x) - y) ** 2 for x, y in zip(xs, ys, strict=True)).data


def open_training(page, hash_state: str = ""):
    """Chapter 2 with its training figure ready (the websocket answered the first reset)."""
    page.goto(page.base + "/chapter/2")
    fig = figure(page, "training")
    if hash_state:
        fig_id = fig.get_attribute("id")
        page.goto(page.base + f"/chapter/2#{fig_id}.{hash_state}")
        page.reload()
    expect(fig.get_by_role("button", name="Step")).to_be_enabled()
    return fig


def test_training_step_play_pause_and_moons(page):
    fig = open_training(page, "seed=5")
    steps, loss = fig.locator(".steps"), fig.locator(".loss")
    expect(fig.locator("tbody tr")).to_have_count(4)
    fig.get_by_role("button", name="Step").click()
    expect(steps).to_have_text("1")
    expect(loss).to_have_text(f"{tiny_first_loss(5):.4f}")
    fig.get_by_role("button", name="Play").click()
    expect(steps).to_have_text(re.compile(r"^([5-9]|\d\d+)$"))
    fig.get_by_role("button", name="Pause").click()
    expect(fig.locator(".status")).to_contain_text("Paused at step")
    expect(fig.locator("svg path.curve")).to_have_count(1)
    moons = figure(page, "moons")
    moons.get_by_role("button", name="Step").click()
    expect(moons.locator(".steps")).to_have_text("1")
    expect(moons.locator(".accuracy")).to_have_text(re.compile(r"^\d+%$"))
    moons.get_by_role("button", name="Play").click()
    expect(moons.locator(".steps")).to_have_text(re.compile(r"^([3-9]\d|\d{3,})$"), timeout=20_000)
    moons.get_by_role("button", name="Pause").click()
    expect(moons.locator(".status")).to_contain_text("Paused at step")
    doc_screenshot(page, "chapter-2", at=moons)
    moons.get_by_label("hidden layers").fill("4,x")
    moons.get_by_role("button", name="Reset").click()
    expect(moons.locator(".status")).to_contain_text("whole numbers")
    expect(moons.get_by_role("button", name="Play")).to_be_disabled()  # nothing trains on what is not shown


def test_a_refused_learning_rate_stays_named_and_nothing_trains_on_another(page):
    fig = open_training(page)
    lr, status, steps = fig.get_by_label("learning rate"), fig.locator(".status"), fig.locator(".steps")
    step, play = fig.get_by_role("button", name="Step"), fig.get_by_role("button", name="Play")
    step.click()
    expect(steps).to_have_text("1")
    lr.fill("3")
    lr.press("Tab")  # a live change: refused by the same limit as a reset
    refused = re.compile(r"^lr must be at most 2\.0; training keeps the learning rate 0\.01")
    expect(status).to_have_text(refused)
    expect(status).to_have_class(re.compile(r"\bbad\b"))
    expect(lr).to_have_attribute("aria-invalid", "true")
    expect(step).to_be_disabled()
    expect(play).to_be_disabled()
    lr.fill("0.5")
    lr.press("Enter")  # the new rate is sent, and accepted, before Step can run
    step.click()
    expect(steps).to_have_text("2")
    expect(lr).not_to_have_attribute("aria-invalid", "true")
    step.click()
    expect(steps).to_have_text("3")
    job = TinyJob(lr=0.01, seed=1337)  # what the page must have done: one step at 0.01, then 0.5
    job.step()
    job.lr = 0.5
    job.step()
    expect(fig.locator(".loss")).to_have_text(f"{job.step()['loss']:.4f}")

    lr.fill("2.5")
    fig.get_by_role("button", name="Reset").click()  # a reset with the shown rate: the same limit, same words
    expect(status).to_have_text("lr must be at most 2.0")  # no message path such as "config.lr"
    expect(play).to_be_disabled()
    expect(steps).to_have_text("3")  # the refused reset left the job as it was, and training off
    lr.fill("0.2")
    lr.press("Tab")  # after a refused reset, fixing the field resets with it
    expect(steps).to_have_text("0")
    step.click()
    step.click()
    expect(steps).to_have_text("2")
    job = TinyJob(lr=0.2, seed=1337)
    job.step()
    expect(fig.locator(".loss")).to_have_text(f"{job.step()['loss']:.4f}")


def test_the_status_never_goes_stale(page):
    fig = open_training(page)
    status = fig.locator(".status")
    fig.get_by_role("button", name="Step").click()
    fig.get_by_role("button", name="Pause").click()
    expect(status).to_have_text("Paused at step 1.")
    fig.get_by_role("button", name="Step").click()
    expect(fig.locator(".steps")).to_have_text("2")
    expect(status).to_be_empty()  # no longer "Paused at step 1"


def test_an_empty_chart_says_so_instead_of_a_tiny_axis(page):
    fig = open_training(page)
    chart = fig.locator("svg.chart")
    expect(chart).to_contain_text("no steps yet")
    assert "e-" not in chart.text_content()
    fig.get_by_role("button", name="Step").click()
    top = f"{tiny_first_loss(1337):.2f}"
    expect(chart.locator("text.top")).to_have_text(top)  # the axis is the loss's own scale
    expect(chart).not_to_contain_text("no steps yet")


def test_old_demo_urls_redirect_to_their_chapter_figure(page):
    for old, kind in [("/forward", "forward"), ("/loss", "descent"), ("/training", "training")]:
        page.goto(page.base + old)
        assert urlparse(page.url).path == "/chapter/2"
        fig = figure(page, kind)
        expect(fig).to_be_in_viewport()
