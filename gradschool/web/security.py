"""What keeps a page on another site from using the course server, which any page the user visits can reach.

`Guard` is an ASGI middleware in front of the whole app. On every request it checks:

- the Host header names this server (127.0.0.1, localhost, [::1] or the bound host, with this server's
  port), else 400: a DNS-rebinding page reaches 127.0.0.1 under its own name, and is refused here. Unlike
  Starlette's TrustedHostMiddleware the port is checked too: a Host naming another port was not sent to us.
- an Origin header, when there is one, is this server's own (http://HOST:PORT for those hosts), else 403 for
  HTTP and a refused websocket: another site's page (or a sandboxed one, Origin "null") cannot drive the
  training websockets or post to the API. No Origin (curl, scripts) is fine.
- the body is at most MAX_BODY bytes, counted before the app parses it (Content-Length and the bytes
  actually streamed), else 413 with a JSON message.

and it adds security headers to every HTTP response: a Content-Security-Policy allowing only the app's own
scripts, styles and connections (no inline code), and nosniff / no-referrer / no framing.
"""

import contextlib
import ipaddress
import json
from collections.abc import Awaitable, Callable, Iterable

MAX_BODY = 1_000_000
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")

Scope = dict
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


def security_headers(host: str) -> list[tuple[bytes, bytes]]:
    """The headers every response carries; `host` is the (already checked) Host the page was loaded from."""
    policy = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              f"connect-src 'self' ws://{host}; object-src 'none'; base-uri 'none'; form-action 'self'; "
              "frame-ancestors 'none'")
    return [(b"content-security-policy", policy.encode()), (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY"),
            (b"cross-origin-resource-policy", b"same-origin"),
            (b"cross-origin-opener-policy", b"same-origin")]


class Guard:
    """The ASGI middleware described above; `hosts` adds names the server may be reached by (its --host)."""

    def __init__(self, app: Callable, hosts: Iterable[str] = (), max_body: int = MAX_BODY):
        self.app = app
        self.names = {*LOOPBACK, *(h.lower() for h in hosts)}
        self.max_body = max_body

    def allowed_hosts(self, scope: Scope) -> set[str]:
        """host:port strings this request may name: the known names (and the address it came in on)."""
        server = scope.get("server") or ("127.0.0.1", 80)
        address, port = str(server[0]).lower(), server[1]
        names = set(self.names)
        with contextlib.suppress(ValueError):  # the address the request came in on, when it is an IP address
            names.add(f"[{address}]" if ipaddress.ip_address(address).version == 6 else address)
        return {f"{name}:{port}" for name in names} | ({*names} if port == 80 else set())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        allowed = self.allowed_hosts(scope)
        host = headers.get("host", "").strip().lower()
        origin = headers.get("origin")
        if host not in allowed:
            port = (scope.get("server") or ("", 80))[1]
            named = f"named {host[:100]!r}" if host else "named no host"
            problem = (400, f"this server answers only to requests for 127.0.0.1:{port} or localhost:{port} "
                       f"(this one {named}); open the course at http://127.0.0.1:{port}/")
        elif origin is not None and origin.lower() not in {f"http://{h}" for h in allowed}:
            problem = (403, "requests from other web sites are refused: open the course from the server's "
                       "own address")
        else:
            problem = None
        if problem is not None:
            await self.refuse(scope, receive, send, *problem)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        length = headers.get("content-length", "0")
        body = await self.read_body(receive) if length.isdigit() and int(length) <= self.max_body else None
        if body is None:
            await self.respond(send, 413, f"the request body is larger than the limit of "
                               f"{self.max_body // 1_000_000} MB", host)
            return
        await self.app(scope, replay(body, receive), with_headers(send, security_headers(host)))

    async def read_body(self, receive: Receive) -> list[dict] | None:
        """The request's body messages, or None once more than max_body bytes arrive."""
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages
            size += len(message.get("body", b""))
            if size > self.max_body:
                return None
            if not message.get("more_body"):
                return messages

    async def refuse(self, scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
        if scope["type"] == "websocket":
            # Closing before the handshake is accepted answers it with HTTP 403.
            await send({"type": "websocket.close", "code": 1008, "reason": detail[:120]})
        else:
            await self.respond(send, status, detail, "127.0.0.1")

    async def respond(self, send: Send, status: int, detail: str, host: str) -> None:
        body = json.dumps({"detail": detail}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()), (b"connection", b"close"),
                                *security_headers(host)]})
        await send({"type": "http.response.body", "body": body})


def replay(messages: list[dict], receive: Receive) -> Receive:
    """A receive that first hands back the body already read, then the real one (for the disconnect)."""
    pending = list(messages)

    async def again() -> dict:
        return pending.pop(0) if pending else await receive()

    return again


def with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    """A send that adds `extra` headers to the response's start."""

    async def sending(message: dict) -> None:
        if message["type"] == "http.response.start":
            names = {k.lower() for k, _ in extra}
            message = {**message, "headers": [*(h for h in message.get("headers", [])
                                                if h[0].lower() not in names), *extra]}
        await send(message)

    return sending
