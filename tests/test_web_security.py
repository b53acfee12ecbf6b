"""The course server is safe to run while the user browses the web: any page they visit can reach 127.0.0.1.

Host and Origin checks, the body cap, the security headers, the runs folder's symlinks and FIFOs, the limit on
language-model trainings, and the plain 422 for any bad input, through the TestClient and the real server.
"""

import json
import multiprocessing
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from live_server import serve
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from gradschool import checkpoint
from gradschool.lessons import lessons
from gradschool.runs import BEST
from gradschool.train import make_config, train
from gradschool.web.app import create_app
from gradschool.web.lm_training import MAX_TRAININGS, claim_folder
from gradschool.web.security import MAX_BODY
from gradschool.web.session import SWITCH_INTERVAL

BASE = "http://127.0.0.1:8000"
WS = "ws://127.0.0.1:8000"
app = create_app()
client = TestClient(app, base_url=BASE)
START = {"type": "start", "data": "names", "steps": 2000, "n_embd": 16}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A runs folder: a GPT trained for a few steps, and an imported copy of it (no training history)."""
    folder = tmp_path_factory.mktemp("runs")
    config = make_config("gpt", "names", n_layer=1, n_head=2, n_embd=16, block_size=8,
                         batch_size=8, max_iters=10, eval_interval=10, eval_iters=1, learning_rate=1e-2,
                         warmup_iters=0, out_dir=str(folder / "names-gpt"))
    train(config, progress=False)
    state = checkpoint.load(folder / "names-gpt" / BEST)
    (folder / "imported").mkdir()
    checkpoint.save(folder / "imported" / BEST, {k: v for k, v in state.items()
                                                 if k not in ("train_config", "iter_num", "best_val_loss")})
    return folder


# --- Host: a DNS-rebinding page names its own host, and is refused ---

@pytest.mark.parametrize("host", ["evil.example:8000", "127.0.0.1:9999", "localhost", "testserver",
                                  "127.0.0.1.evil.example:8000", ""])
def test_a_foreign_host_is_refused(host):
    r = client.get("/chapter/1", headers={"host": host})
    assert r.status_code == 400
    assert "answers only to" in r.json()["detail"]


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "LOCALHOST:8000", "[::1]:8000"])
def test_the_servers_own_names_are_served(host):
    assert client.get("/chapter/1", headers={"host": host}).status_code == 200


def test_the_default_test_client_host_is_refused():
    assert TestClient(app).get("/").status_code == 400  # "testserver" is not this server


def test_the_bound_host_is_accepted():
    named = TestClient(create_app(hosts=["mybox.local"]), base_url=BASE)
    assert named.get("/", headers={"host": "mybox.local:8000"}).status_code == 200
    assert named.get("/", headers={"host": "otherbox.local:8000"}).status_code == 400


# --- Origin: another site's page may not drive the API or the websockets ---

@pytest.mark.parametrize("path", ["/api/train", "/api/lm/train"])
@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:9999",
                                    "https://127.0.0.1:8000"])
def test_websockets_refuse_a_foreign_origin(path, origin):
    with pytest.raises(WebSocketDisconnect) as e, client.websocket_connect(WS + path,
                                                                           headers={"origin": origin}):
        pass
    assert e.value.code == 1008


@pytest.mark.parametrize("origin", [None, "http://127.0.0.1:8000", "http://localhost:8000"])
def test_websockets_accept_the_servers_own_origin_or_none(origin):
    headers = {} if origin is None else {"origin": origin}
    with client.websocket_connect(WS + "/api/train", headers=headers) as ws:
        ws.send_json({"type": "reset", "config": {"task": "tiny"}})
        assert ws.receive_json()["type"] == "reset"


def test_posts_from_another_site_are_refused():
    r = client.post("/api/neuron", json={}, headers={"origin": "http://evil.example"})
    assert r.status_code == 403 and "other web sites" in r.json()["detail"]
    assert client.post("/api/neuron", json={}, headers={"origin": BASE}).status_code == 200


def test_the_real_server_refuses_foreign_origins_and_hosts():
    with serve(create_app()) as url:
        ws_url = url.replace("http", "ws") + "/api/train"
        for origin in ("http://evil.example", "null"):
            with pytest.raises(InvalidStatus) as e:
                connect(ws_url, origin=origin, proxy=None).close()
            assert e.value.response.status_code == 403
        with connect(ws_url, origin=url, proxy=None) as ws:
            ws.send(json.dumps({"type": "step"}))
            assert json.loads(ws.recv())["detail"] == "send a reset command first"
        port = url.rsplit(":", 1)[1]
        r = httpx.get(url + "/chapter/1", headers={"host": f"rebound.example:{port}"})
        assert r.status_code == 400


# --- security headers on every response ---

@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/", None), ("GET", "/lm", None), ("GET", "/static/course.js", None), ("GET", "/nope", None),
    ("POST", "/api/neuron", {}), ("POST", "/api/neuron", {"w1": 99}), ("GET", "/openapi.json", None),
])
def test_every_response_carries_the_security_headers(method, path, body):
    r = client.request(method, path, json=body)
    policy = r.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "connect-src 'self' ws://127.0.0.1:8000" in policy and "unsafe-inline" not in policy
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"


class Parts(HTMLParser):
    """A page's <head> (less its title and own scripts), its header <nav> (less aria-current), its scripts."""

    def __init__(self):
        super().__init__()
        self.where, self.head, self.nav, self.scripts = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.where.append(tag)
        attrs = [(k, v) for k, v in attrs if k != "aria-current"]
        if "header" in self.where and "nav" in self.where:
            self.nav.append((tag, attrs))
        elif "head" in self.where and tag != "title" and not (tag == "script" and "defer" in dict(attrs)) \
                and not dict(attrs).get("href", "").startswith("/static/figures/"):
            self.head.append((tag, attrs))  # all but the title and the page's own scripts and figure styles
        if tag == "script":
            self.scripts.append(dict(attrs))

    def handle_endtag(self, tag):
        if tag in self.where:
            del self.where[len(self.where) - 1 - self.where[::-1].index(tag):]

    def handle_data(self, data):
        if "header" in self.where and "nav" in self.where and data.strip():
            self.nav.append(data.strip())


def test_every_page_has_the_same_head_and_nav_and_no_inline_code():
    seen = []
    names = ["index", *(f"chapter/{n}" for n in lessons())]
    for name in names:
        text = client.get("/" if name == "index" else f"/{name}").text
        parts = Parts()
        parts.feed(text)
        seen.append((parts.head, parts.nav))
        assert all("src" in s for s in parts.scripts), f"{name} has an inline script"
        assert " style=" not in text and " onclick=" not in text and "<style" not in text, name
        if name != "index":
            assert f'href="/{name}" aria-current="page"' in text
            for kind in dict.fromkeys(f.kind for f in lessons()[int(name.split("/")[1])].figures()):
                assert {"src": f"/static/figures/{kind}.js", "defer": None} in parts.scripts
    assert all(s == seen[0] for s in seen)
    assert len([p for p in seen[0][1] if isinstance(p, str)]) == len(names)


# --- request bodies are capped before they are parsed ---

def test_a_body_over_the_cap_is_413_with_a_message():
    r = client.post("/api/graph", content=b"[" * (MAX_BODY + 1), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "1 MB" in r.json()["detail"]


def test_a_streamed_body_is_counted_too():
    def chunks():
        for _ in range(20):
            yield b" " * 100_000  # no Content-Length: the bytes themselves are counted

    r = client.post("/api/neuron", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_deeply_nested_json_is_a_4xx():
    r = client.post("/api/neuron", content=b"[" * 100_000, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500 and r.json()["detail"]


@pytest.mark.parametrize("path", ["/api/train", "/api/lm/train"])
def test_bad_websocket_frames_get_an_error_message(path):
    with client.websocket_connect(WS + path) as ws:
        for send in (lambda: ws.send_bytes(b"\x00\x01"), lambda: ws.send_text("not json"),
                     lambda: ws.send_text("x" * 100_000), lambda: ws.send_text("[1, 2]"),
                     lambda: ws.send_text('{"type": "reset", "config": {"task": "tiny", "lr": NaN}}')):
            send()
            m = ws.receive_json()
            assert m["type"] == "error" and m["detail"] and "Input should" not in m["detail"]


def test_a_websocket_frame_over_the_cap_closes_the_connection_on_the_real_server():
    with serve(create_app()) as url:
        ws_url = url.replace("http", "ws") + "/api/train"
        with connect(ws_url, proxy=None, max_size=None) as ws:
            ws.send("x" * (MAX_BODY + 1))
            with pytest.raises(ConnectionClosed) as e:
                ws.recv()
            assert e.value.rcvd.code == 1009  # message too big
        with connect(ws_url, proxy=None) as ws:  # and the server goes on serving
            ws.send(json.dumps({"type": "step"}))
            assert json.loads(ws.recv())["type"] == "error"


# --- the runs folder: only real models inside it ---

def test_a_symlink_out_of_the_runs_folder_is_not_served(runs, tmp_path):
    outside = tmp_path / "secret-run"
    outside.mkdir()
    (outside / BEST).write_bytes((runs / "names-gpt" / BEST).read_bytes())
    (runs / "escape").symlink_to(outside)
    (runs / "names-gpt-link").mkdir()
    (runs / "names-gpt-link" / BEST).symlink_to(outside / BEST)
    try:
        c = TestClient(create_app(runs), base_url=BASE)
        names = [m["name"] for m in c.get("/api/lm/models").json()]
        assert "escape" not in names and "names-gpt-link" not in names and "names-gpt" in names
        for name in ("escape", "names-gpt-link"):
            assert c.post("/api/lm/next", json={"model": name}).status_code == 404
    finally:
        (runs / "escape").unlink()
        (runs / "names-gpt-link" / BEST).unlink()
        (runs / "names-gpt-link").rmdir()


def test_a_fifo_named_best_ckpt_blocks_nothing(runs):
    (runs / "fifo").mkdir()
    os.mkfifo(runs / "fifo" / BEST)
    try:
        c = TestClient(create_app(runs), base_url=BASE)
        answers = []
        worker = threading.Thread(target=lambda: answers.extend([
            c.post("/api/lm/next", json={"model": "fifo"}).status_code,
            c.get("/api/lm/models").status_code,
            c.post("/api/lm/next", json={"model": "names-gpt", "prompt": "a"}).status_code]), daemon=True)
        worker.start()
        worker.join(timeout=120)  # a guard against hanging the suite, not a timing check
        assert answers == [404, 200, 200]
    finally:
        (runs / "fifo" / BEST).unlink()
        (runs / "fifo").rmdir()


def test_an_imported_model_and_a_broken_folder_hide_no_other_model(runs):
    (runs / "broken").mkdir()
    (runs / "broken" / BEST).write_bytes(b"not a checkpoint")
    try:
        c = TestClient(create_app(runs), base_url=BASE)
        r = c.get("/api/lm/models")
        assert r.status_code == 200
        models = {m["name"]: m for m in r.json()}
        assert set(models) == {"imported", "names-gpt"}
        assert models["imported"]["data"] == "imported" and models["imported"]["val_loss"] is None
        r = c.post("/api/lm/sample", json={"model": "broken"})
        assert r.status_code == 409 and str(runs) not in r.json()["detail"]
        assert c.post("/api/lm/sample", json={"model": "imported", "num": 1}).status_code == 200
    finally:
        (runs / "broken" / BEST).unlink()
        (runs / "broken").rmdir()


# --- language-model trainings: atomic folders, child processes, a server-wide cap ---

def test_simultaneous_claims_get_distinct_folders(tmp_path):
    with ThreadPoolExecutor(20) as pool:
        folders = list(pool.map(lambda _: claim_folder(tmp_path, "tiny-names"), range(20)))
    assert len({f.name for f in folders}) == 20 and all(f.is_dir() for f in folders)


def test_trainings_run_in_child_processes_and_are_capped_server_wide(tmp_path):
    c = TestClient(create_app(tmp_path), base_url=BASE)
    sockets = [c.websocket_connect(WS + "/api/lm/train") for _ in range(MAX_TRAININGS + 1)]
    try:
        started = []
        for ws in sockets[:MAX_TRAININGS]:
            ws.__enter__().send_json(START)
            started.append(ws.receive_json())
        assert [m["type"] for m in started] == ["started"] * MAX_TRAININGS
        assert len({m["name"] for m in started}) == MAX_TRAININGS
        children = {p.name for p in multiprocessing.active_children()}
        assert {f"train {m['name']}" for m in started} <= children
        extra = sockets[-1].__enter__()
        extra.send_json(START)
        full = extra.receive_json()
        assert full["type"] == "full" and f"already training {MAX_TRAININGS} models" in full["detail"]
        assert str(tmp_path) not in full["detail"]
        for ws in sockets[:MAX_TRAININGS]:
            ws.send_json({"type": "cancel"})
            while (m := ws.receive_json())["type"] in ("progress", "sample"):
                pass
            assert m["type"] == "cancelled"
        extra.send_json(START | {"steps": 25})  # a slot is free again
        assert extra.receive_json()["type"] == "started"
        while (m := extra.receive_json())["type"] in ("progress", "sample"):
            pass
        assert m["type"] == "done"
    finally:
        for ws in sockets:
            ws.__exit__(None, None, None)


def test_training_errors_never_show_server_paths(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    c = TestClient(create_app(blocked), base_url=BASE)
    with c.websocket_connect(WS + "/api/lm/train") as ws:
        ws.send_json(START)
        m = ws.receive_json()
    assert m["type"] == "error" and str(tmp_path) not in m["detail"] and "run folder" in m["detail"]


# --- bad input: a plain 422, never a 5xx ---

NUMBER_FIELDS = {"/api/neuron": ["w1", "w2", "b", "x1", "x2"], "/api/descent": ["w", "lr"],
                 "/api/derivative": ["x"], "/api/forward": ["seed"],
                 "/api/lm/sample": ["temperature", "top_k", "num", "max_new_tokens", "seed"],
                 "/api/lm/next": ["temperature", "top_k"], "/api/lm/attention": ["layer", "head"]}


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
@pytest.mark.parametrize("path", sorted(NUMBER_FIELDS))
def test_nan_and_infinity_are_a_plain_422(path, value):
    for field in NUMBER_FIELDS[path]:
        body = f'{{"model": "m", "prompt": "a", "{field}": {value}}}'
        r = client.post(path, content=body, headers={"content-type": "application/json"})
        assert r.status_code == 422, (path, field, r.text)
        detail = r.json()["detail"]
        assert field in detail and "Input should" not in detail and "body." not in detail


def test_graph_variables_errors_are_plain():
    r = client.post("/api/graph", content='{"variables": {"a": NaN, "__x": 1}}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"] == ("variable 'a' must be a finite number (not NaN or infinity); '__x' is "
                                  "not allowed as a name in variables: use a letter, then up to 15 letters, "
                                  "digits or _")


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                max_size=4), max_leaves=10)
FIELDS = sorted({f for fields in NUMBER_FIELDS.values() for f in fields} | {"x", "expression", "variables",
                                                                            "model", "prompt"})


@given(st.sampled_from([*NUMBER_FIELDS, "/api/graph"]), st.dictionaries(st.sampled_from(FIELDS), JSON,
                                                                           max_size=4) | JSON)
@settings(max_examples=60, suppress_health_check=list(HealthCheck))
def test_fuzzed_bodies_never_get_a_5xx(path, body):
    text = json.dumps(body)  # NaN and Infinity included, as Python writes them
    r = client.post(path, content=text, headers={"content-type": "application/json"})
    assert r.status_code < 500, r.text
    if r.status_code == 422:
        assert isinstance(r.json()["detail"], str) and "Input should" not in r.json()["detail"]


@given(st.dictionaries(st.sampled_from(["type", "config", "lr", "task", "hidden", "seed"]), JSON, max_size=3)
       | JSON)
@settings(max_examples=20, suppress_health_check=list(HealthCheck))
def test_fuzzed_training_messages_leave_the_session_working(message):
    with client.websocket_connect(WS + "/api/train") as ws:
        ws.send_text(json.dumps(message))
        ws.send_json({"type": "reset", "config": {"task": "tiny"}})  # then the session still answers
        while (m := ws.receive_json())["type"] != "reset":
            assert m["type"] in ("error", "step", "paused", "diverged")
            assert m["type"] != "error" or "Input should" not in m["detail"]


def test_the_server_asks_for_the_gil_sooner_only_while_it_runs():
    before = sys.getswitchinterval()
    with TestClient(create_app(), base_url=BASE) as c:  # runs the app's lifespan
        assert c.get("/").status_code == 200
        assert sys.getswitchinterval() == SWITCH_INTERVAL < before
    assert sys.getswitchinterval() == before
