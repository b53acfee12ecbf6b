"""Chapter 5, embeddings and context: its figures' numbers against the library, recomputed here.

The live figure's points are the model's embedding rows at the step shown (trained again here from the same
seed), the context figure's shapes are the forward pass's own, the learning-rate finder's losses are those of
a sweep rerun here, and the lesson quotes only numbers that rung 5 prints.
"""

import math
import os
import re

import browser
import numpy as np
import pytest
from browser import DOCS
from fastapi.testclient import TestClient
from playwright.sync_api import expect

import gradschool.tensor.functional as F
from gradschool.data.batches import context_windows, get_example_batch
from gradschool.figures.embeddings import DEV_EXAMPLES, context_window, names_data, sample_names
from gradschool.lessons import lesson
from gradschool.nn.mlp_lm import MLPConfig, MLPLanguageModel
from gradschool.optim import SGD
from gradschool.rungs import r5_embeddings
from gradschool.tensor import manual_seed, no_grad
from gradschool.web.app import create_app

# the shared fixtures (tests/browser.py): offline Chromium, the real server, a watched tab
browser_context, server, page = browser.browser_context, browser.server, browser.page
client = TestClient(create_app(), base_url="http://127.0.0.1:8000")
LIVE = "ws://127.0.0.1:8000/api/figure/embeddings/live"


def fresh_model(seed: int = 42, block_size: int = 3, n_embd: int = 2) -> MLPLanguageModel:
    manual_seed(seed)
    return MLPLanguageModel(MLPConfig(block_size=block_size, vocab_size=27, n_embd=n_embd, n_hidden=100))


def sgd_losses(rates: list[float], seed: int = 42) -> tuple[MLPLanguageModel, list[float]]:
    """Train a fresh seeded model one minibatch step at each rate, as the figures say they do."""
    data = names_data()
    model = fresh_model(seed)
    optimizer = SGD(model.parameters(), lr=rates[0])
    rng = np.random.default_rng(seed)
    losses = []
    for rate in rates:
        optimizer.param_groups[0]["lr"] = rate
        xb, yb = get_example_batch(data.X, data.Y, 32, rng)
        loss = F.cross_entropy(model.forward_contexts(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, losses


def model_at_step(steps: int, seed: int = 42, lr: float = 0.1) -> MLPLanguageModel:
    return sgd_losses([lr] * steps, seed)[0] if steps else fresh_model(seed)


# --- the lesson and the rung program ---

def test_rung5_prints_the_numbers_its_lesson_quotes_and_names_its_chapter(capsys, monkeypatch):
    train = r5_embeddings.train
    monkeypatch.setattr(r5_embeddings, "train", lambda model, X, Y, steps, **kw: train(model, X, Y, 20))
    r5_embeddings.main()
    out = capsys.readouterr().out
    text = lesson(5).text
    for number in ["184601", "23231", "23114", "3.7592", "3.5766", "3.4319", "11897", "3.3999", "0.0010",
                   "2.8409", "0.1016", "2.6450", "0.41", "282", "2.43"]:
        assert number in text, f"the lesson no longer quotes {number}"
        assert re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", out), f"rung 5 does not print {number}"
    assert f"{math.log(27):.4f}" in text and "19,683" in text and 27**3 == 19683
    assert "32,000 names" in text and "32000 names" in out
    assert out.rstrip().endswith("chapter 5 of the course: `gradschool serve`, then http://127.0.0.1:8000/chapter/5")


# --- the live figure over its websocket ---

def test_live_snapshots_are_the_models_embedding_rows_at_that_step():
    with client.websocket_connect(LIVE) as ws:
        ws.send_json({"type": "step"})
        assert ws.receive_json() == {"type": "error", "detail": "send a reset message first"}
        ws.send_json({"type": "reset", "seed": 7, "lr": 0.1})
        start = ws.receive_json()
        assert start["step"] == 0 and start["loss"] is None
        np.testing.assert_allclose(start["embedding"], fresh_model(7).wte.weight.data, rtol=1e-6)
        ws.send_json({"type": "step", "steps": 150})
        snap = ws.receive_json()
    model = model_at_step(150, seed=7)
    assert snap["type"] == "snapshot" and snap["step"] == 150
    assert snap["chars"] == names_data().tokenizer.itos
    np.testing.assert_allclose(snap["embedding"], model.wte.weight.data, rtol=1e-5, atol=1e-6)
    assert snap["samples"] == sample_names(model, names_data().tokenizer)
    X_dev, Y_dev = names_data().X_dev[:DEV_EXAMPLES], names_data().Y_dev[:DEV_EXAMPLES]
    with no_grad():
        dev = F.cross_entropy(model.forward_contexts(X_dev), Y_dev).item()
    assert snap["dev_loss"] == pytest.approx(dev, rel=1e-5)
    assert snap["dev_loss"] < start["dev_loss"]  # it learned


def test_live_play_streams_snapshots_until_paused():
    with client.websocket_connect(LIVE) as ws:
        ws.send_json({"type": "reset"})
        assert ws.receive_json()["step"] == 0
        ws.send_json({"type": "play"})
        steps = [ws.receive_json()["step"] for _ in range(4)]
        ws.send_json({"type": "pause"})
        while (msg := ws.receive_json())["type"] == "snapshot":
            steps.append(msg["step"])
        assert msg["type"] == "paused" and msg["step"] == steps[-1]
    assert steps == sorted(set(steps)) and steps[0] > 0


@pytest.mark.parametrize("message, words", [
    ({"type": "jump"}, "type must be one of"),
    ({"type": "reset", "lr": 100}, "lr"),
    ({"type": "reset", "seed": -1}, "seed"),
    ({"type": "step", "steps": 5000}, "steps"),
])
def test_live_refuses_bad_messages_in_plain_words(message, words):
    with client.websocket_connect(LIVE) as ws:
        ws.send_json(message)
        reply = ws.receive_json()
    assert reply["type"] == "error" and words in reply["detail"], reply


def test_live_answers_binary_and_oversized_messages_and_serves_on():
    with client.websocket_connect(LIVE) as ws:
        ws.send_bytes(b"{}")
        assert ws.receive_json()["detail"] == "send JSON text messages, not binary ones"
        ws.send_text(" " * 5000)
        assert "the limit is 1000" in ws.receive_json()["detail"]
        ws.send_json({"type": "reset"})
        assert ws.receive_json()["type"] == "snapshot"


# --- the context figure ---

def test_context_api_gives_the_forward_pass_tensors_real_shapes():
    r = client.post("/api/figure/context", json={"word": "olivia", "block_size": 4, "n_embd": 3})
    assert r.status_code == 200, r.json()
    assert r.json() == context_window("olivia", 4, 3)
    X, Y = context_windows(["olivia"], names_data().tokenizer, 4)
    model = fresh_model(block_size=4, n_embd=3)
    with no_grad():
        emb = model.wte(X)
        probs = model.forward_contexts(X).softmax(axis=-1).data
    shapes = {t["name"]: tuple(t["shape"]) for t in r.json()["tensors"]}
    assert shapes["X"] == X.shape == (7, 4)
    assert shapes["emb = C[X]"] == emb.shape == (7, 4, 3)
    assert shapes["emb.view(N, -1)"] == (7, 12)
    assert shapes["W1"] == model.hidden.weight.shape and shapes["logits = h @ W2.T + b2"] == (7, 27)
    assert r.json()["contexts"][:2] == ["....", "...o"] and r.json()["targets"][-1] == "."
    np.testing.assert_allclose(r.json()["target_probs"], probs[np.arange(7), Y], rtol=1e-5)
    bad = client.post("/api/figure/context", json={"word": "Zoë!"})
    assert bad.status_code == 422 and "the name must be letters a to z" in bad.json()["detail"]


# --- the learning-rate finder ---

def test_lr_finder_losses_equal_a_sweep_rerun_here():
    r = client.post("/api/figure/lr-finder", json={"lo": -3, "hi": 1, "steps": 300})
    assert r.status_code == 200
    found = r.json()
    rates = list(10 ** np.linspace(-3, 1, 300))
    for i in (40, 150):  # a couple of rates, recomputed from the same seed
        _, losses = sgd_losses(rates[: i + 1])
        assert found["exponents"][i] == pytest.approx(math.log10(rates[i]))
        assert found["losses"][i] == pytest.approx(losses[i], rel=1e-5)
    assert found["stopped_early"] and found["losses"][-1] > 4 * min(found["losses"][:-1])
    bad = client.post("/api/figure/lr-finder", json={"lo": -1, "hi": -1})
    assert bad.status_code == 422
    assert "the lowest exponent (-1) must be below the highest (-1)" in bad.json()["detail"]


# --- in Chromium ---

def shown_rows(page, figure: str) -> np.ndarray:
    """The embedding table's rows as the figure's number table shows them, in character order."""
    rows = page.locator(f"{figure} details.rows tr[data-char]")
    return np.array([[float(v) for v in rows.nth(i).locator("td").all_text_contents()[1:]]
                     for i in range(rows.count())])


def shown_step(page, figure: str) -> int:
    return int(re.match(r"step (\d+)", page.locator(f"{figure} .readout").inner_text()).group(1))


def chapter_shot(page, n: int, figure: str) -> None:
    """docs/screenshots/chapter-N.png: the figure, as a small 128-colour PNG."""
    from PIL import Image

    path = DOCS / f"chapter-{n}.png"
    page.locator(figure).screenshot(path=str(path))
    Image.open(path).convert("RGB").quantize(colors=128).save(path, optimize=True)


def test_chapter5_live_figure_shows_the_models_rows_and_its_link_replays_the_run(page):
    live = "#fig-3"
    page.goto(page.base + "/chapter/5")
    expect(page.locator(f"{live} .readout")).to_contain_text("step 0 ")
    page.locator(live).get_by_role("button", name="Train 100 steps").click()
    expect(page.locator(f"{live} .readout")).to_contain_text("step 100 ")
    np.testing.assert_allclose(shown_rows(page, live), model_at_step(100).wte.weight.data, atol=6e-5)

    play = page.locator(live).get_by_role("button", name="Play")
    play.focus()
    page.keyboard.press("Enter")  # keyboard-operable
    at_least_600 = re.compile(r"^step ([6-9]\d\d|\d{4,}) ")
    expect(page.locator(f"{live} .readout")).to_have_text(at_least_600, timeout=30000)
    page.locator(live).get_by_role("button", name="Pause").click()
    expect(page.locator(f"{live} .run-state")).to_contain_text("paused at step")
    step = int(re.search(r"paused at step (\d+)", page.locator(f"{live} .run-state").inner_text()).group(1))
    assert shown_step(page, live) == step
    model = model_at_step(step)
    np.testing.assert_allclose(shown_rows(page, live), model.wte.weight.data, atol=6e-5)
    samples = page.locator(f"{live} ol.samples li").all_inner_texts()
    assert samples == [s or "(empty)" for s in sample_names(model, names_data().tokenizer)]
    expect(page.locator(f"{live} g.pt.vowel")).to_have_count(5)

    link = page.url
    assert f"fig-3.step={step}" in link and "fig-3.seed=42" in link
    page.goto(page.base + "/")
    page.goto(link)  # the link trains the same run up to the same step
    expect(page.locator(f"{live} .readout")).to_contain_text(f"step {step} ")
    np.testing.assert_allclose(shown_rows(page, live), model.wte.weight.data, atol=6e-5)
    if os.environ.get("GRADSCHOOL_UPDATE_SCREENSHOTS"):  # the docs' picture: later, the vowels together
        page.goto(page.base + "/")
        page.goto(page.base + "/chapter/5#fig-3.seed=42&fig-3.lr=0.1&fig-3.step=2000")
        expect(page.locator(f"{live} .readout")).to_contain_text("step 2000 ", timeout=30000)
        chapter_shot(page, 5, live)


def test_chapter5_context_figure_shows_the_shapes_the_engine_gives(page):
    fig = "#fig-1"
    page.goto(page.base + "/chapter/5")
    expect(page.locator(f"{fig} ol.tensor-flow li")).to_have_count(8)
    name = page.get_by_label("name", exact=True)
    name.fill("olivia")
    name.press("Enter")
    page.get_by_label("block size").focus()
    page.keyboard.press("ArrowRight")  # 3 -> 4
    shapes = context_window("olivia", block_size=4)["tensors"]
    for t in shapes:
        item = page.locator(f"{fig} ol.tensor-flow li[data-name='{t['name']}'] .shape")
        expect(item).to_have_text(f"({', '.join(map(str, t['shape']))})")
    expect(page.locator(f"{fig} ol.tensor-flow li[data-name='emb = C[X]'] .shape")).to_have_text("(7, 4, 2)")
    expect(page.locator(f"{fig} table.examples td.context").first).to_have_text("....")
    assert "fig-1.word=olivia" in page.url and "fig-1.block_size=4" in page.url
    page.expected_console = ["422"]
    name.fill("Zoë!")
    name.press("Enter")
    expect(page.locator(f"{fig} .status.bad")).to_contain_text("the name must be letters a to z")


def test_chapter5_lr_finder_probe_reads_the_losses_of_a_sweep_rerun_here(page):
    fig = "#fig-2"
    page.goto(page.base + "/chapter/5")
    expect(page.locator(f"{fig} .readout.probe")).to_contain_text("step 0:")
    rates = list(10 ** np.linspace(-3, 1, 300))
    _, losses = sgd_losses(rates[:121])
    probe = page.get_by_label("look at step")
    for target, presses in ((0, 0), (120, 120)):
        probe.focus()
        for _ in range(presses):
            page.keyboard.press("ArrowRight")
        text = page.locator(f"{fig} .readout.probe").inner_text()
        shown = re.fullmatch(r"step (\d+): rate ([\d.]+) \(10\^(-?[\d.]+)\), minibatch loss (\d+\.\d+)", text)
        assert shown, text
        assert int(shown.group(1)) == target
        assert float(shown.group(2)) == pytest.approx(rates[target], rel=1e-3)
        assert float(shown.group(4)) == pytest.approx(losses[target], abs=1e-4)
    expect(page.locator(f"{fig} .readout").first).to_contain_text("diverged after")
    assert "fig-2.probe=120" in page.url
