"""Shared by the browser tests: Debian's Chromium driven by Playwright (the server: live_server.serve).

Pages load offline (a non-loopback request fails the module), a console error or an uncaught exception fails
the test, and every tab leaves a screenshot in test-artifacts/.
"""

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright import sync_api

CHROMIUM = "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
DOCS = ROOT / "docs" / "screenshots"


@pytest.fixture(scope="module")
def browser_context():
    """A headless Chromium with a fresh profile that lets only loopback requests through."""
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


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The real course server (create_app's defaults) on a free 127.0.0.1 port (a module may have its own)."""
    from live_server import serve

    from gradschool.web.app import create_app

    with serve(create_app()) as url:
        yield url


@pytest.fixture
def page(browser_context, server, request) -> Iterator[sync_api.Page]:
    """A watched tab (see watched_tab) named after the test, its `base` the server's URL."""
    with watched_tab(browser_context, request.node.name) as tab:
        tab.base = server
        yield tab


@contextlib.contextmanager
def watched_tab(context, name: str) -> Iterator[sync_api.Page]:
    """A fresh tab that fails the test on page errors and on console errors not in tab.expected_console."""
    errors = []
    tab = context.new_page()
    tab.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    tab.expected_console = []  # a test that sends bad input on purpose lists the 4xx it expects here
    yield tab
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    tab.close()
    assert [e for e in errors if not any(x in e for x in tab.expected_console)] == []


def doc_screenshot(tab: sync_api.Page, name: str, at: sync_api.Locator | None = None) -> None:
    """Refresh docs/screenshots/NAME.png (what the tab shows, centred on `at` if given, as a small 128-colour
    PNG) when asked to with GRADSCHOOL_UPDATE_SCREENSHOTS=1."""
    if not os.environ.get("GRADSCHOOL_UPDATE_SCREENSHOTS"):
        return
    from PIL import Image

    if at is not None:
        at.evaluate("e => e.scrollIntoView({block: 'center'})")

    DOCS.mkdir(parents=True, exist_ok=True)
    path = DOCS / f"{name}.png"
    tab.screenshot(path=str(path))
    Image.open(path).convert("RGB").quantize(colors=128).save(path, optimize=True)
