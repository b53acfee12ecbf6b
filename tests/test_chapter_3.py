"""Chapter 3, learning well: the softmax figure and the spirals trained live, against rung 3's own numbers.

The lesson's quoted numbers are checked against what `gradschool rung 3` prints; the figures' APIs against
the library; and the chapter in Chromium, its controls driven and the numbers shown checked against the
library computed here. GRADSCHOOL_UPDATE_SCREENSHOTS=1 also refreshes docs/screenshots/chapter-3.png.
"""

import contextlib
import io
import os
import re
from types import SimpleNamespace

import browser
import numpy as np
import pytest
from browser import DOCS
from fastapi.testclient import TestClient
from lesson_code import run_python_blocks
from playwright.sync_api import expect

from gradschool.figures.softmax import softmax_figure
from gradschool.figures.spirals import SpiralsTraining, forward
from gradschool.lessons import fenced_blocks, lesson
from gradschool.rungs import r3_learning_well
from gradschool.web.app import create_app

# the shared fixtures (tests/browser.py): offline Chromium, the real server, a watched tab
browser_context, server, page = browser.browser_context, browser.server, browser.page
client = TestClient(create_app(), base_url="http://127.0.0.1:8000")
ORIGIN = {"origin": "http://127.0.0.1:8000"}


@pytest.fixture(scope="module")
def rung3_printed() -> str:
    """What `gradschool rung 3` prints."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        r3_learning_well.main()
    return out.getvalue()


@pytest.fixture(scope="module")
def trained() -> SpiralsTraining:
    """The live figure's job with rung 3's settings, run to its end."""
    run = SpiralsTraining(lr=0.5, decay=True, batch_size=16, steps=300, seed=1)
    while not run.done:
        run.step()
    return run


def squeeze(text: str) -> str:
    return " ".join(text.split())


# --- the lesson and the rung ---

def test_rung3_ends_by_naming_its_chapter(rung3_printed):
    assert rung3_printed.splitlines()[-1] == ("chapter 3 of the course: `gradschool serve`, then "
                                              "http://127.0.0.1:8000/chapter/3")


def test_the_lessons_quoted_output_is_what_rung3_prints(rung3_printed):
    text = lesson(3).text
    quoted = [body for info, body in fenced_blocks(text) if info == "text"]
    assert len(quoted) >= 2
    for block in quoted:
        assert squeeze(block) in squeeze(rung3_printed), block
    for number in ["[0.659, 0.242, 0.099]", "loss 5.0134", "0.9934", "0.0087"]:
        assert number in text and number in rung3_printed, number


def test_the_live_figure_with_rung3s_settings_ends_on_rung3s_numbers(trained, rung3_printed):
    shown = trained.progress()
    for name, data, key in [("train", trained.train_set, "train"), ("val", trained.val_set, "val")]:
        loss, accuracy = r3_learning_well.evaluate(trained.model, data)  # the scalar engine's own evaluation
        assert shown[f"{key}_loss"] == pytest.approx(loss, abs=1e-12)
        assert shown[f"{key}_acc"] == accuracy
        printed = re.search(rf"^{name}\s+loss ([\d.]+) accuracy (\d+)%$", rung3_printed, re.M)
        assert f"{loss:.4f}" == printed.group(1) and f"{accuracy:.0%}" == printed.group(2) + "%"
    assert shown["step"] == 300 and shown["done"]
    assert shown["lrs"][0] == 0.5 and shown["lrs"][-1] == pytest.approx(0.5 * (1 - 0.9 * 299 / 300))


def test_the_lessons_claims_about_batch_size_and_decay():
    def final(**settings) -> SpiralsTraining:
        run = SpiralsTraining(**settings)
        while not run.done:
            run.step()
        return run

    stuck = final(batch_size=1)  # one point a step at 0.5: the network never gets off the ground
    answers = forward(stuck.model, np.array(stuck.train_set[0])).argmax(axis=1)
    assert stuck.progress()["val_loss"] > 1.0 and len(set(answers)) == 1  # the same answer for every point
    hidden = forward(SimpleNamespace(layers=stuck.model.layers[:2]), np.array(stuck.train_set[0]))
    assert hidden.shape[1] == 16 and (hidden == 0).all()  # every ReLU of the second layer is dead
    assert final(batch_size=1, lr=0.1).progress()["val_loss"] < 0.8  # a lower rate learns
    with_decay, without = final(lr=1.0).progress(), final(lr=1.0, decay=False).progress()
    assert without["val_loss"] > 2 * with_decay["val_loss"]


def test_the_lessons_python_prints_what_its_comments_say():
    printed, quoted = run_python_blocks(lesson(3).text)
    assert quoted
    for line in quoted:
        assert line in printed, line


# --- the APIs ---

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


def receive_until_end(ws) -> list[dict]:
    """The messages of one run, up to its last progress (done), its divergence or an error."""
    messages = []
    while True:
        messages.append(ws.receive_json())
        m = messages[-1]
        if m["type"] in ("diverged", "error") or m.get("done"):
            return messages


def test_spirals_websocket_streams_rung3s_training(trained):
    with client.websocket_connect("ws://127.0.0.1:8000/api/figure/spirals", headers=ORIGIN) as ws:
        ws.send_json({"type": "start"})
        messages = receive_until_end(ws)
    start, progress = messages[0], messages[1:]
    assert start["type"] == "start" and start["step"] == 0 and len(start["train"]) == 240
    assert len(start["field"]) == start["grid"] ** 2
    assert all(m["type"] == "progress" for m in progress) and len(progress) > 1
    assert sum(len(m["batch_losses"]) for m in progress) == 300  # every step reported once
    assert [x for m in progress for x in m["batch_losses"]] == trained.batch_losses
    assert progress[-1]["val_loss"] == trained.progress()["val_loss"]


def test_spirals_websocket_pauses_and_resumes_the_same_run(trained):
    with client.websocket_connect("ws://127.0.0.1:8000/api/figure/spirals", headers=ORIGIN) as ws:
        ws.send_json({"type": "start"})
        messages = [ws.receive_json(), ws.receive_json()]  # start, the first progress
        ws.send_json({"type": "pause"})
        while messages[-1]["type"] != "paused":
            messages.append(ws.receive_json())
        paused_at = messages[-1]["step"]
        ws.send_json({"type": "resume"})
        messages += receive_until_end(ws)
    assert 0 < paused_at < 300
    losses = [x for m in messages if m["type"] == "progress" for x in m["batch_losses"]]
    assert losses == trained.batch_losses  # paused and resumed, the run is the one rung 3 trains


def test_spirals_websocket_catches_a_learning_rate_too_large_and_refuses_bad_settings():
    with client.websocket_connect("ws://127.0.0.1:8000/api/figure/spirals", headers=ORIGIN) as ws:
        ws.send_json({"type": "start", "lr": 100})
        last = receive_until_end(ws)[-1]
        assert last["type"] == "diverged"
        assert "lower the learning rate (it is 100; try 10)" in last["detail"]
        ws.send_json({"type": "start", "batch_size": 0})
        assert ws.receive_json() == {"type": "error", "detail": "batch_size must be at least 1"}
        ws.send_json({"type": "resume", "lr": float("nan")})
        assert "finite" in ws.receive_json()["detail"]


# --- in Chromium ---

def chapter_shot(tab, figure: str) -> None:
    """Refresh docs/screenshots/chapter-3.png (one figure, a small 128-colour PNG) when asked to."""
    if not os.environ.get("GRADSCHOOL_UPDATE_SCREENSHOTS"):
        return
    from PIL import Image

    path = DOCS / "chapter-3.png"
    tab.locator(figure).screenshot(path=str(path))
    Image.open(path).convert("RGB").quantize(colors=128).save(path, optimize=True)


def shown_loss(page) -> float:
    text = page.locator("#fig-1 .readout").inner_text()
    return float(re.search(r" = (-?[\d.]+)$", text).group(1))


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
    p = softmax_figure([2, 1, 2.1], 2)["probs"][2]
    readout = page.locator("#fig-1 .readout")
    expect(readout).to_have_text(f"cross-entropy of class 2: −log {p:.3f} = {want:.4f}")


def test_chapter3_trains_the_spirals_live_to_rung3s_numbers(page, trained):
    page.goto(page.base + "/chapter/3")
    figure = page.locator("#fig-2")
    expect(figure).to_have_attribute("data-state", "done", timeout=90_000)
    end = trained.progress()
    readout = figure.locator(".readout")
    expect(readout).to_contain_text(f"step 300 of 300 · train loss {end['train_loss']:.4f} (96%)")
    expect(readout).to_contain_text(f"val loss {end['val_loss']:.4f} (95%)")
    assert figure.locator("svg .cell").count() == end["field"].__len__()
    assert figure.locator("svg .point").count() == 300
    chapter_shot(page, "#fig-2")


def test_chapter3_a_learning_rate_too_large_is_caught_and_the_link_keeps_the_settings(page):
    page.goto(page.base + "/chapter/3")
    figure = page.locator("#fig-2")
    page.get_by_label("batch size").select_option("64")
    rate = page.get_by_label("learning rate", exact=True)
    rate.focus()
    page.keyboard.press("End")  # the largest rate: 100
    expect(figure).to_have_attribute("data-state", "diverged", timeout=30_000)
    alert = figure.get_by_role("alert")
    expect(alert).to_contain_text("training diverged")
    expect(alert).to_contain_text("lower the learning rate (it is 100; try 10)")
    link = page.url
    assert "fig-2.lr=100" in link and "fig-2.batch=64" in link
    page.goto(page.base + "/")
    page.goto(link)  # the link trains with the same settings, and is caught again
    expect(figure).to_have_attribute("data-state", "diverged", timeout=30_000)
    expect(page.get_by_label("batch size")).to_have_value("64")
    page.get_by_label("decay the learning rate").uncheck()
    page.get_by_label("learning rate", exact=True).focus()
    page.keyboard.press("Home")  # the smallest rate, 0.01, without decay: it trains
    expect(figure).to_have_attribute("data-state", "training")
    expect(figure.get_by_role("alert")).to_have_text("")
    assert "fig-2.decay=false" in page.url and "fig-2.lr=0.01" in page.url
