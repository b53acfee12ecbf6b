"""Chapter 7 in a real browser (Debian's Chromium via Playwright) against the real server and a tiny GPT.

As in test_web_browser.py: offline (any non-loopback request fails the test), no console errors allowed,
screenshots in test-artifacts/ (and docs/screenshots/7-lm.png with GRADSCHOOL_UPDATE_SCREENSHOTS=1).
"""

import os

import browser
import pytest
from browser import DOCS, watched_tab
from live_server import serve
from playwright.sync_api import expect

from gradschool.train import make_config, train
from gradschool.web.app import create_app

browser_context = browser.browser_context  # the shared fixture: offline Chromium, see tests/browser.py


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The server over a runs folder holding a 2-layer, 2-head GPT trained briefly on names."""
    runs = tmp_path_factory.mktemp("runs")
    config = make_config("gpt", "names", n_layer=2, n_head=2, n_embd=32, block_size=16,
                         batch_size=16, max_iters=100, eval_interval=50, eval_iters=2, learning_rate=1e-2,
                         warmup_iters=0, out_dir=str(runs / "names-gpt"))
    train(config, progress=False)
    with serve(create_app(runs)) as url:
        yield url


@pytest.fixture
def empty_server(tmp_path):
    with serve(create_app(tmp_path / "runs")) as url:
        yield url


@pytest.fixture
def page(browser_context, request):
    with watched_tab(browser_context, request.node.name) as tab:
        yield tab


def test_sample_bars_and_attention(page, server):
    page.goto(server + "/lm#prompt=emi&seed=3")
    expect(page.locator("#model")).to_have_value("names-gpt")
    expect(page.locator("#model-info")).to_contain_text("gpt trained on names, 100 steps")
    samples = page.locator("#samples")
    expect(samples).to_contain_text("emi")
    first = samples.text_content()
    assert len(first.splitlines()) == 5 and all(s.startswith("emi") for s in first.splitlines())
    page.click("#sample")  # the same seed gives the same names
    expect(samples).to_have_text(first)
    page.fill("#seed", "4")
    page.locator("#seed").dispatch_event("change")
    expect(samples).not_to_have_text(first)

    expect(page.locator("#bars rect.bar")).to_have_count(15)
    page.fill("#top_k", "3")
    page.locator("#top_k").dispatch_event("change")
    expect(page.locator("#bars rect.bar")).to_have_count(3)

    heatmap = page.locator("#heatmap g.row")
    expect(heatmap).to_have_count(4)  # the boundary token and e, m, i
    expect(page.locator("#layer option")).to_have_count(2)
    expect(page.locator("#head option")).to_have_count(2)
    before = page.locator("#heatmap").inner_html()
    page.select_option("#head", "1")
    page.wait_for_function("h => document.querySelector('#heatmap').innerHTML !== h", arg=before)
    assert "head=1" in page.url and "top_k=3" in page.url
    heatmap.nth(2).locator("rect").first.hover()
    expect(page.locator("#hover-token")).to_have_text("2: m")
    expect(heatmap.nth(0)).to_have_attribute("opacity", "0.35")
    page.fill("#prompt", "emil")
    expect(heatmap).to_have_count(5)
    page.expected_console.append("status of 422")
    page.fill("#prompt", "Emil")
    expect(page.locator("#error")).to_contain_text("characters not in the vocabulary: 'E'")
    page.fill("#prompt", "emil")
    expect(page.locator("#error")).to_have_text("")
    expect(page.locator("#code")).to_contain_text("def attention")
    if os.environ.get("GRADSCHOOL_UPDATE_SCREENSHOTS"):
        from PIL import Image

        DOCS.mkdir(parents=True, exist_ok=True)
        path = DOCS / "7-lm.png"
        page.screenshot(path=str(path), full_page=True)
        Image.open(path).convert("RGB").quantize(colors=128).save(path, optimize=True)


def test_train_a_tiny_model_when_there_is_none(page, empty_server):
    page.goto(empty_server + "/lm")
    expect(page.locator("#no-models")).to_be_visible()
    page.fill("#train-steps", "50")
    page.click("#train")
    expect(page.locator("#train-step")).to_have_text("50", timeout=60_000)
    expect(page.locator("#model")).to_have_value("tiny-names")
    expect(page.locator("#train-chart path.curve")).to_have_count(1)
    expect(page.locator("#samples")).not_to_be_empty()
    expect(page.locator("#bars rect.bar")).to_have_count(15)
