"""Chapter 7 in a real browser (Debian's Chromium via Playwright) against the real server and a tiny GPT.

As in test_web_browser.py: offline (any non-loopback request fails the test), no console errors allowed,
screenshots in test-artifacts/ (and docs/screenshots/7-lm.png with GRADSCHOOL_UPDATE_SCREENSHOTS=1).
"""

import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
import uvicorn
from playwright import sync_api
from playwright.sync_api import expect

from gradschool.train import make_config, train
from gradschool.web.app import create_app

CHROMIUM = "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
DOCS = ROOT / "docs" / "screenshots"


def start_server(runs_dir: Path):
    """The real app on uvicorn, on a free loopback port, in a background thread."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(runs_dir), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    return srv, thread, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The server over a runs folder holding a 2-layer, 2-head GPT trained briefly on names."""
    runs = tmp_path_factory.mktemp("runs")
    config = make_config("gpt", "names", preset={}, n_layer=2, n_head=2, n_embd=32, block_size=16,
                         batch_size=16, max_iters=100, eval_interval=50, eval_iters=2, learning_rate=1e-2,
                         warmup_iters=0, out_dir=str(runs / "names-gpt"))
    train(config, progress=False)
    srv, thread, url = start_server(runs)
    yield url
    srv.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def empty_server(tmp_path):
    srv, thread, url = start_server(tmp_path / "runs")
    yield url
    srv.should_exit = True
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser_context():
    blocked = []

    def only_loopback(route):
        url = route.request.url
        if urlparse(url).hostname in ("127.0.0.1", "localhost") or url.startswith("data:"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_api.sync_playwright() as p, tempfile.TemporaryDirectory(prefix="pw-udd-") as profile:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True,
                                                   args=ARGS, viewport={"width": 1100, "height": 820})
        ctx.route("**/*", only_loopback)
        yield ctx
        ctx.close()
    assert blocked == [], f"the pages tried to reach the network: {blocked}"


@pytest.fixture
def page(browser_context, request):
    """A fresh tab; any console error or uncaught exception fails the test. Saves a screenshot at the end."""
    errors = []
    tab = browser_context.new_page()
    tab.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    tab.expected_console = []  # a test that sends bad input on purpose lists the 4xx it expects here
    yield tab
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    tab.close()
    assert [e for e in errors if not any(x in e for x in tab.expected_console)] == []


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
    expect(page.locator("#error")).to_contain_text("characters the model does not know: 'E'")
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
