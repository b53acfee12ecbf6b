"""Chapter 9, a tiny GPT: the lesson's numbers against the library and rung 9, and the chapter in Chromium.

The browser tests run the real server over a runs folder holding a 2-layer, 2-head GPT trained briefly on
names, drive each figure's controls with the keyboard and mouse, and compare the numbers shown with the
library's, computed in the test. As in tests/browser.py: offline, no console errors allowed.
"""

import contextlib
import io
import os
import re
from pathlib import Path
from urllib.parse import urlparse

import browser
import numpy as np
import pytest
from browser import DOCS, watched_tab
from live_server import serve
from playwright.sync_api import expect

from gradschool.lessons import fenced_blocks, lesson
from gradschool.notebooks import expected_outputs
from gradschool.rungs import r9_gpt
from gradschool.runs import RUNS_ENV, load_model, read_metrics
from gradschool.sampling import next_token_probs
from gradschool.tensor import no_grad
from gradschool.train import make_config, train
from gradschool.web.app import create_app

browser_context = browser.browser_context  # the shared fixture: offline Chromium, see tests/browser.py
ROOT = Path(__file__).resolve().parent.parent
TEXT = lesson(9).text


# --- the lesson's numbers ---

def test_the_lessons_code_prints_what_the_lesson_says():
    namespace: dict = {}
    blocks = [body for info, body in fenced_blocks(TEXT) if info == "python"]
    assert len(blocks) == 2
    for body in blocks:
        said = expected_outputs(body)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(body, namespace)
        assert out.getvalue().splitlines() == said


def test_rung9_saves_its_model_in_the_runs_folder_and_prints_the_lessons_numbers(tmp_path, monkeypatch,
                                                                                capsys):
    runs = tmp_path / "runs"
    monkeypatch.setenv(RUNS_ENV, str(runs))
    (runs / "rung9-gpt").mkdir(parents=True)
    (runs / "rung9-gpt" / "notes.txt").write_text("an earlier run")  # taken: rung 9 never overwrites it
    recipe = r9_gpt.make_config  # the same program, one step and one batch per evaluation

    def short(*args, **flags):
        return recipe(*args, **flags | {"max_iters": 1, "eval_iters": 1})

    monkeypatch.setattr(r9_gpt, "make_config", short)
    r9_gpt.main()
    out = capsys.readouterr().out
    assert out.startswith("a GPT of 4 layers, 4 heads, 128 wide, context 64 characters")
    assert "(uniform guessing: 4.14); 0.80M parameters" in out
    assert "log 63 = 4.14" in TEXT and "0.80 million weights" in TEXT
    assert "4 layers, 4 heads, 128 wide" in TEXT
    assert f"The model is saved in {runs / 'rung9-gpt-2'}: `gradschool sample --from rung9-gpt-2`" in out
    assert out.splitlines()[-1] == "chapter 9 of the course: `gradschool serve`, then http://127.0.0.1:8000/chapter/9"
    assert (runs / "rung9-gpt" / "notes.txt").read_text() == "an earlier run"
    _, _, state = load_model(runs / "rung9-gpt-2")
    assert state["iter_num"] == 1


def test_the_recipe_the_lesson_describes_is_the_one_rung_9_trains():
    config = make_config("gpt", "shakespeare")
    args = config.model_args
    sizes = (args["n_layer"], args["n_head"], args["n_embd"], config.block_size, config.batch_size)
    assert sizes == (4, 4, 128, 64, 12)
    assert "4 layers, 4 heads, 128 wide, a context of\n64 characters, batches of 12" in TEXT
    assert (config.learning_rate, config.min_lr, config.max_iters) == (1e-3, 1e-4, 2000)
    assert "a learning rate of 1e-3 falling to 1e-4 over 2000 steps" in TEXT
    assert f"Every {config.eval_interval} steps" in TEXT
    assert f"for {r9_gpt.MAX_ITERS} steps" in TEXT


def test_the_recipes_figure_is_the_one_measured_in_the_benchmarks():
    measured = (ROOT / "benchmarks" / "RESULTS.md").read_text()
    row = re.search(r"gradschool, seed 1337 +([\d. ]+)\n", measured).group(1).split()
    assert f"**{row[-1]}**" in TEXT and row[-1] == "1.8858"
    assert "nanoGPT itself gets 1.8857" in TEXT and "**1.8857** (2000)" in measured


# --- the chapter in Chromium ---

@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A runs folder holding names-gpt: 2 layers, 2 heads, trained briefly on names."""
    folder = tmp_path_factory.mktemp("runs")
    config = make_config("gpt", "names", n_layer=2, n_head=2, n_embd=32, block_size=16,
                         batch_size=16, max_iters=100, eval_interval=50, eval_iters=2, learning_rate=1e-2,
                         warmup_iters=0, out_dir=str(folder / "names-gpt"))
    train(config, progress=False)
    return folder


@pytest.fixture(scope="module")
def server(runs):
    with serve(create_app(runs)) as url:
        yield url


@pytest.fixture
def page(browser_context, request):
    with watched_tab(browser_context, request.node.name) as tab:
        yield tab


def expect_library_bars(page, runs, prompt: str, **options) -> None:
    """The bars of the sampling figure show next_token_probs of the model's logits, computed here."""
    model, tok, _ = load_model(runs / "names-gpt")
    with no_grad():
        logits = model(np.array([tok.encode_prompt(prompt)])).data[0, -1]
    probs = next_token_probs(logits, **options)
    order = [i for i in np.argsort(-probs, kind="stable")[:15] if probs[i] > 0]
    bars = page.locator("#fig-2 svg.bars g.choice")
    expect(bars.locator("text.prob")).to_have_text([f"{probs[i]:.4f}" for i in order])
    expect(bars.locator("text:first-child")).to_have_text(
        ["⏎ end" if i == tok.boundary_id else tok.itos[i] for i in order])


def test_sampling_figure_shows_the_sampling_distribution_and_keeps_its_state_in_the_link(page, server, runs):
    page.goto(server + "/chapter/9#fig-2.prompt=emi&fig-2.seed=3")
    figure = page.locator("#fig-2")
    expect(figure.get_by_label("model")).to_have_value("names-gpt")
    samples = figure.locator("pre.samples")
    expect(samples).to_contain_text("emi")
    first = samples.text_content()
    assert len(first.splitlines()) == 5 and all(s.startswith("emi") for s in first.splitlines())
    expect_library_bars(page, runs, "emi")
    figure.get_by_role("button", name="Sample").click()  # the same seed gives the same names
    expect(samples).to_have_text(first)

    figure.get_by_label("temperature").focus()
    for _ in range(4):
        page.keyboard.press("ArrowLeft")  # 1.0 -> 0.8 in steps of 0.05
    expect_library_bars(page, runs, "emi", temperature=0.8)
    figure.get_by_label("top-p").focus()
    for _ in range(6):
        page.keyboard.press("ArrowLeft")  # 1 (off) -> 0.7
    expect_library_bars(page, runs, "emi", temperature=0.8, top_p=0.7)
    figure.get_by_label("top-k").fill("2")
    figure.get_by_label("top-k").dispatch_event("change")
    expect_library_bars(page, runs, "emi", temperature=0.8, top_k=2, top_p=0.7)
    link = page.url
    assert "fig-2.top_p=0.7" in link and "fig-2.top_k=2" in link and "fig-2.temperature=0.8" in link

    page.expected_console.append("status of 422")
    figure.get_by_label("prompt").fill("Emi")
    expect(figure.locator(".status.bad")).to_contain_text("characters not in the vocabulary: 'E'")
    figure.get_by_label("prompt").fill("emi")
    expect(figure.locator(".status.bad")).to_have_text("")

    page.goto(server + "/")
    page.goto(link)  # the link reproduces the view
    expect(page.locator("#fig-2").get_by_label("top-k")).to_have_value("2")
    expect_library_bars(page, runs, "emi", temperature=0.8, top_k=2, top_p=0.7)


def test_attention_figure_shows_the_models_own_weights_for_any_layer_and_head(page, server, runs):
    page.goto(server + "/chapter/9#fig-3.prompt=olivia")
    figure = page.locator("#fig-3")
    expect(figure.locator("g.row")).to_have_count(7)  # the boundary token and o, l, i, v, i, a
    expect(figure.get_by_label("layer").locator("option")).to_have_count(2)
    figure.get_by_label("layer").select_option("1")
    figure.get_by_label("head").select_option("1")
    model, tok, _ = load_model(runs / "names-gpt")
    own = model.attention_weights(np.array(tok.encode(".olivia")), 1)[1]
    assert np.allclose(own.sum(axis=1), 1.0)
    figure.get_by_label("prompt").focus()
    expect(figure.locator("g.row")).to_have_count(7)
    page.wait_for_function("() => location.hash.includes('fig-3.head=1')")
    for _ in range(6):  # from the prompt: the layer, the head, then rows 0, 1, 2 and 3 (an 'i')
        page.keyboard.press("Tab")
    readout = figure.locator(".readout")
    expect(readout).to_contain_text("row 3 (i): ")
    shown = [float(x) for x in re.findall(r" (\d\.\d{4})", readout.text_content())]
    assert shown == pytest.approx(own[3, :4], abs=1e-4)
    titles = figure.locator("g.row").nth(6).locator("title").all_text_contents()
    assert [float(t.rsplit(": ", 1)[1]) for t in titles] == pytest.approx(own[6], abs=1e-4)
    link = page.url
    assert "fig-3.layer=1" in link and "fig-3.head=1" in link
    page.goto(server + "/")
    page.goto(link)
    expect(page.locator("#fig-3").get_by_label("head")).to_have_value("1")


def test_the_old_page_sends_to_chapter_9(page, server):
    page.goto(server + "/lm")
    assert urlparse(page.url).path == "/chapter/9"
    expect(page.locator("h1")).to_have_text("A tiny GPT")
    expect(page.locator("header nav a[href='/lm']")).to_have_count(0)


def test_training_live_draws_the_losses_and_a_sample_every_n_steps_then_the_other_figures_use_it(
        page, tmp_path):
    with serve(create_app(tmp_path / "runs")) as url:
        page.goto(url + "/chapter/9#fig-1.data=names&fig-1.steps=50&fig-1.every=25")
        expect(page.locator("#fig-2 .note")).to_be_visible()  # no model yet
        train_figure = page.locator("#fig-1")
        expect(train_figure.get_by_label("corpus")).to_have_value("names")
        train_figure.get_by_role("button", name="Train a tiny GPT").click()
        readout = train_figure.locator(".readout")
        expect(readout).to_contain_text("done at step 50: saved as tiny-names", timeout=120_000)
        expect(train_figure.locator("ol.samples li b")).to_have_text(["step 50", "step 25", "step 0"])
        expect(train_figure.locator("path.curve")).to_have_count(1)
        expect(train_figure.locator("circle.val")).to_have_count(3)  # val loss at steps 0, 25 and 50
        expect(page.locator("#fig-2").get_by_label("model")).to_have_value("tiny-names")
        expect(page.locator("#fig-2 svg.bars g.choice")).to_have_count(15)
        expect(page.locator("#fig-3 g.row")).to_have_count(5)  # a name to read: the boundary, e, m, m, a
        shown = re.search(r"val loss (\d\.\d{4})", readout.text_content()).group(1)
        vals = [r["val_loss"] for r in read_metrics(tmp_path / "runs" / "tiny-names") if "val_loss" in r]
        assert shown == f"{vals[-1]:.4f}" and len(vals) == 3
        if os.environ.get("GRADSCHOOL_UPDATE_SCREENSHOTS"):  # the training figure and the sampling one
            from PIL import Image

            DOCS.mkdir(parents=True, exist_ok=True)
            path = DOCS / "chapter-9.png"
            top = train_figure.bounding_box()["y"] + page.evaluate("window.scrollY")  # in the page
            page.screenshot(path=str(path), full_page=True,
                            clip={"x": 0, "y": top - 20, "width": 1100, "height": 1500})
            Image.open(path).convert("RGB").quantize(colors=128).save(path, optimize=True)
