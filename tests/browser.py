"""Shared by the browser tests: the real server on a loopback port, Debian's Chromium driven by Playwright.

Pages load offline (a non-loopback request fails the module), a console error or an uncaught exception fails
the test, and every tab leaves a screenshot in test-artifacts/.
"""

import contextlib
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import uvicorn
from playwright import sync_api

from gradschool.web.app import SERVER_OPTIONS

CHROMIUM = "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
DOCS = ROOT / "docs" / "screenshots"


@contextlib.contextmanager
def serve(app) -> Iterator[str]:
    """Run `app` on uvicorn on a free loopback port in a background thread; yields its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **SERVER_OPTIONS)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=5)


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
