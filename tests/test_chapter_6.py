"""Chapter 6, graduating to tensors: its figures' numbers against the Tensor engine, computed here.

The broadcasting explorer's shape or error is the engine's own, its gradients are Tensor.backward's, the race
computes the same loss on both engines (its times are the server's and are not asserted), and the lesson
quotes only numbers that rung 6 prints.
"""

import os
import random
import re

import browser
import numpy as np
import pytest
from browser import DOCS
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from gradschool.data.toy import make_spirals
from gradschool.lessons import lesson
from gradschool.rungs import r6_tensors
from gradschool.rungs.r6_tensors import (
    graph_sizes,
    moons_loss_tensor,
    moons_lr,
    moons_models,
    spirals_loss_tensor,
    spirals_lr,
    tensor_copy,
    train_tensor,
)
from gradschool.scalar.nn import MLP as ScalarMLP
from gradschool.tensor import Tensor
from gradschool.web.app import create_app

# the shared fixtures (tests/browser.py): offline Chromium, the real server, a watched tab
browser_context, server, page = browser.browser_context, browser.server, browser.page
client = TestClient(create_app(), base_url="http://127.0.0.1:8000")
OPS = {"+": lambda a, b: a + b, "*": lambda a, b: a * b, "@": lambda a, b: a @ b}


def engine_answer(shape_a: tuple, shape_b: tuple, op: str) -> tuple[list | None, str | None]:
    """What the Tensor engine itself says about a OP b: the result's shape, or its error message."""
    try:
        return list(OPS[op](Tensor(np.zeros(shape_a)), Tensor(np.zeros(shape_b))).shape), None
    except ValueError as e:
        return None, str(e)


def engine_grads(shape_a: tuple, shape_b: tuple, op: str) -> tuple[np.ndarray, np.ndarray]:
    """a.grad and b.grad after (a OP b).sum().backward(), a and b as the explorer fills them."""
    a = Tensor(np.arange(1.0, np.prod(shape_a) + 1).reshape(shape_a), requires_grad=True)
    b = Tensor(np.arange(1.0, np.prod(shape_b) + 1).reshape(shape_b) / 10, requires_grad=True)
    OPS[op](a, b).sum().backward()
    return a.grad, b.grad


# --- the lesson and the rung program ---

def test_rung6_prints_the_numbers_its_lesson_quotes_and_names_its_chapter(capsys, monkeypatch):
    text = lesson(6).text
    run_moons, run_spirals = r6_tensors.run_moons, r6_tensors.run_spirals
    monkeypatch.setattr(r6_tensors, "run_moons", lambda: run_moons(steps=1))  # step 0 as in the full run
    monkeypatch.setattr(r6_tensors, "run_spirals", lambda: run_spirals(steps=1))
    r6_tensors.main()
    out = capsys.readouterr().out
    assert out.rstrip().endswith("chapter 6 of the course: `gradschool serve`, then http://127.0.0.1:8000/chapter/6")
    values, tensors = graph_sizes()
    assert f"a graph of {values} Values" in out and f"of {tensors} Tensors" in out
    assert "1.983968436788   1.983968436788   2.2e-16" in out  # moons, step 0, both engines
    quoted = {"1.983968436788", "2.2e-16", str(values), str(tensors), f"({values}, {tensors})"}

    # the full run's later numbers, on the Tensor engine alone (the engines agree, as the test above shows)
    scalar, xs, ys = moons_models()
    moons, X, Y = tensor_copy(scalar), Tensor(np.array(xs)), Tensor(np.array(ys, dtype=np.float64))
    losses, _ = train_tensor(moons, lambda m: moons_loss_tensor(m, X, Y), 100, moons_lr)
    accuracy = ((moons(X).data[:, 0] > 0) == (Y.data > 0)).mean()
    quoted |= {f"{losses[99]:.12f}", f"{accuracy:.0%}"}
    rng = random.Random(1337)
    xs, ys = make_spirals(90, classes=3, noise=0.2, rng=rng)
    spirals = tensor_copy(ScalarMLP(2, [16, 16, 3], nonlin="relu", out_nonlin="linear", rng=rng))
    X, Y = Tensor(np.array(xs)), np.array(ys)
    train_tensor(spirals, lambda m: spirals_loss_tensor(m, X, Y), 50, spirals_lr)
    losses, _ = train_tensor(spirals, lambda m: spirals_loss_tensor(m, X, Y), 2000, spirals_lr)
    accuracy = (spirals(X).data.argmax(axis=1) == Y).mean()
    quoted |= {f"{losses[-1]:.4f}", f"{accuracy:.0%}"}
    assert quoted == {"1.983968436788", "2.2e-16", "8118", "36", "(8118, 36)", "0.019846105448", "100%",
                      "0.0468", "98%"}
    for number in quoted:
        assert number in text, f"the lesson does not quote {number}"


# --- the broadcasting explorer ---

@pytest.mark.parametrize("a, b, op", [
    ((3, 1), (4,), "+"), ((2, 1, 3), (4, 1), "*"), ((3, 2), (4,), "+"), ((1, 6), (6, 1), "*"),
    ((2, 3), (3, 4), "@"), ((3, 2), (4,), "@"), ((5,), (5,), "@"), ((2, 2, 3), (3,), "@"),
    ((2, 3, 1), (4, 3), "*"),
])
def test_broadcast_explorer_answers_with_the_engines_shape_or_error_and_gradients(a, b, op):
    body = {"a": ",".join(map(str, a)), "b": ",".join(map(str, b)), "op": op}
    r = client.post("/api/figure/broadcast", json=body)
    assert r.status_code == 200, r.json()
    shape, error = engine_answer(a, b, op)
    assert (r.json()["shape"], r.json()["error"]) == (shape, error)
    if error is not None:
        assert "cannot be broadcast" in error or "do not line up" in error
        return
    grad_a, grad_b = engine_grads(a, b, op)
    np.testing.assert_array_equal(r.json()["grad_a"], grad_a)
    np.testing.assert_array_equal(r.json()["grad_b"], grad_b)
    assert np.shape(r.json()["grad_a"]) == a and np.shape(r.json()["grad_b"]) == b  # back to each shape
    if op == "+":  # every output number used each input once: the summed ones count the copies
        assert np.sum(r.json()["grad_a"]) == np.sum(r.json()["grad_b"]) == np.prod(shape)


def test_broadcast_explorer_names_the_summed_axes():
    r = client.post("/api/figure/broadcast", json={"a": "2,1,3", "b": "4,1", "op": "+"}).json()
    assert r["shape"] == [2, 4, 3] and r["summed_a"] == [1] and r["summed_b"] == [0, 2]
    out = np.ones((2, 4, 3))
    np.testing.assert_array_equal(r["grad_a"], out.sum(axis=1, keepdims=True))
    np.testing.assert_array_equal(r["grad_b"], out.sum(axis=(0, 2), keepdims=True)[0])


@pytest.mark.parametrize("body, words", [
    ({"a": "3,x"}, "the shape of a is sizes separated by commas"),
    ({"b": "3,9"}, "each from 1 to 6"),
    ({"a": "1,1,1,1"}, "up to 3 sizes"),
    ({"op": "-"}, "op"),
])
def test_broadcast_explorer_refuses_bad_shapes_in_plain_words(body, words):
    r = client.post("/api/figure/broadcast", json=body)
    assert r.status_code == 422 and words in r.json()["detail"], r.json()


# --- the race ---

def test_engine_race_runs_the_same_step_on_both_engines():
    r = client.post("/api/figure/engine-race", json={"points": 30, "hidden": 4})
    assert r.status_code == 200
    race = r.json()
    scalar, xs, ys = moons_models(30, 4)
    X, Y = Tensor(np.array(xs)), Tensor(np.array(ys, dtype=np.float64))
    loss = moons_loss_tensor(tensor_copy(scalar), X, Y).item()
    assert race["loss_tensor"] == pytest.approx(loss, rel=1e-12)
    assert race["loss_scalar"] == pytest.approx(loss, rel=1e-12)
    assert race["ratio"] == pytest.approx(race["ms_scalar"] / race["ms_tensor"])
    assert (race["nodes_scalar"], race["nodes_tensor"]) == graph_sizes(30, 4)
    assert race["parameters"] == 2 * 4 + 4 + 4 * 4 + 4 + 4 + 1
    bad = client.post("/api/figure/engine-race", json={"points": 5000})
    assert bad.status_code == 422 and "points" in bad.json()["detail"]


# --- in Chromium ---

def shown_array(page, name: str) -> np.ndarray:
    """An array of the explorer as its tables show it (one table a 2-D block)."""
    blocks = page.locator(f"#fig-1 figure[data-name='{name}'] table")
    return np.array([[[float(v) for v in row.locator("td").all_inner_texts()] for row in
                      blocks.nth(i).locator("tr").all()] for i in range(blocks.count())])


def test_chapter6_broadcast_explorer_shows_the_engines_answers(page):
    page.goto(page.base + "/chapter/6")
    readout = page.locator("#fig-1 .readout")
    expect(readout).to_have_text("a (3, 1) + b (4,) → out (3, 4)")
    page.get_by_label("shape of a").fill("2,1,3")
    page.get_by_label("shape of a").press("Enter")
    page.get_by_label("operation").select_option("*")
    page.get_by_label("shape of b").fill("4,1")
    page.get_by_label("shape of b").press("Tab")
    expect(readout).to_have_text("a (2, 1, 3) * b (4, 1) → out (2, 4, 3)")
    grad_a, grad_b = engine_grads((2, 1, 3), (4, 1), "*")
    np.testing.assert_allclose(shown_array(page, "grad_a"), grad_a, atol=1e-4)
    np.testing.assert_allclose(shown_array(page, "grad_b")[0], grad_b, atol=1e-4)
    expect(page.locator("#fig-1 figure[data-name='grad_b'] figcaption")).to_contain_text(
        "ones summed over axis 0 and 2 of the output")
    link = page.url
    assert "fig-1.a=2%2C1%2C3" in link and "fig-1.op=*" in link.replace("%2A", "*")

    page.get_by_label("shape of a").fill("3,2")
    page.get_by_label("shape of a").press("Enter")
    page.get_by_label("shape of b").fill("4")
    page.get_by_label("shape of b").press("Enter")
    page.get_by_label("operation").select_option("+")
    _, error = engine_answer((3, 2), (4,), "+")
    expect(readout).to_have_text(f"a (3, 2) + b (4,): the engine refuses: {error}")

    page.goto(page.base + "/")
    page.goto(link)  # the link reproduces the view
    expect(readout).to_have_text("a (2, 1, 3) * b (4, 1) → out (2, 4, 3)")
    if os.environ.get("GRADSCHOOL_UPDATE_SCREENSHOTS"):
        from PIL import Image

        path = DOCS / "chapter-6.png"
        page.locator("#fig-1").screenshot(path=str(path))
        Image.open(path).convert("RGB").quantize(colors=128).save(path, optimize=True)


def test_chapter6_race_shows_both_engines_computing_the_same_loss(page):
    page.goto(page.base + "/chapter/6")
    readout = page.locator("#fig-2 .readout")
    expect(readout).to_contain_text("faster on this machine", timeout=20000)
    points = page.get_by_label("points", exact=True)
    points.focus()
    page.keyboard.press("Home")  # 10 points
    page.get_by_label("hidden units").focus()
    page.keyboard.press("Home")  # 2 hidden units
    page.locator("#fig-2").get_by_role("button", name="Race one step").press("Enter")
    expect(readout).to_contain_text("MLP(2, [2, 2, 1]), 15 parameters, 10 points")
    scalar, xs, ys = moons_models(10, 2)
    X, Y = Tensor(np.array(xs)), Tensor(np.array(ys, dtype=np.float64))
    loss = moons_loss_tensor(tensor_copy(scalar), X, Y)
    expect(page.locator("#fig-2 .losses")).to_have_text(
        re.compile(rf"scalar {loss.item():.12f}, Tensor {loss.item():.12f}$"))
    assert "fig-2.points=10" in page.url and "fig-2.hidden=2" in page.url
    expect(page.locator("#fig-2 .graphs")).to_contain_text(
        "of {} Values on the scalar engine, of {} Tensors".format(*graph_sizes(10, 2)))
