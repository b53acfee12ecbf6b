"""Chapter 4, the bigram language model: the count matrix, a name's likelihood, sampling and the network.

The numbers are checked against the names corpus read here and against rung 4's own functions (bigrams,
count_model, average_nll, train_network); the lesson's quotes against what rung 4 computes and prints; and
the chapter in Chromium, its controls driven and the numbers shown checked against the library computed
here. GRADSCHOOL_UPDATE_SCREENSHOTS=1 also refreshes docs/screenshots/chapter-4.png.
"""

import contextlib
import io
import math
import os
from collections import Counter

import browser
import numpy as np
import pytest
from browser import DOCS
from fastapi.testclient import TestClient
from lesson_code import run_python_blocks
from playwright.sync_api import expect

from gradschool.data import CharTokenizer, load_lines
from gradschool.figures.bigram import BigramTraining, counts_figure, name_likelihood, sample_name
from gradschool.lessons import fenced_blocks, lesson
from gradschool.nn.bigram import Bigram, BigramConfig
from gradschool.rungs import r4_bigram
from gradschool.web.app import create_app

# the shared fixtures (tests/browser.py): offline Chromium, the real server, a watched tab
browser_context, server, page = browser.browser_context, browser.server, browser.page
client = TestClient(create_app(), base_url="http://127.0.0.1:8000")
ORIGIN = {"origin": "http://127.0.0.1:8000"}
NAMES = load_lines("names")
TOKENIZER = CharTokenizer.from_lines(NAMES)
XS, YS = r4_bigram.bigrams(NAMES, TOKENIZER)
V = TOKENIZER.vocab_size


def corpus_counts() -> Counter:
    """How often each pair of neighbours occurs in the names framed by '.', counted from the text itself."""
    return Counter(pair for name in NAMES for pair in zip("." + name, name + "."))


def library_nll(name: str, smoothing: float) -> float:
    """A name's average NLL under the counting model, with rung 4's functions."""
    return r4_bigram.average_nll(r4_bigram.count_model(XS, YS, V, smoothing),
                                 *r4_bigram.bigrams([name], TOKENIZER))


def squeeze(text: str) -> str:
    return " ".join(text.split())


# --- the lesson, the rung, the figures' numbers ---

def test_rung4_ends_by_naming_its_chapter_and_prints_the_lessons_quotes(monkeypatch):
    untrained = Bigram(BigramConfig(V))  # stands in for the 200 steps, which the next tests check
    monkeypatch.setattr(r4_bigram, "train_network", lambda *args, **kwargs: (untrained, math.log(V)))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        r4_bigram.main()
    printed = out.getvalue()
    assert printed.splitlines()[-1] == ("chapter 4 of the course: `gradschool serve`, then "
                                        "http://127.0.0.1:8000/chapter/4")
    quoted = [body for info, body in fenced_blocks(lesson(4).text) if info == "text"]
    for block in quoted[:2]:  # the name's likelihood and the scalar engine's steps
        assert squeeze(block) in squeeze(printed), block
    for number in ["2.4342", "2.4336", "3.2958", "0.0017", "3.5932"]:
        assert number in printed and number in lesson(4).text, number


def test_the_lessons_python_prints_what_its_comments_say():
    printed, quoted = run_python_blocks(lesson(4).text)
    assert quoted
    for line in quoted:
        assert line in printed, line


def test_the_lessons_network_numbers_are_rung4s():
    """Rung 4 prints these after 200 full-batch steps at 50; the figure's job computes the same loss."""
    quoted = squeeze([body for info, body in fenced_blocks(lesson(4).text) if info == "text"][2])
    run = BigramTraining(lr=50, steps=200)
    while not run.done:
        run.step()
    final = run.progress()["loss"]
    counting = r4_bigram.average_nll(r4_bigram.count_model(XS, YS, V), XS, YS)
    assert f"network {final:.4f} vs counting {counting:.4f}: difference {final - counting:+.4f}" in quoted
    table = run.model.table.data
    learned = np.exp(table - table.max(axis=1, keepdims=True))
    learned /= learned.sum(axis=1, keepdims=True)
    a = TOKENIZER.stoi["a"]
    P = r4_bigram.count_model(XS, YS, V)
    assert f"between the two models: {np.abs(learned[a] - P[a]).max():.4f}" in quoted


def test_the_live_network_takes_rung4s_steps():
    """Its loss from the counts equals rung 4's train_network on all 230,946 one-hot rows, step for step."""
    run = BigramTraining(lr=50, steps=3)
    losses = [run.step() for _ in range(3)] + [run.progress()["loss"]]
    with contextlib.redirect_stdout(io.StringIO()):
        model, loss = r4_bigram.train_network(XS, YS, V, steps=3, log_every=1)
    assert losses[0] == pytest.approx(math.log(V), abs=1e-6)
    assert losses[-1] == pytest.approx(loss, abs=1e-5)
    assert np.allclose(run.model.table.data, model.table.data, atol=1e-5)


def test_the_count_matrix_is_the_corpus_counts_and_the_lessons_cells():
    figure = counts_figure(1.0)
    counts = corpus_counts()
    itos = figure["itos"]
    assert itos[0] == "." and figure["bigrams"] == len(XS) == sum(counts.values())
    assert figure["counts"] == [[counts[(a, b)] for b in itos] for a in itos]
    assert f"{counts[('.', 'a')]:,}" in lesson(4).text and f"{counts[('a', '.')]:,}" in lesson(4).text
    assert max(counts, key=counts.get) == ("a", ".")  # "the most common bigram of all"
    assert figure["nll"] == r4_bigram.average_nll(r4_bigram.count_model(XS, YS, V, 1.0), XS, YS)


def test_a_name_and_a_sample_are_the_librarys():
    r = name_likelihood("Emma", 1.0)
    assert r["name"] == "emma" and r["average_nll"] == pytest.approx(library_nll("emma", 1.0), abs=1e-12)
    assert r["nll"] == pytest.approx(5 * library_nll("emma", 1.0))
    assert name_likelihood("maxq", 0.0)["nll"] is None  # 'xq' never occurs: infinite
    sample = sample_name(1.0, seed=7)
    rows = [TOKENIZER.itos[s["row"]] for s in sample["steps"]]
    assert rows == ["."] + list(sample["name"])  # each step reads the row of the character before it
    assert sample["steps"][-1]["next"] == 0


def test_the_apis_answer_and_refuse_in_plain_words():
    r = client.post("/api/figure/bigram/counts", json={"smoothing": 0})
    assert r.status_code == 200 and r.json()["nll"] == pytest.approx(library_nll_all(0.0))
    r = client.post("/api/figure/bigram/name", json={"name": "maxq", "smoothing": 0})
    assert r.status_code == 200 and r.json()["nll"] is None and r.json()["steps"][3]["prob"] == 0.0
    r = client.post("/api/figure/bigram/sample", json={"smoothing": 1, "seed": 7})
    assert r.json() == sample_name(1.0, 7)
    for path, body, words in [("name", {"name": "jo3"}, "the names use only the letters a to z, never '3'"),
                              ("name", {"name": "  "}, "type a name"),
                              ("counts", {"smoothing": -1}, "smoothing must be at least 0"),
                              ("sample", {"seed": -1}, "seed must be at least 0")]:
        r = client.post(f"/api/figure/bigram/{path}", json=body)
        assert r.status_code == 422 and words in r.json()["detail"], r.json()


def library_nll_all(smoothing: float) -> float:
    return r4_bigram.average_nll(r4_bigram.count_model(XS, YS, V, smoothing), XS, YS)


def test_the_network_websocket_streams_every_step():
    with client.websocket_connect("ws://127.0.0.1:8000/api/figure/bigram/train", headers=ORIGIN) as ws:
        ws.send_json({"type": "start", "lr": 50, "steps": 40})
        start = ws.receive_json()
        messages = []
        while not messages or not messages[-1].get("done"):
            messages.append(ws.receive_json())
    assert start["count_nll"] == pytest.approx(library_nll_all(1.0))
    assert start["best_nll"] == pytest.approx(library_nll_all(0.0))
    losses = [x for m in messages for x in m["losses"]]
    run = BigramTraining(lr=50, steps=40)
    assert losses == [run.step() for _ in range(40)]
    assert len(messages) >= 40 // BigramTraining.steps_per_update  # a curve, not one jump


# --- in Chromium ---

def chapter_shot(tab, figure: str) -> None:
    """Refresh docs/screenshots/chapter-4.png (one figure, a small 128-colour PNG) when asked to."""
    if not os.environ.get("GRADSCHOOL_UPDATE_SCREENSHOTS"):
        return
    from PIL import Image

    path = DOCS / "chapter-4.png"
    tab.locator(figure).screenshot(path=str(path))
    Image.open(path).convert("RGB").quantize(colors=128).save(path, optimize=True)


def test_chapter4_heatmap_cells_are_the_corpus_counts_and_a_row_is_its_distribution(page):
    page.goto(page.base + "/chapter/4")
    grid = page.locator("#fig-1 svg.bigram-grid")
    expect(grid.locator(".cell")).to_have_count(V * V)
    read = "cells => cells.map(g => [g.querySelector('.pair').textContent, " \
           "Number(g.querySelector('.count').textContent)])"
    shown = grid.locator(".cell").evaluate_all(read)
    counts = corpus_counts()
    assert shown == [[a + b, counts[(a, b)]] for a in TOKENIZER.itos for b in TOKENIZER.itos]
    grid.locator('.cell[data-row="13"][data-col="1"]').click()  # the cell 'ma': its row is 'm'
    m = TOKENIZER.stoi["m"]
    expect(page.locator("#fig-1 .row-caption")).to_contain_text(f"row 'm': {(m == XS).sum()} bigrams")
    bars = page.locator("#fig-1 svg.bigram-row .bar")
    probs = bars.evaluate_all("bars => bars.map(b => Number(b.dataset.p))")
    assert probs == pytest.approx(r4_bigram.count_model(XS, YS, V, 1.0)[m], abs=1e-12)
    grid.focus()
    page.keyboard.press("ArrowDown")  # the next row, 'n'
    expect(page.get_by_label("the row: the character before")).to_have_value(str(m + 1))
    assert "fig-1.row=14" in page.url


def test_chapter4_smoothing_control_shows_the_librarys_nll(page):
    page.goto(page.base + "/chapter/4")
    readout = page.locator("#fig-1 > .readout").first
    expect(readout).to_contain_text(f"{library_nll_all(1.0):.4f}")
    smoothing = page.get_by_label("smoothing: a count added to every cell")
    smoothing.focus()
    page.keyboard.press("Home")  # +0
    expect(readout).to_contain_text("smoothing +0: average negative log-likelihood of the 230,946 bigrams")
    expect(readout).to_contain_text(f"{library_nll_all(0.0):.4f}")
    page.keyboard.press("End")  # +1000
    expect(readout).to_contain_text("smoothing +1000:")
    assert float(page.locator("#fig-1").get_attribute("data-nll")) == pytest.approx(library_nll_all(1000.0))
    assert "fig-1.smoothing=1000" in page.url


def test_chapter4_samples_a_name_one_character_at_a_time_from_the_row_before(page):
    page.goto(page.base + "/chapter/4#fig-1.seed=7")
    figure = page.locator("#fig-1")
    figure.get_by_role("button", name="sample a name").click()
    want = sample_name(1.0, 7)
    expect(figure.locator(".readout.sample")).to_contain_text("press next character")
    so_far = ""
    for step in want["steps"]:
        figure.get_by_role("button", name="next character").click()
        drawn = TOKENIZER.itos[step["next"]]
        expect(figure.locator(".readout.sample")).to_contain_text(f"drew '{drawn}'")
        assert figure.get_attribute("data-sample-row") == (so_far[-1] if so_far else ".")
        expect(page.get_by_label("the row: the character before")).to_have_value(str(step["row"]))
        so_far += drawn if step["next"] else ""
    assert figure.get_attribute("data-sample-name") == want["name"] == so_far
    expect(figure.get_by_role("button", name="next character")).to_be_disabled()
    link = page.url
    page.goto(page.base + "/")
    page.goto(link)  # the link shows the same name, as far as it had got
    expect(figure.locator(".readout.sample")).to_contain_text(f"{want['name']}  ·  step {len(want['steps'])}")
    chapter_shot(page, "#fig-1")


def test_chapter4_a_typed_name_gets_the_librarys_nll(page):
    page.goto(page.base + "/chapter/4")
    figure = page.locator("#fig-2")
    expect(figure.locator(".readout")).to_contain_text("'emma': 5 predictions")
    expect(figure.locator(".readout")).to_contain_text(f"{library_nll('emma', 1.0):.4f} on average")
    box = figure.get_by_label("a name")
    box.fill("")
    box.type("maxq")
    expect(figure.locator(".readout")).to_contain_text(f"{library_nll('maxq', 1.0):.4f} on average")
    shown = float(figure.get_attribute("data-average-nll"))
    assert shown == pytest.approx(library_nll("maxq", 1.0), abs=1e-12)
    figure.get_by_label("smoothing of the counts").select_option("0")
    expect(figure.locator(".readout")).to_contain_text("NLL ∞ in total, ∞ on average")
    expect(figure.locator("table tr").nth(4).locator("td")).to_have_text(["'x'", "'q'", "0.0000", "∞", "∞"])
    assert "fig-2.name=maxq" in page.url and "fig-2.smoothing=0" in page.url
    page.expected_console = ["422"]
    box.type("3")
    expect(figure.get_by_role("alert")).to_have_text("the names use only the letters a to z, never '3'; "
                                                     "type a name of those letters")


def test_chapter4_trains_the_network_live_to_rung4s_loss(page):
    page.goto(page.base + "/chapter/4")
    figure = page.locator("#fig-3")
    expect(figure).to_have_attribute("data-state", "done", timeout=60_000)
    run = BigramTraining(lr=50, steps=200)
    while not run.done:
        run.step()
    final, counting = run.progress()["loss"], library_nll_all(1.0)
    expect(figure.locator(".readout")).to_have_text(f"step 200 of 200 · network {final:.4f} vs counting "
                                                    f"{counting:.4f}: difference +{final - counting:.4f}")
    page.get_by_label("steps", exact=True).select_option("50")
    expect(figure).to_have_attribute("data-state", "done", timeout=60_000)
    expect(figure.locator(".readout")).to_contain_text("step 50 of 50")
    assert "fig-3.steps=50" in page.url
