"""The course server for real in tests: uvicorn on a free loopback port, in a background thread."""

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn

from gradschool.web.app import SERVER_OPTIONS


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
