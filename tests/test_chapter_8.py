"""Chapter 8, the transformer block: the diagram's shapes against the block run here, the ablation against
rung 8's train(), the lesson against rung 8's printout, and the chapter in Chromium."""

import os
import time

import browser
import numpy as np
import pytest
from browser import DOCS
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from gradschool.figures.transformer import ablation, block_shapes
from gradschool.lessons import lesson
from gradschool.nn.gpt import Block, GPTConfig
from gradschool.rungs import r8_transformer
from gradschool.rungs.r8_transformer import deep_config, shakespeare, train
from gradschool.tensor import Tensor, no_grad
from gradschool.web.app import create_app

# the shared fixtures (tests/browser.py): offline Chromium, the real server, a watched tab
browser_context, server, page = browser.browser_context, browser.server, browser.page
client = TestClient(create_app(), base_url="http://127.0.0.1:8000")


def shapes_by_hand(B: int, T: int, C: int, H: int) -> dict[str, tuple[int, ...]]:
    """Every arrow's shape, from running the block's pieces one by one here."""
    block = Block(GPTConfig(block_size=T, vocab_size=1, n_layer=1, n_head=H, n_embd=C))
    x = Tensor(np.zeros((B, T, C), np.float32))
    with no_grad():
        a = block.ln_1(x)
        qkv = block.attn.c_attn(a)
        q, k, v = block.attn.heads(a)
        weights = block.attn.attention_weights(a)
        joined = block.attn(a)
        x1 = x + joined
        b = block.ln_2(x1)
        wide = block.mlp.c_fc(b)
        m = block.mlp(b)
        out = block(x)
    return {"x": x.shape, "ln_1": a.shape, "c_attn": qkv.shape, "q, k, v": q.shape, "weights": weights.shape,
            "heads_joined": (B, T, C), "attn": joined.shape, "residual_1": x1.shape, "ln_2": b.shape,
            "c_fc": wide.shape, "gelu": wide.shape, "mlp": m.shape, "out": out.shape}


@pytest.mark.parametrize("B, T, C, H", [(16, 32, 32, 4), (1, 5, 48, 3), (2, 1, 16, 8)])
def test_the_diagrams_shapes_are_those_of_running_the_block(B, T, C, H):
    r = client.post("/api/figure/block", json={"batch": B, "T": T, "n_embd": C, "n_head": H})
    assert r.status_code == 200, r.json()
    shown = {a["name"]: tuple(a["shape"]) for a in r.json()["arrows"]}
    assert shown == shapes_by_hand(B, T, C, H)
    assert shown["q, k, v"] == (B, H, T, C // H) and shown["c_fc"] == (B, T, 4 * C)
    block = Block(GPTConfig(block_size=T, vocab_size=1, n_layer=1, n_head=H, n_embd=C))
    assert r.json()["parameters"] == sum(p.data.size for p in block.parameters())


def test_a_width_the_heads_do_not_divide_is_refused_in_plain_words():
    r = client.post("/api/figure/block", json={"n_embd": 30, "n_head": 4})
    assert r.status_code == 422 and "must be a multiple of n_head" in r.json()["detail"]
    r = client.post("/api/figure/ablation", json={"n_layer": 9})
    assert r.status_code == 422 and "n_layer" in r.json()["detail"]


def finished_ablation(n_layer: int, steps: int) -> dict:
    """Start (or find) an ablation and ask until it has finished, as the page does."""
    r = client.post("/api/figure/ablation", json={"n_layer": n_layer, "steps": steps}).json()
    while not r["done"]:
        time.sleep(0.05)  # the training runs in the server's own thread
        r = client.post("/api/figure/ablation", json={"n_layer": n_layer, "steps": steps}).json()
    return r


def test_the_ablation_curves_are_rung8s_losses_for_the_same_seed_and_steps():
    assert client.post("/api/figure/ablation", json={"n_layer": 2, "steps": 7, "start": False}).json()[
        "started"] is False
    r = finished_ablation(2, 7)
    assert r["error"] is None
    tokenizer, data = shakespeare()
    config = deep_config(tokenizer.vocab_size, 2)
    for variant in r["variants"]:
        want = train(config, data, variant["residual"], variant["layer_norm"], 7)
        assert variant["losses"] == want  # the same numbers, not just close
        assert [layer["layer"] for layer in variant["layers"]] == [0, 1, 2]
    plain, neither = r["variants"][0], r["variants"][3]
    assert (plain["residual"], plain["layer_norm"], neither["residual"], neither["layer_norm"]) == (
        True, True, False, False)
    # without residuals or layer norm the stream fades layer by layer and the gradients vanish
    assert neither["layers"][-1]["std"] < 1e-3 * plain["layers"][-1]["std"]
    assert neither["layers"][1]["grad_rms"] < 1e-3 * plain["layers"][1]["grad_rms"]
    again = client.post("/api/figure/ablation", json={"n_layer": 2, "steps": 7}).json()
    assert again == r  # kept: asked again, it answers with the same result at once


def test_the_lesson_quotes_the_shapes_rung8_prints_and_the_block_gives(monkeypatch, capsys):
    monkeypatch.setattr(r8_transformer, "train", lambda *args, **kwargs: [4.0] * 50)  # the printout only
    r8_transformer.main()
    out = capsys.readouterr().out
    text = lesson(8).text
    for line in ["x (16, 32, 32) -> c_attn: q, k, v (16, 32, 32) each -> split into heads (16, 4, 32, 8)",
                 "softmax(q k^T / sqrt(8)) v per head (16, 4, 32, 8) -> side by side (16, 32, 32) -> c_proj",
                 "32 -> 128 -> GELU -> 32"]:
        assert line in out and line in text
    shapes = {a["name"]: a["shape"] for a in block_shapes(16, 32, 32, 4)["arrows"]}
    assert shapes["q, k, v"] == [16, 4, 32, 8] and shapes["heads_joined"] == [16, 32, 32]
    assert "Rung 8 stacks eight of these blocks" in text and deep_config(65).n_layer == 8
    assert out.rstrip().endswith("chapter 8 of the course: `gradschool serve`, then "
                                 "http://127.0.0.1:8000/chapter/8")


# --- in Chromium ---

def shown_shapes(page) -> dict[str, tuple[int, ...]]:
    texts = page.locator("#fig-1 svg text.shape")
    found = {}
    for i in range(texts.count()):
        t = texts.nth(i)
        found[t.get_attribute("data-name")] = tuple(int(n) for n in t.text_content().strip("()").split(", "))
    return found


def test_chapter8_diagram_shows_the_blocks_shapes_for_the_chosen_sizes(page):
    page.goto(page.base + "/chapter/8")
    expect(page.locator("#fig-1 .readout")).to_contain_text("weights")
    assert shown_shapes(page) == shapes_by_hand(16, 32, 32, 4)
    page.get_by_label("heads").select_option("8")
    page.get_by_label("context T").focus()
    page.keyboard.press("ArrowUp")  # 32 -> 16
    expect(page.locator("#fig-1 .readout")).to_contain_text("each head is 4 wide")
    expect(page.locator('#fig-1 text.shape[data-name="weights"]')).to_have_text("(16, 8, 16, 16)")
    assert shown_shapes(page) == shapes_by_hand(16, 16, 32, 8)
    link = page.url
    assert "fig-1.n_head=8" in link and "fig-1.T=16" in link
    page.goto(page.base + "/")
    page.goto(link)
    expect(page.locator('#fig-1 text.shape[data-name="weights"]')).to_have_text("(16, 8, 16, 16)")
    if os.environ.get("GRADSCHOOL_UPDATE_SCREENSHOTS"):
        page.goto(page.base + "/chapter/8")
        expect(page.locator('#fig-1 text.shape[data-name="weights"]')).to_have_text("(16, 4, 32, 32)")
        doc_shot(page.locator("#fig-1"), "chapter-8")


def test_chapter8_ablation_trains_on_request_and_shows_rung8s_losses(page):
    page.goto(page.base + "/chapter/8#fig-2.n_layer=1&fig-2.steps=10")
    expect(page.locator("#fig-2 .ablation-status")).to_contain_text("not trained yet")
    page.get_by_role("button", name="train the four variants").click()
    status = page.locator("#fig-2 .ablation-status")
    expect(status).to_contain_text("trained: 1 block, 10 steps", timeout=120_000)
    tokenizer, data = shakespeare()
    config = deep_config(tokenizer.vocab_size, 1)
    legend = page.locator("#fig-2 .ablation-legend li").all_inner_texts()
    for text, (residual, norm) in zip(legend, [(True, True), (True, False), (False, True), (False, False)],
                                      strict=True):
        want = train(config, data, residual, norm, 10)
        assert f"step 10, loss {want[-1]:.4f}, mean of the last 10: {np.mean(want):.4f}" in text
    assert page.locator("#fig-2 path.curve").count() == 4
    page.get_by_label("variant whose layers to show").select_option("3")
    rows = page.locator("#fig-2 table.layer-stats tbody tr")
    expect(rows).to_have_count(2)
    want = ablation(1, 10, residual=False, layer_norm=False)["layers"]  # the same training, done here
    for i, layer in enumerate(want):
        shown = [float(c) for c in rows.nth(i).locator("td").all_inner_texts()[1:]]
        assert shown == pytest.approx([layer["mean"], layer["std"], layer["grad_rms"]], rel=6e-3)
    assert "fig-2.show=3" in page.url


def doc_shot(locator, name: str) -> None:
    """docs/screenshots/NAME.png: the figure as a small 128-colour PNG."""
    from PIL import Image

    path = DOCS / f"{name}.png"
    locator.screenshot(path=str(path))
    Image.open(path).convert("RGB").quantize(colors=128).save(path, optimize=True)
