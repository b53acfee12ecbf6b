"""Rungs 1-3, the scalar-engine programs: the seed's lines, the loss trajectories, the plots, the CLI."""

import math
import re

import pytest
from click.testing import CliRunner

from gradschool.cli import cli
from gradschool.diverge import TrainingDiverged, check_finite
from gradschool.rungs import r1_neuron, r2_mlp, r3_learning_well

SEED_LINES = [
    "step   0 loss 2.2508",
    "step  40 loss 0.0389",
    "step  80 loss 0.0186",
    "step 120 loss 0.0120",
    "step 160 loss 0.0088",
]


# rung 1

def test_rung1_prints_the_seeds_lines_exactly(capsys):
    r1_neuron.main()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("-0.2913")
    assert [line for line in lines if line.startswith("step")] == SEED_LINES
    assert lines[-1] == "chapter 1 of the course: `gradschool serve`, then http://127.0.0.1:8000/chapter/1"


def test_rung1_plot_draws_the_training_and_keeps_the_printed_lines(tmp_path, capsys):
    r1_neuron.main()
    plain = capsys.readouterr().out
    png = tmp_path / "neuron.png"
    r1_neuron.main(plot=str(png))
    with_plot = capsys.readouterr().out
    *lines, chapter = plain.splitlines(keepends=True)
    assert chapter.startswith("chapter 1 of the course")
    assert with_plot == "".join(lines) + f"saved {png}\n" + chapter  # the seed's lines untouched, the plot's
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000


def test_rung1_backward_gradient_agrees_with_wiggling():
    params = [-0.6, 0.8, 0.1]
    w, b = [r1_neuron.Value(params[0]), r1_neuron.Value(params[1])], r1_neuron.Value(params[2])
    r1_neuron.value_loss(w, b).backward()
    numerical = [r1_neuron.numerical_gradient(r1_neuron.plain_loss, params, i) for i in range(3)]
    assert [p.grad for p in w + [b]] == pytest.approx(numerical, abs=1e-6)
    assert [round(g, 4) for g in numerical] == [-2.4859, -1.0115, 0.174]  # what the seed's own code prints


def test_cli_runs_rung_1():
    result = CliRunner().invoke(cli, ["rung", "1"])
    assert result.exit_code == 0, result.output
    assert all(line in result.output.splitlines() for line in SEED_LINES)
    assert "agree" in result.output


def test_rungs_lists_the_scalar_rungs_with_their_descriptions():
    output = CliRunner().invoke(cli, ["rungs"]).output
    for n, module in [(1, r1_neuron), (2, r2_mlp), (3, r3_learning_well)]:
        assert f"{n}  {module.__doc__.splitlines()[0]}" in output.splitlines()


# rung 2

def test_rung2_seed_loop_falls_from_about_4_and_lr_01_goes_further(capsys):
    slow = r2_mlp.seed_loop(lr=0.01)
    fast = r2_mlp.seed_loop(lr=0.1)
    assert 3.0 < slow[0] < 5.0
    assert 0.05 <= slow[-1] <= 0.15
    assert fast[0] == slow[0]  # the same start
    assert fast[-1] < 0.01
    assert "step 0 loss" in capsys.readouterr().out


def test_rung2_moons_reach_100_percent_training_accuracy():
    model, xs, ys, losses = r2_mlp.train_moons()
    assert r2_mlp.accuracy(model, xs, ys) == 1.0
    assert losses[-1] < losses[0] / 10


def test_rung2_moons_with_a_huge_learning_rate_stop_with_advice(capsys):
    with pytest.raises(TrainingDiverged, match=r"blew up .* lower the learning rate \(it is 100; try 10\)"):
        r2_mlp.train_moons(steps=5, lr=100.0)
    assert not re.search(r"\bnan\b", capsys.readouterr().out, re.IGNORECASE)


def test_cli_turns_divergence_into_a_message_not_a_traceback(monkeypatch):
    def diverging_main(plot=None):
        check_finite(math.nan, step=4, lr=3.0)
    monkeypatch.setattr(r2_mlp, "main", diverging_main)
    result = CliRunner().invoke(cli, ["rung", "2"])
    assert result.exit_code == 1
    assert "Error: training diverged: the loss is nan at step 4" in result.output
    assert "lower the learning rate (it is 3; try 0.3)" in result.output
    assert "Traceback" not in result.output


def test_plot_writes_a_real_png(tmp_path):
    model, xs, ys, losses = r2_mlp.train_moons(steps=2)
    path = tmp_path / "moons.png"
    r2_mlp.save_plot(str(path), model, xs, ys, losses)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 1000


def test_plot_without_matplotlib_says_what_to_install(tmp_path, monkeypatch):
    import sys
    for name in ["matplotlib", "matplotlib.figure"]:
        monkeypatch.setitem(sys.modules, name, None)  # makes `import matplotlib` fail as if not installed
    model, xs, ys, losses = r2_mlp.train_moons(steps=1)
    with pytest.raises(SystemExit, match=r"pip install 'gradschool\[plot\]'"):
        r2_mlp.save_plot(str(tmp_path / "x.png"), model, xs, ys, losses)


# rung 3

@pytest.fixture(scope="module")
def rung3_run(tmp_path_factory):
    """`gradschool rung 3 --plot PATH`, run once for the tests below: (its output, the PNG path)."""
    png = tmp_path_factory.mktemp("rung3") / "spirals.png"
    result = CliRunner().invoke(cli, ["rung", "3", "--plot", str(png)])
    assert result.exit_code == 0, result.output
    return result.output, png


@pytest.fixture(scope="module")
def rung3_output(rung3_run):
    return rung3_run[0]


def test_rung3_plot_is_a_real_png(rung3_run):
    output, png = rung3_run
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 1000
    assert f"saved {png}" in output


def test_rung3_generalizes_to_the_validation_set(rung3_output):
    lines = [line.split() for line in rung3_output.splitlines() if line.startswith(("train ", "val "))]
    final = {words[0]: words for words in lines}
    assert float(final["val"][-1].rstrip("%")) >= 85
    assert float(final["train"][-1].rstrip("%")) >= 85
    assert float(final["val"][2]) < 0.5  # loss well under a guess's log(3) = 1.10


def test_rung3_catches_divergence_with_advice_instead_of_nan(rung3_output):
    after = rung3_output.split("the same recipe with learning rate 100:\n", 1)[1].splitlines()
    steps = [line for line in after if line.startswith("step ")]
    caught = [line for line in after if line.startswith("training diverged")]
    assert len(caught) == 1, after  # caught once, and the run stopped there
    assert after[-1] == caught[0] or after.index(caught[0]) > after.index(steps[-1])
    step = int(re.search(r"at step (\d+)", caught[0]).group(1))
    assert step <= 10  # within the first steps, long before the 300 of the run
    assert "lower the learning rate (it is 100; try 10)" in caught[0]
    assert not re.search(r"\bnan\b", rung3_output, re.IGNORECASE)


def test_rung3_shows_mse_barely_pushing_a_confident_mistake(rung3_output):
    assert "cross-entropy" in rung3_output and "squared error" in rung3_output


