"""The course web app's JSON API and websocket: its numbers, its validation, and the expression parser."""

import math
import random
import socket
import subprocess
import sys
import time

import httpx
import pytest
import schemathesis
import torch
from click.testing import CliRunner
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradschool.cli import cli
from gradschool.scalar.nn import MLP
from gradschool.web import expr, training
from gradschool.web.app import create_app

app = create_app()
client = TestClient(app, base_url="http://127.0.0.1:8000")  # the server's own address, as the Host
WS = "ws://127.0.0.1:8000"  # websocket_connect needs the full URL, else it names the host "testserver"


def post(path: str, body: dict) -> dict:
    r = client.post(path, json=body)
    assert r.status_code == 200, r.text
    return r.json()


def rejected(path: str, body: dict) -> str:
    """POST a bad body; it must be a 422 whose detail is a readable message; returns it as text."""
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    return r.text


# --- pages and static files ---

@pytest.mark.parametrize("page", ["/", "/chapter/1", "/chapter/2", "/lm"])
def test_pages_are_served(page):
    r = client.get(page)
    assert r.status_code == 200
    assert "/static/course.js" in r.text


@pytest.mark.parametrize(("old", "chapter", "kind"), [
    ("/neuron", 1, "neuron"), ("/derivative", 1, "derivative"), ("/graph", 1, "graph"),
    ("/forward", 2, "forward"), ("/loss", 2, "descent"), ("/training", 2, "training")])
def test_the_old_demo_pages_redirect_to_their_figure_in_a_chapter(old, chapter, kind):
    r = client.get(old, follow_redirects=False)
    assert r.status_code == 308
    path, anchor = r.headers["location"].split("#")
    assert path == f"/chapter/{chapter}"
    page = client.get(path).text
    assert f'id="{anchor}" data-figure="{kind}"' in page


def test_unknown_page_is_404_naming_the_pages():
    r = client.get("/nope")
    assert r.status_code == 404
    assert "/chapter/1, /chapter/2" in r.json()["detail"]  # the pages it does have


def test_static_files_and_openapi():
    assert client.get("/static/course.css").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "/api/graph" in schema["paths"]


# --- the numbers of each page ---

def test_neuron_matches_the_formula_and_its_slopes():
    w1, w2, b, x1, x2 = 0.7, -1.2, 0.3, 0.5, -0.3
    r = post("/api/neuron", {"w1": w1, "w2": w2, "b": b})
    raw = w1 * x1 + w2 * x2 + b
    assert r["raw"] == pytest.approx(raw, abs=1e-12)
    assert r["out"] == pytest.approx(math.tanh(raw), abs=1e-12)
    slope = 1 - math.tanh(raw) ** 2
    assert r["grads"] == pytest.approx({"w1": slope * x1, "w2": slope * x2, "b": slope}, abs=1e-12)


def test_neuron_defaults_are_the_seed_inputs():
    r = post("/api/neuron", {})
    assert r["raw"] == pytest.approx(0.5 * 0.5 + (-0.3) * (-0.3))


def test_forward_pass_matches_a_hand_computation_from_its_weights():
    r = post("/api/forward", {"x": [1.0, -2.0], "seed": 7})
    h = r["layers"][0]
    for ws, bs, values in zip(r["weights"], r["biases"], r["layers"][1:], strict=True):
        h = [math.tanh(sum(w * x for w, x in zip(row, h, strict=True)) + b)
             for row, b in zip(ws, bs, strict=True)]
        assert values == pytest.approx(h, abs=1e-12)
    assert [len(layer) for layer in r["layers"]] == [2, 3, 1]
    assert post("/api/forward", {"x": [1.0, -2.0], "seed": 7}) == r  # the seed fixes the weights


def test_descent_starts_at_the_seed_values_and_steps_downhill():
    r = post("/api/descent", {"w": 3.0, "lr": 0.1})
    assert (r["w"], r["loss"], r["grad"]) == (3.0, pytest.approx(1.0), pytest.approx(2.0))
    assert r["new_w"] == pytest.approx(3.0 - 0.1 * 2 * (3.0 - 2))
    assert r["new_loss"] == pytest.approx((r["new_w"] - 2) ** 2)
    assert not r["diverging"]
    assert post("/api/descent", {"w": 3.0, "lr": 1.2})["diverging"]


def test_derivative_of_x_squared():
    r = post("/api/derivative", {"x": 1.0})
    assert (r["f"], r["dfdx"]) == (pytest.approx(1.0), pytest.approx(2.0))
    for x in (-2.5, -0.3, 0.0, 1.7):
        r = post("/api/derivative", {"x": x})
        assert r["dfdx"] == pytest.approx(2 * x) and r["f"] == pytest.approx(x * x)


def test_expression_graph_of_the_seed():
    r = post("/api/graph", {"expression": "tanh(a*b + a)", "variables": {"a": 2, "b": -3}})
    nodes = {n["label"]: n for n in r["nodes"] if n["label"]}
    e = r["nodes"][r["root"]]
    assert f"{e['data']:.4f}" == "-0.9993"
    assert (f"{nodes['a']['grad']:.4f}", f"{nodes['b']['grad']:.4f}") == ("-0.0027", "0.0027")
    # Each grad is the sum of local x upstream over the nodes that use it (the chain rule, shown on the page).
    for n in r["nodes"]:
        if n["terms"]:
            assert n["grad"] == pytest.approx(sum(t["local"] * t["upstream"] for t in n["terms"]))
    assert r["backward_order"][0] == r["root"]
    order = {node_id: i for i, node_id in enumerate(r["backward_order"])}
    assert all(order[t["parent"]] < order[n["id"]] for n in r["nodes"] for t in n["terms"])


@pytest.mark.parametrize(("text", "torch_fn"), [
    ("tanh(a*b + a)", lambda a, b: torch.tanh(a * b + a)),
    ("a - b/a + a^3 - 2^b", lambda a, b: a - b / a + a**3 - 2**b),
    ("-a^2 * sigmoid(b) + relu(b - a)", lambda a, b: -(a**2) * torch.sigmoid(b) + torch.relu(b - a)),
    ("exp(b) * log(a) / (1 + a*a)", lambda a, b: torch.exp(b) * torch.log(a) / (1 + a * a)),
    ("a ** b + 3.5e-1 * (a + (b))", lambda a, b: a**b + 0.35 * (a + b)),
])
def test_expression_gradients_match_pytorch(text, torch_fn):
    values = {"a": 1.3, "b": -0.7}
    r = post("/api/graph", {"expression": text, "variables": values})
    a, b = (torch.tensor(values[k], dtype=torch.float64, requires_grad=True) for k in "ab")
    out = torch_fn(a, b)
    out.backward()
    leaves = {n["label"]: n["grad"] for n in r["nodes"] if n["label"] in values}
    assert r["nodes"][r["root"]]["data"] == pytest.approx(out.item(), rel=1e-12)
    assert leaves["a"] == pytest.approx(a.grad.item(), rel=1e-9)
    assert leaves["b"] == pytest.approx(b.grad.item(), rel=1e-9)


TORCH_FUNCTIONS = {"tanh": torch.tanh, "exp": torch.exp, "log": torch.log, "relu": torch.relu,
                   "sigmoid": torch.sigmoid}


@st.composite
def expressions(draw, depth=3):
    """A random expression over a and b as (text, the same function in torch)."""
    if depth == 0 or draw(st.booleans()):
        leaf = draw(st.sampled_from(["a", "b", "1.5", "2", "0.5"]))
        if leaf in ("a", "b"):
            return leaf, (lambda a, b: a if leaf == "a" else b)
        return leaf, (lambda a, b: float(leaf))
    kind = draw(st.sampled_from(["+", "-", "*", "/", "^", "neg", *TORCH_FUNCTIONS]))
    lt, lf = draw(expressions(depth=depth - 1))
    if kind == "neg":
        return f"-({lt})", lambda a, b: -lf(a, b)
    if kind in TORCH_FUNCTIONS:
        fn = TORCH_FUNCTIONS[kind]
        return f"{kind}({lt})", lambda a, b: fn(torch.as_tensor(lf(a, b), dtype=torch.float64))
    if kind == "^":
        k = draw(st.sampled_from([2, 3]))
        return f"({lt})^{k}", lambda a, b: lf(a, b) ** k
    rt, rf = draw(expressions(depth=depth - 1))
    ops = {"+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y, "/": lambda x, y: x / y}
    return f"({lt}) {kind} ({rt})", lambda a, b: ops[kind](lf(a, b), rf(a, b))


# values where a gradient is a sum of terms of ordinary size: near 1e-284, x/x's two local derivatives are
# +-4e283 and the order of summing them decides what survives, in PyTorch as here (an artefact, not math)
ORDINARY = st.floats(-3, 3).filter(lambda v: v == 0 or abs(v) > 1e-6)


@given(expressions(), ORDINARY, ORDINARY)
@settings(max_examples=40)
def test_random_expressions_match_pytorch_or_are_rejected_cleanly(expression, a_value, b_value):
    text, fn = expression
    r = client.post("/api/graph", json={"expression": text, "variables": {"a": a_value, "b": b_value}})
    assert r.status_code in (200, 422), r.text
    if r.status_code == 422:
        assert r.json()["detail"]
        return
    body = r.json()
    a, b = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a_value, b_value))
    out = torch.as_tensor(fn(a, b), dtype=torch.float64)
    assert body["nodes"][body["root"]]["data"] == pytest.approx(out.item(), rel=1e-9, abs=1e-12)
    if out.requires_grad:
        out.backward()
        grads = {n["label"]: n["grad"] for n in body["nodes"] if n["label"] in ("a", "b")}
        for name, leaf in (("a", a), ("b", b)):
            if name in grads and leaf.grad is not None:
                assert grads[name] == pytest.approx(leaf.grad.item(), rel=1e-7, abs=1e-9)


def test_precedence_and_associativity():
    def value(text: str) -> float:
        root, _ = expr.parse(text, {"x": 2.0})
        return root.data

    assert value("1 + 2*3") == 7
    assert value("(1 + 2)*3") == 9
    assert value("-x^2") == -4  # power binds tighter than unary minus, as in maths
    assert value("2^3^2") == 512  # right-associative
    assert value("8 / 4 / 2") == 1  # left-associative
    assert value("x - 3 - 1") == -2
    assert value(".5 + 1.") == 1.5


# --- validation: every bad input is a 4xx with a message ---

@pytest.mark.parametrize(("body", "where"), [
    ({"w1": 11}, "w1"), ({"b": "x"}, "b"), ({"w1": 1, "extra": 2}, "extra"),
])
def test_neuron_rejects_bad_numbers(body, where):
    assert where in rejected("/api/neuron", body)


def test_other_endpoints_reject_out_of_range_input():
    assert "x" in rejected("/api/forward", {"x": [1.0, 2.0, 3.0]})
    assert "seed" in rejected("/api/forward", {"seed": -1})
    assert "lr" in rejected("/api/descent", {"lr": 99})
    assert "w" in rejected("/api/descent", {"w": 1e9})
    assert "x" in rejected("/api/derivative", {"x": 4})
    assert "expression" in rejected("/api/graph", {"expression": "a" * 201})
    assert "variables" in rejected("/api/graph", {"variables": {f"v{i}": 1 for i in range(9)}})
    assert "variables" in rejected("/api/graph", {"variables": {"__class__": 1}})


@pytest.mark.parametrize(("text", "position", "words"), [
    ("a +", 3, "end of the expression"),
    ("a.b", 1, "unexpected character '.'"),
    ("__import__('os')", 0, "unexpected character '_'"),
    ("a.__class__", 1, "unexpected character '.'"),
    ("open(a)", 0, "unknown function 'open'"),
    ("eval(a)", 0, "unknown function 'eval'"),
    ("a; b", 1, "unexpected character ';'"),
    ("c * 2", 0, "unknown variable 'c'"),
    ("(a + b", 6, "expected ')'"),
    ("a b", 2, "after a complete expression"),
    ("", 0, "empty"),
    ("1/0", 1, "math error"),
    ("log(0)", 0, "math error"),
    ("exp(1000)", 0, "not a finite real number"),
    ("(-8)^0.5", 4, "math error: a negative number to a non-integer power"),
    ("a" + "+a" * 90, 161, "more than 80 nodes"),
    ("(" * 40 + "a" + ")" * 40, 30, "nests deeper"),
    ("1e9 * a", 0, "too large"),
    ("a^b", None, "is not a finite number"),  # with a = -2 < 0, d(a^b)/db = a^b log(a) does not exist
])
def test_bad_expressions_name_the_problem_and_position(text, position, words):
    variables = {"a": -2, "b": 2} if text == "a^b" else {"a": 2, "b": -3}
    r = client.post("/api/graph", json={"expression": text, "variables": variables})
    assert r.status_code == 422
    body = r.json()
    assert words in body["detail"]
    assert body["position"] == position


def test_parser_never_evaluates_python():
    with pytest.raises(expr.ExprError):
        expr.parse("__import__('os').system('true')", {})
    with pytest.raises(expr.ExprError):
        expr.parse("(lambda: 1)()", {})


# --- live training over the websocket ---

def tiny_loss_by_hand(seed: int) -> float:
    """The seed's squared-error loss of MLP(4, [3, 1]) at its initial weights, in plain floats."""
    model = MLP(4, [3, 1], rng=random.Random(seed))
    xs = [[2.0, 3.0, -1.0, 1.0], [3.0, -1.0, 0.5, 1.0], [0.5, 1.0, 1.0, 1.0], [1.0, 1.0, -1.0, 1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    loss = 0.0
    for x, y in zip(xs, ys, strict=True):
        h = x
        for layer in model.layers:
            h = [math.tanh(sum(w.data * v for w, v in zip(n.w, h, strict=True)) + n.b.data)
                 for n in layer.neurons]
        loss += (h[0] - y) ** 2
    return loss


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_the_heatmap_predictor_agrees_with_the_engine(activation):
    model = MLP(2, [5, 4, 1], nonlin=activation, rng=random.Random(0))
    for x in ([0.3, -1.2], [2.0, 0.5], [-1.0, 1.0]):
        assert training.predict(model, x) == pytest.approx(model(x).data, rel=1e-12, abs=1e-12)


def test_training_steps_lower_the_loss():
    with client.websocket_connect(WS + "/api/train") as ws:
        ws.send_json({"type": "reset", "config": {"task": "tiny", "lr": 0.05, "seed": 3}})
        assert ws.receive_json()["type"] == "reset"
        losses = []
        for _ in range(20):
            ws.send_json({"type": "step"})
            m = ws.receive_json()
            assert m["type"] == "step"
            losses.append(m["loss"])
        assert losses[0] == pytest.approx(tiny_loss_by_hand(3), rel=1e-12)
        assert losses[-1] < losses[0] / 2
        assert m["step"] == 20 and len(m["predictions"]) == 4


def test_play_pause_and_moons():
    with client.websocket_connect(WS + "/api/train") as ws:
        config = {"task": "moons", "hidden": [4], "activation": "tanh", "lr": 0.1, "batch_size": 10,
                  "seed": 2}
        ws.send_json({"type": "reset", "config": config})
        m = ws.receive_json()
        assert m["type"] == "reset" and len(m["points"]) == 100 and len(m["grid"]) == 25
        ws.send_json({"type": "play"})
        m = ws.receive_json()
        assert m["type"] == "step" and 0 <= m["accuracy"] <= 1
        ws.send_json({"type": "pause"})
        while m["type"] != "paused":
            m = ws.receive_json()
        assert m["step"] >= 1


def test_too_high_learning_rate_reports_divergence():
    with client.websocket_connect(WS + "/api/train") as ws:
        config = {"task": "moons", "hidden": [16, 16, 16], "activation": "relu", "lr": 5, "batch_size": 10,
                  "seed": 1}
        ws.send_json({"type": "reset", "config": config})
        ws.receive_json()
        kinds = []
        for _ in range(30):
            ws.send_json({"type": "step"})
            m = ws.receive_json()
            kinds.append(m["type"])
            if m["type"] == "diverged":
                break
        assert kinds[-1] == "diverged" and "lower the learning rate" in m["detail"]


@pytest.mark.parametrize(("message", "words"), [
    ({"type": "fly"}, "type"),
    ({"type": "reset", "config": {"task": "moons", "hidden": [99]}}, "hidden"),
    ({"type": "reset", "config": {"task": "tiny", "lr": -1}}, "lr"),
    ({"type": "step"}, "send a reset command first"),
    ({"type": "reset", "config": {"task": "gpt"}}, "task"),
])
def test_bad_training_messages_get_an_error_message(message, words):
    with client.websocket_connect(WS + "/api/train") as ws:
        ws.send_json(message)
        m = ws.receive_json()
        assert m["type"] == "error" and words in m["detail"]


def test_disconnecting_stops_the_job():
    with client.websocket_connect(WS + "/api/train") as ws:
        ws.send_json({"type": "reset", "config": {"task": "tiny"}})
        ws.receive_json()
        ws.send_json({"type": "play"})
        ws.receive_json()
        [session] = app.state.sessions
        assert session.playing()
    assert not app.state.sessions
    assert session.task.done() and session.job.steps < session.MAX_STEPS


def test_the_number_of_training_sessions_is_limited(monkeypatch):
    monkeypatch.setattr(app.state, "sessions", {object() for _ in range(8)})
    with client.websocket_connect(WS + "/api/train") as ws:
        m = ws.receive_json()
        assert m["type"] == "error" and "close one and retry" in m["detail"]


# --- fuzzing the whole API from its OpenAPI schema: never a 5xx ---

LOCAL = {"host": "127.0.0.1"}  # schemathesis's client calls the server "testserver", which the app refuses
schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=LOCAL)


@schema.parametrize()
@settings(max_examples=25, suppress_health_check=list(HealthCheck))
def test_fuzz_no_server_errors(case):
    response = case.call(headers=LOCAL)
    assert response.status_code < 500, response.text


# --- the `gradschool serve` command ---

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_prints_the_url_and_serves_the_course():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gradschool", "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line
        for _ in range(100):
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/chapter/1", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert r.status_code == 200 and "The neuron and the chain rule" in r.text
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_warns_when_not_on_loopback_only_and_refuses_a_busy_port():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--host", "localhost", "--port", str(port)])
    assert result.exit_code == 1
    assert "other machines" in result.output and "pick another port with --port" in result.output


def test_serve_without_the_web_extra_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # makes `import uvicorn` fail
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 1
    assert "pip install 'gradschool[web]'" in result.output


def test_a_field_named_like_pydantics_key_marker_is_a_plain_422():
    # pydantic marks a dict key's error with "[key]" in its location: a field named so is still just extra
    r = client.post("/api/neuron", json={"[key]": None})
    assert r.status_code == 422 and r.json()["detail"] == "[key] is not a field this request knows; remove it"
    r = client.post("/api/graph", json={"expression": "a", "variables": {"[key]": 1}})
    assert r.status_code == 422 and "'[key]' is not allowed as a name in variables" in r.json()["detail"]
