"""Chapter 7, attention: the trained head's figure against the model's own layers, the lesson against rung 7.

The figure's numbers are checked against rung 7's OneHeadModel computed here (its Linears and
F.attention_weights), through the API and in Chromium, with the mask and the scale switched off too.
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
from gradschool.figures.attention import trained_head
from gradschool.lessons import lesson
from gradschool.rungs import r7_attention
from gradschool.tensor import no_grad
from gradschool.web.app import create_app

# the shared fixtures (tests/browser.py): offline Chromium, the real server, a watched tab
browser_context, server, page = browser.browser_context, browser.server, browser.page
client = TestClient(create_app(), base_url="http://127.0.0.1:8000")
TEXT = "to be or not to"


def head_on(text: str):
    """q, k, v (T, D) of the trained head on `text`, computed here from the model's own layers."""
    model, tokenizer, _ = trained_head()
    with no_grad():
        x = model.embed(np.array([tokenizer.encode(text)]))
        return model, x, model.head.query(x), model.head.key(x), model.head.value(x)


def figure(text: str = TEXT, mask: bool = True, scale: bool = True) -> dict:
    r = client.post("/api/figure/attention", json={"text": text, "mask": mask, "scale": scale})
    assert r.status_code == 200, r.json()
    return r.json()


def test_the_weights_sum_to_one_per_row_and_are_the_models_own():
    r = figure()
    model, x, q, k, v = head_on(TEXT)
    with no_grad():
        own = model.head.attention_weights(x).data[0]
    weights = np.array(r["weights"])
    np.testing.assert_allclose(weights.sum(axis=1), 1, atol=1e-6)
    np.testing.assert_allclose(weights, own, atol=1e-6)
    assert np.triu(weights, 1).max() == 0  # the causal mask
    for key, t in (("q", q), ("k", k), ("v", v)):
        np.testing.assert_allclose(r[key], t.data[0], atol=1e-6)
    np.testing.assert_allclose(r["out"], own @ v.data[0], atol=1e-5)  # the output is the weights' mix of V
    D = q.shape[-1]
    np.testing.assert_allclose(r["scores"], q.data[0] @ k.data[0].T / math.sqrt(D), atol=1e-5)
    assert r["training"]["steps"] == 500 and r["training"]["last_loss"] < r["training"]["first_loss"] - 1


def test_without_the_mask_weight_lies_above_the_diagonal():
    r = figure(mask=False)
    _, _, q, k, _ = head_on(TEXT)
    weights = np.array(r["weights"])
    above = np.triu(weights, 1)
    assert above[0, 1:].sum() > 0.5  # the first position now reads mostly the characters after it
    assert r["future_weight"] == pytest.approx(above.sum(axis=1).max())
    np.testing.assert_allclose(weights, F.attention_weights(q, k, is_causal=False).data[0], atol=1e-6)
    assert all(r["mask"][i][j] for i in range(len(TEXT)) for j in range(len(TEXT)))


def test_without_the_scale_the_scores_grow_by_root_d_and_the_rows_turn_peaked():
    scaled, raw = figure(), figure(scale=False)
    _, _, q, k, _ = head_on(TEXT)
    D = q.shape[-1]
    np.testing.assert_allclose(raw["scores"], np.array(scaled["scores"]) * math.sqrt(D), rtol=1e-5, atol=1e-5)
    s = q.data[0] @ k.data[0].T  # softmax of the unscaled, masked scores, computed here
    s = np.where(np.tri(len(TEXT), dtype=bool), s, -np.inf)
    want = np.exp(s - s.max(axis=1, keepdims=True))
    np.testing.assert_allclose(raw["weights"], want / want.sum(axis=1, keepdims=True), atol=1e-5)
    assert raw["top_weight"] > scaled["top_weight"] + 0.1


@pytest.mark.parametrize("text, word", [("x" * 17, "at most 16"), ("", "at least 1"), ("naïve", "'ï'")])
def test_bad_text_is_refused_in_plain_words(text, word):
    r = client.post("/api/figure/attention", json={"text": text})
    assert r.status_code == 422 and word in r.json()["detail"], r.json()


def test_the_lesson_quotes_what_rung7_prints(capsys):
    r7_attention.main()
    out = capsys.readouterr().out
    text = lesson(7).text
    first, last = re.search(r"loss (\d\.\d\d) -> (\d\.\d\d)", out).groups()
    assert f"the loss falls from {first} to {last}" in text
    trained = out.split("trained (no longer an even average):")[1]
    row2 = re.findall(r"^ +' ' +(.*)$", trained, re.M)[0].split()  # the first space: row 2
    row7 = re.findall(r"^ +'r' +(.*)$", trained, re.M)[0].split()
    assert f"in row 2 (the first space) {row2[2]} on itself" in text
    assert f"{row7[6]} on the `o` before it and {row7[7]} on\nitself" in text
    assert "[0.5  0.5  0.   0.  ]" in out and "# ->  [0.5  0.5  0.   0.  ]" in text
    assert out.rstrip().endswith("chapter 7 of the course: `gradschool serve`, then "
                                 "http://127.0.0.1:8000/chapter/7")


# --- in Chromium ---

def shown_row(page) -> list[float]:
    """The weight column of the followed position's table."""
    cells = page.locator("#fig-1 table.attn-row tbody tr td:nth-child(5)").all_inner_texts()
    return [float(c) for c in cells]


def test_chapter7_shows_the_models_weights_and_what_the_switches_break(page):
    model, x, q, k, _ = head_on(TEXT)
    with no_grad():
        own = model.head.attention_weights(x).data[0]
    page.goto(page.base + "/chapter/7")
    expect(page.locator("#fig-1 .readout")).to_contain_text("mean largest weight")
    assert shown_row(page) == pytest.approx(own[0], abs=1e-4)
    follow = page.get_by_label("position to follow")
    follow.focus()
    for _ in range(7):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#fig-1 .attn-steps h3")).to_contain_text("position 7 r")
    assert shown_row(page) == pytest.approx(own[7], abs=1e-4)
    assert page.locator("#fig-1 table.attn-row tbody tr.masked").count() == len(TEXT) - 8

    page.get_by_label("causal mask").focus()
    page.keyboard.press("Space")  # the mask off
    expect(page.locator("#fig-1 .attn-warning")).to_contain_text("Without the mask")
    unmasked = F.attention_weights(q, k, is_causal=False).data[0]
    expect(page.locator("#fig-1 table.attn-row tbody tr.masked")).to_have_count(0)
    row = shown_row(page)
    assert row == pytest.approx(unmasked[7], abs=1e-4)
    assert sum(row[8:]) > 0.01  # weight on the characters after position 7

    box = page.get_by_label("text, up to 16 characters")
    box.fill("hello")
    expect(page.locator("#fig-1 .attn-steps h3")).to_contain_text("position 4 o")  # follows the end
    link = page.url
    assert "fig-1.mask=false" in link and "fig-1.text=hello" in link
    page.goto(page.base + "/")
    page.goto(link)
    expect(page.locator("#fig-1 .attn-steps h3")).to_contain_text("position 4 o")
    _, _, q2, k2, _ = head_on("hello")
    assert shown_row(page) == pytest.approx(F.attention_weights(q2, k2, is_causal=False).data[0][4], abs=1e-4)
    expect(page.get_by_label("causal mask")).not_to_be_checked()
    if os.environ.get("GRADSCHOOL_UPDATE_SCREENSHOTS"):
        page.get_by_label("causal mask").check()
        page.get_by_label("text, up to 16 characters").fill(TEXT)
        expect(page.locator("#fig-1 .attn-steps h3")).to_contain_text("position 4")
        doc_shot(page.locator("#fig-1"), "chapter-7")


def doc_shot(locator, name: str) -> None:
    """docs/screenshots/NAME.png: the figure as a small 128-colour PNG."""
    from PIL import Image

    path = DOCS / f"{name}.png"
    locator.screenshot(path=str(path))
    Image.open(path).convert("RGB").quantize(colors=128).save(path, optimize=True)
