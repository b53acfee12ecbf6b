"""The training loop: exact resume, Ctrl-C and kill -9 safety, clear refusals, the CLI end to end."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from nanogpt_loop import CPU_RECIPE, nanogpt_train

from gradschool import checkpoint
from gradschool.cli import cli
from gradschool.data import DataError
from gradschool.diverge import TrainingDiverged, check_finite
from gradschool.nn.registry import build_model
from gradschool.runs import BEST, LAST, LOCK, METRICS, data_record
from gradschool.train import (
    LanguageData,
    TrainConfig,
    configure_optimizer,
    get_lr,
    make_config,
    resume_config,
    train,
)

TEXT = "".join(f"line {i}: the quick brown fox jumps over the lazy dog {i * 7 % 13}.\n" for i in range(60))
TINY = dict(batch_size=4, block_size=8, n_embd=4, n_hidden=16, learning_rate=1e-2, min_lr=1e-3,
            warmup_iters=2, eval_iters=2, seed=3)


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT)
    return path


def records(out_dir):
    lines = (Path(out_dir) / METRICS).read_text().splitlines()
    return [json.loads(line) for line in lines]


def step_losses(out_dir):
    return [(r["iter"], r["loss"]) for r in records(out_dir) if "loss" in r]


def eval_losses(out_dir):
    return [(r["iter"], r["train_loss"], r["val_loss"]) for r in records(out_dir) if "val_loss" in r]


def tiny_config(data, out_dir, **overrides):
    values = {**TINY, "max_iters": 12, "eval_interval": 4, "lr_decay_iters": 12, **overrides}
    return make_config("mlp", str(data), out_dir=str(out_dir), **values)


def tiny_gpt_config(data, out_dir, **overrides):
    values = dict(batch_size=4, block_size=8, n_layer=2, n_head=2, n_embd=16, learning_rate=1e-2, min_lr=1e-3,
                  warmup_iters=2, eval_iters=2, max_iters=12, eval_interval=4, lr_decay_iters=12, seed=5)
    return make_config("gpt", str(data), out_dir=str(out_dir), **{**values, **overrides})


RUNS = {  # the kinds of run a resume must reproduce
    "fixed": lambda data, out, **o: tiny_config(data, out, eval_batches="fixed", **o),
    "fresh": lambda data, out, **o: tiny_config(data, out, eval_batches="fresh", **o),
    "nanogpt": lambda data, out, **o: tiny_gpt_config(data, out, eval_batches="fresh",
                                                      random_stream="nanogpt", **o),
}


@pytest.mark.parametrize("run", RUNS)
def test_resume_reproduces_the_uninterrupted_run_exactly(text_file, tmp_path, run):
    whole = train(RUNS[run](text_file, tmp_path / "whole"), progress=False)
    assert whole.iter_num == 12

    part = train(RUNS[run](text_file, tmp_path / "part", max_iters=5), progress=False)
    assert part.iter_num == 5
    resumed = train(resume_config(tmp_path / "part", max_iters=12), resume=True, progress=False)
    assert resumed.iter_num == 12

    assert step_losses(tmp_path / "part") == step_losses(tmp_path / "whole")  # bit for bit
    assert [i for i, _ in step_losses(tmp_path / "part")] == list(range(12))
    assert eval_losses(tmp_path / "part") == eval_losses(tmp_path / "whole")
    a, b = checkpoint.load(tmp_path / "whole" / LAST), checkpoint.load(tmp_path / "part" / LAST)
    for name, value in a["model"].items():
        assert np.array_equal(value, b["model"][name]), name
    np.testing.assert_equal(a["rng"], b["rng"])
    np.testing.assert_equal(a["next_batch"], b["next_batch"])


def test_fresh_eval_batches_change_only_the_evaluations(text_file, tmp_path):
    train(tiny_config(text_file, tmp_path / "fixed"), progress=False)
    train(tiny_config(text_file, tmp_path / "fresh", eval_batches="fresh"), progress=False)
    assert step_losses(tmp_path / "fresh") == step_losses(tmp_path / "fixed")  # training steps unmoved
    fixed, fresh = eval_losses(tmp_path / "fixed"), eval_losses(tmp_path / "fresh")
    assert fresh[0] == fixed[0]  # the first fresh draw is the fixed set
    assert all(a[1:] != b[1:] for a, b in zip(fresh[1:], fixed[1:], strict=True))


def test_eval_batches_must_be_fixed_or_fresh(text_file, tmp_path):
    with pytest.raises(ValueError, match="--eval-batches must be 'fixed' or 'fresh', not 'random'"):
        tiny_config(text_file, tmp_path / "run", eval_batches="random")


def test_nanogpt_stream_replays_nanogpts_own_loop(text_file, tmp_path):
    """Same seed, same draws: gradschool's run and nanoGPT's loop in torch give the same losses throughout."""
    config = tiny_gpt_config(text_file, tmp_path / "run", eval_batches="fresh", random_stream="nanogpt")
    train(config, progress=False)
    data = LanguageData(config.data, block_size=config.block_size)
    settings = {name: getattr(config, name) for name in CPU_RECIPE if hasattr(config, name)}
    evals, steps = nanogpt_train(data.splits, data.tokenizer.vocab_size, config.seed, exact_gelu=False,
                                 **settings, **config.model_args)
    assert [i for i, _, _ in evals] == [i for i, _, _ in eval_losses(tmp_path / "run")] == [0, 4, 8, 12]
    ours = np.array(eval_losses(tmp_path / "run"))
    np.testing.assert_allclose(ours[:, 1:], np.array(evals)[:, 1:], atol=2e-5)
    np.testing.assert_allclose([loss for _, loss in step_losses(tmp_path / "run")], steps, atol=2e-5)
    # and it is not the gradschool stream's run
    train(tiny_gpt_config(text_file, tmp_path / "own", eval_batches="fresh"), progress=False)
    assert abs(eval_losses(tmp_path / "own")[0][2] - evals[0][2]) > 1e-3


def test_random_stream_is_checked(text_file, tmp_path):
    with pytest.raises(ValueError, match="--random-stream must be 'gradschool' or 'nanogpt', not 'torch'"):
        tiny_gpt_config(text_file, tmp_path / "run", random_stream="torch")
    with pytest.raises(ValueError, match="for --model gpt, not mlp"):
        tiny_config(text_file, tmp_path / "run", random_stream="nanogpt")
    with pytest.raises(ValueError, match="--seed must be a whole number >= 0, not -1"):
        tiny_config(text_file, tmp_path / "run", seed=-1)


def test_losses_go_down(text_file, tmp_path):
    config = tiny_config(text_file, tmp_path / "run", max_iters=60, lr_decay_iters=60, eval_interval=20)
    train(config, progress=False)
    evals = eval_losses(tmp_path / "run")
    assert evals[-1][1] < evals[0][1] - 0.5
    assert math.isclose(evals[0][1], math.log(len(set(TEXT))), rel_tol=0.1)  # starts near uniform


def test_a_second_run_in_the_same_folder_is_refused(text_file, tmp_path):
    train(tiny_config(text_file, tmp_path / "run", max_iters=2), progress=False)
    with pytest.raises(FileExistsError, match="already holds a training run .*pass --resume"):
        train(tiny_config(text_file, tmp_path / "run", max_iters=2), progress=False)


def test_resume_refuses_changed_settings(text_file, tmp_path):
    train(tiny_config(text_file, tmp_path / "run", max_iters=2), progress=False)
    with pytest.raises(ValueError, match=r"--lr 0.5 differs from the run being resumed \(--lr 0.01\)"):
        resume_config(tmp_path / "run", learning_rate=0.5)
    with pytest.raises(ValueError, match=r"--n-hidden 99 differs from the run being resumed \(--n-hidden 16"):
        resume_config(tmp_path / "run", n_hidden=99)
    with pytest.raises(ValueError, match="--eval-interval must be a whole number >= 1, not 0"):
        resume_config(tmp_path / "run", eval_interval=0)  # what resume may change is checked too


def test_resume_refuses_data_with_another_vocabulary(text_file, tmp_path):
    train(tiny_config(text_file, tmp_path / "run", max_iters=2), progress=False)
    text_file.write_text(TEXT + "Zebra!\n")
    with pytest.raises(DataError, match="does not match that of the checkpoint .*only in the data: '!', 'Z'"):
        train(resume_config(tmp_path / "run", max_iters=4), resume=True, progress=False)


def test_divergence_stops_with_advice_to_lower_the_learning_rate(text_file, tmp_path):
    config = tiny_config(text_file, tmp_path / "run", learning_rate=10, min_lr=10, warmup_iters=0,
                         grad_clip=0.0)
    with pytest.raises(TrainingDiverged, match="lower the learning rate"):
        train(config, progress=False)


def test_early_stopping_after_patience_evaluations_without_improvement(text_file, tmp_path):
    config = tiny_config(text_file, tmp_path / "run", max_iters=100, eval_interval=1, patience=2,
                         learning_rate=0.0, min_lr=0.0, warmup_iters=0)  # cannot improve
    result = train(config, progress=False)
    assert result.stopped == "early_stopping"
    assert result.iter_num == 2


def test_flags_override_the_preset_named_like_the_model_which_overrides_the_defaults():
    config = make_config("gpt", "shakespeare", max_iters=5, n_embd=32, seed=None)
    assert (config.max_iters, config.learning_rate, config.seed) == (5, 1e-3, TrainConfig.seed)
    assert config.lr_decay_iters == 2000  # the gpt preset's, as nanoGPT's recipe
    assert config.model_args == {"n_layer": 4, "n_head": 4, "n_embd": 32, "dropout": 0.0, "bias": False}
    mlp = make_config("mlp", "names")
    assert (mlp.block_size, mlp.learning_rate, mlp.model_args) == (3, 1e-2, {})
    assert mlp.beta2 == TrainConfig.beta2  # what the preset leaves out: TrainConfig's default
    nano = make_config(None, "names", preset="nanogpt-cpu", max_iters=7)
    assert (nano.model, nano.random_stream, nano.eval_batches) == ("gpt", "nanogpt", "fresh")
    assert nano.max_iters == 7
    with pytest.raises(ValueError, match="--preset nanogpt-cpu is for --model gpt, not --model mlp"):
        make_config("mlp", "names", preset="nanogpt-cpu")
    with pytest.raises(ValueError, match="unknown --preset 'gtp'; the presets are: bigram, mlp"):
        make_config(None, "names", preset="gtp")


def test_model_flags_that_do_not_apply_are_refused():
    with pytest.raises(ValueError, match="--n-layer does not apply to --model mlp .*--n-embd, --n-hidden"):
        make_config("mlp", "names", n_layer=2)
    with pytest.raises(ValueError, match="--bias does not apply to --model bigram .*no size options"):
        make_config("bigram", "names", bias=True)


def test_lr_schedule_warms_up_then_decays_to_min_lr():
    config = TrainConfig(learning_rate=1.0, min_lr=0.1, warmup_iters=10, max_iters=110)
    lrs = [get_lr(it, config) for it in range(120)]
    assert lrs[0] == pytest.approx(1 / 11)
    assert all(a < b for a, b in zip(lrs[:10], lrs[1:11], strict=True))  # warming up
    assert lrs[10] == pytest.approx(1.0)
    assert lrs[60] == pytest.approx(0.55)  # halfway down the cosine
    assert all(a >= b for a, b in zip(lrs[10:110], lrs[11:111], strict=True))
    assert lrs[110:] == [pytest.approx(0.1)] * 10
    assert get_lr(50, TrainConfig(learning_rate=0.3, decay_lr=False)) == 0.3


def test_weight_decay_only_on_matrices():
    config = TrainConfig(weight_decay=0.1)
    model = build_model("mlp", {"vocab_size": 10, "block_size": 3, "n_embd": 4, "n_hidden": 8})
    groups = configure_optimizer(model, config).param_groups
    decayed = {id(p) for g in groups if g["weight_decay"] == 0.1 for p in g["params"]}
    for name, p in model.named_parameters():
        assert (id(p) in decayed) == (p.ndim >= 2), name


def run_cli(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result


def test_cli_train_then_sample_names(tmp_path):
    out = tmp_path / "run"
    result = run_cli("train", "--model", "bigram", "--data", "names", "--max-iters", 30,
                     "--eval-interval", 10, "--eval-iters", 2, "--out", out)
    assert result.exit_code == 0, result.output
    assert "best val loss" in result.output
    assert (out / "best.ckpt").exists() and (out / LAST).exists()
    first = run_cli("sample", "--from", out, "--num", 5, "--seed", 1)
    assert first.exit_code == 0, first.output
    names = first.output.splitlines()
    assert len(names) == 5 and all(name.isalpha() and name.islower() for name in names if name)
    assert run_cli("sample", "--from", out, "--num", 5, "--seed", 1).output == first.output
    greedy = run_cli("sample", "--from", out, "--num", 3, "--top-k", 1, "--prompt", "ma")
    assert greedy.exit_code == 0, greedy.output
    assert len(set(greedy.output.splitlines())) == 1 and greedy.output.startswith("ma")


def test_cli_sample_refuses_a_prompt_outside_the_vocabulary(tmp_path):
    out = tmp_path / "run"
    assert run_cli("train", "--model", "bigram", "--data", "names", "--max-iters", 1, "--eval-iters", 1,
                   "--out", out).exit_code == 0
    result = run_cli("sample", "--from", out, "--prompt", "Zo")
    assert result.exit_code == 1
    assert "characters not in the vocabulary: 'Z'" in result.output
    assert "Traceback" not in result.output


def test_cli_refuses_a_truncated_checkpoint_naming_it(tmp_path):
    out = tmp_path / "run"
    assert run_cli("train", "--model", "bigram", "--data", "names", "--max-iters", 1, "--eval-iters", 1,
                   "--out", out).exit_code == 0
    for name in ("best.ckpt", LAST):
        data = (out / name).read_bytes()
        (out / name).write_bytes(data[: len(data) - 10])
    result = run_cli("sample", "--from", out)
    assert result.exit_code == 1
    assert f"{out / 'best.ckpt'} is truncated or damaged" in result.output
    result = run_cli("train", "--resume", "--out", out)
    assert f"{out / LAST} is truncated or damaged" in result.output


def test_cli_errors_are_clear(tmp_path):
    result = run_cli("train", "--model", "mlp", "--data", tmp_path / "missing.txt", "--out", tmp_path / "o")
    assert result.exit_code == 1 and "no such file" in result.output
    result = run_cli("train", "--model", "mlp", "--n-layer", 2, "--data", "names", "--out", tmp_path / "o")
    assert result.exit_code == 1 and "--n-layer does not apply to --model mlp" in result.output
    result = run_cli("train", "--preset", "no-such-preset", "--out", tmp_path / "o")
    assert result.exit_code == 1 and "unknown --preset 'no-such-preset'" in result.output
    result = run_cli("sample", "--from", tmp_path)
    assert result.exit_code == 1 and "holds no checkpoint" in result.output
    result = run_cli("plot", tmp_path)
    assert result.exit_code == 1 and f"no {METRICS} in {tmp_path}" in result.output


def test_cli_nanogpt_preset_draws_nanogpts_stream_unless_told_otherwise(text_file, tmp_path):
    small = ["--data", text_file, "--max-iters", 2, "--eval-iters", 1, "--batch-size", 4, "--block-size", 8,
             "--n-layer", 1, "--n-head", 2, "--n-embd", 16]
    for flags, stream in (([], "nanogpt"), (["--random-stream", "gradschool"], "gradschool")):
        out = tmp_path / stream
        result = run_cli("train", "--preset", "nanogpt-cpu", *small, *flags, "--out", out)
        assert result.exit_code == 0, result.output
        assert checkpoint.load(out / LAST)["train_config"]["random_stream"] == stream
    assert eval_losses(tmp_path / "nanogpt")[0] != eval_losses(tmp_path / "gradschool")[0]
    result = run_cli("train", "--model", "mlp", "--random-stream", "nanogpt", "--data", text_file,
                     "--out", tmp_path / "mlp")
    assert result.exit_code == 1 and "replays nanoGPT's draws for --model gpt, not mlp" in result.output


def test_cli_plot_draws_the_loss_curves(text_file, tmp_path):
    out = tmp_path / "run"
    result = run_cli("train", "--model", "mlp", "--data", text_file, "--max-iters", 8, "--eval-interval", 4,
                     "--eval-iters", 1, "--batch-size", 4, "--out", out, "--plot")
    assert result.exit_code == 0, result.output
    png = (out / "loss.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5000


def start_training(out_dir, data, max_iters, *extra):
    args = ["train", "--model", "mlp", "--data", data, "--max-iters", max_iters, "--lr-decay-iters", 3000,
            "--batch-size", 4, "--block-size", 8, "--n-embd", 4, "--n-hidden", 16, "--eval-iters", 2,
            "--seed", 3, "--out", out_dir, *extra]
    return subprocess.Popen([sys.executable, "-m", "gradschool", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for_steps(out_dir, n, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (Path(out_dir) / METRICS).exists() and len(step_losses_safe(out_dir)) >= n:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("training did not get going")


def step_losses_safe(out_dir):
    lines = (Path(out_dir) / METRICS).read_text().splitlines()[:-1]  # the last line may be half written
    return [line for line in lines if '"loss"' in line]


STOP_SIGNALS = [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)]  # and the exit status


@pytest.mark.parametrize("signum, status", STOP_SIGNALS)
def test_a_stop_signal_saves_a_checkpoint_and_resume_continues_exactly(text_file, tmp_path, signum, status):
    """Ctrl-C, SIGTERM (kill, a job scheduler) and SIGHUP (a closed terminal) stop after a step and save."""
    out = tmp_path / "run"
    proc = start_training(out, text_file, 3000, "--eval-interval", 1000)
    wait_for_steps(out, 30, proc)
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == status, stderr
    assert "Traceback" not in stderr
    assert "stopping after this step and saving a checkpoint" in stdout
    assert "interrupted at step" in stdout and f"gradschool train --resume --out {out}" in stdout
    stopped_at = checkpoint.load(out / LAST)["iter_num"]
    assert 30 <= stopped_at < 3000
    assert len(step_losses(out)) == stopped_at  # every step done is logged, and saved

    target = stopped_at + 20
    result = run_cli("train", "--resume", "--out", out, "--max-iters", target)
    assert result.exit_code == 0, result.output
    whole = tmp_path / "whole"
    args = ["train", "--model", "mlp", "--data", text_file, "--max-iters", target, "--lr-decay-iters", 3000,
            "--batch-size", 4, "--block-size", 8, "--n-embd", 4, "--n-hidden", 16, "--eval-iters", 2,
            "--seed", 3, "--eval-interval", 1000, "--out", whole]
    assert run_cli(*args).exit_code == 0
    assert step_losses(out) == step_losses(whole)


def test_kill_9_during_training_leaves_a_loadable_checkpoint(text_file, tmp_path):
    out = tmp_path / "run"
    # a checkpoint at every step of a model big enough that writing it takes a while
    proc = start_training(out, text_file, 100_000, "--eval-interval", 1, "--n-hidden", 4000)
    wait_for_steps(out, 5, proc)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    state = checkpoint.load(out / LAST)  # complete and checksummed
    assert state["iter_num"] >= 5
    assert (out / LOCK).read_text().strip() == str(proc.pid)  # the killed training's lock file is left
    with pytest.warns(UserWarning, match=f"the training with pid {proc.pid} ended without releasing"):
        resumed = run_cli("train", "--resume", "--out", out, "--max-iters", state["iter_num"] + 2)
    assert resumed.exit_code == 0, resumed.output
    assert [i for i, _ in step_losses(out)] == list(range(state["iter_num"] + 2))
    assert not (out / LOCK).exists()


def test_a_second_training_into_a_busy_folder_is_refused_naming_the_first(text_file, tmp_path):
    out = tmp_path / "run"
    first = start_training(out, text_file, 100_000, "--eval-interval", 1000)
    try:
        wait_for_steps(out, 3, first)
        for extra in (["--resume"], []):
            second = start_training(out, text_file, 20, *extra)
            _, stderr = second.communicate(timeout=60)
            assert second.returncode == 1, stderr
            assert f"{out} is in use by another training (pid {first.pid})" in stderr
            assert "Traceback" not in stderr
        assert first.poll() is None  # the first goes on, undisturbed
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)
        assert first.returncode == 130
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
    assert not (out / LOCK).exists()
    stopped_at = checkpoint.load(out / LAST)["iter_num"]
    assert len(step_losses(out)) == stopped_at


def test_a_folder_holding_other_files_is_refused_and_left_as_it_was(text_file, tmp_path):
    for name in (METRICS, BEST, "notes.txt"):
        out = tmp_path / name.replace(".", "-")
        out.mkdir()
        (out / name).write_bytes(b"precious")
        with pytest.raises(FileExistsError, match=f"{out} is not empty \\(it holds {name}\\)"):
            train(tiny_config(text_file, out, max_iters=2), progress=False)
        assert sorted(p.name for p in out.iterdir()) == [name]
        assert (out / name).read_bytes() == b"precious"
    out = tmp_path / "empty"
    out.mkdir()
    train(tiny_config(text_file, out, max_iters=2), progress=False)  # an empty folder is a new one
    assert sorted(p.name for p in out.iterdir()) == [BEST, LAST, METRICS]  # and the lock is gone


def test_cli_refuses_to_train_over_an_imported_model(text_file, tmp_path):
    train(tiny_config(text_file, tmp_path / "run", max_iters=2), progress=False)
    imported = tmp_path / "imported"
    imported.mkdir()
    (imported / BEST).write_bytes((tmp_path / "run" / BEST).read_bytes())
    result = run_cli("train", "--model", "mlp", "--data", text_file, "--max-iters", 2, "--out", imported)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert f"{imported} is not empty (it holds {BEST})" in result.output
    assert (imported / BEST).read_bytes() == (tmp_path / "run" / BEST).read_bytes()


def test_resume_refuses_data_that_changed_but_kept_its_characters(text_file, tmp_path):
    out = tmp_path / "run"
    train(tiny_config(text_file, out, max_iters=2), progress=False)
    text_file.write_text("".join(reversed(TEXT.splitlines(keepends=True))))  # the same characters
    changed = rf"the data {text_file} changed since the run in {out} started \(.* bytes then, .* now, and "
    with pytest.raises(DataError, match=changed + r"another SHA-256\).*--allow-data-change"):
        train(resume_config(out, max_iters=4), resume=True, progress=False)
    result = run_cli("train", "--resume", "--out", out, "--max-iters", 4)
    assert result.exit_code == 1 and "changed since the run" in result.output
    assert checkpoint.load(out / LAST)["iter_num"] == 2  # untouched
    result = run_cli("train", "--resume", "--out", out, "--max-iters", 4, "--allow-data-change")
    assert result.exit_code == 0, result.output
    state = checkpoint.load(out / LAST)
    assert state["iter_num"] == 4 and state["data"] == data_record(str(text_file))
    result = run_cli("train", "--data", text_file, "--allow-data-change", "--out", tmp_path / "b")
    assert result.exit_code == 1 and "--allow-data-change applies only with --resume" in result.output


def test_resume_of_a_checkpoint_without_a_data_record_warns(text_file, tmp_path):
    out = tmp_path / "run"
    train(tiny_config(text_file, out, max_iters=2), progress=False)
    state = checkpoint.load(out / LAST)
    del state["data"]  # as gradschool wrote it before recording the data
    checkpoint.save(out / LAST, state)
    with pytest.warns(UserWarning, match="did not record its data"):
        result = train(resume_config(out, max_iters=4), resume=True, progress=False)
    assert result.iter_num == 4


MALFORMED_METRICS = ["[1]", '"x"', "NaN", "null", '{"iter": "3", "loss": 1.0}', '{"iter": NaN, "loss": 1.0}',
                     '{"loss": 1.0}', '{"iter": true}', '{"iter": 2, "loss": "low"}', "{not json",
                     '{"iter": 1, "lo']


def test_resume_skips_malformed_metrics_lines(text_file, tmp_path):
    train(tiny_config(text_file, tmp_path / "whole"), progress=False)
    part = tmp_path / "part"
    train(tiny_config(text_file, part, max_iters=5), progress=False)
    lines = (part / METRICS).read_text().splitlines()
    lines = [MALFORMED_METRICS[0], *lines[:3], *MALFORMED_METRICS[1:], *lines[3:]]
    (part / METRICS).write_text("\n".join(lines))
    train(resume_config(part, max_iters=12), resume=True, progress=False)
    assert records(part) == [r for r in records(part) if isinstance(r, dict) and isinstance(r["iter"], int)]
    assert step_losses(part) == step_losses(tmp_path / "whole")
    assert eval_losses(part) == eval_losses(tmp_path / "whole")


def test_on_record_is_given_every_record_written(text_file, tmp_path):
    out = tmp_path / "run"
    seen = []
    train(tiny_config(text_file, out, max_iters=5), progress=False, on_record=seen.append)
    assert seen == records(out)
    assert [r["iter"] for r in seen if "loss" in r] == [0, 1, 2, 3, 4]
    assert [r["iter"] for r in seen if "val_loss" in r] == [0, 4, 5]
    resumed = []
    train(resume_config(out, max_iters=8), resume=True, progress=False, on_record=resumed.append)
    assert records(out) == [r for r in seen if r["iter"] < 5] + resumed  # the evaluation at 5 is redone
    assert [r["iter"] for r in resumed if "loss" in r] == [5, 6, 7]


def test_the_config_is_checked_however_it_is_made(text_file, tmp_path):
    with pytest.raises(ValueError, match=r"--min-lr 0.1 must be between 0 and --lr \(0.01\)"):
        tiny_config(text_file, tmp_path / "run", min_lr=0.1)
    with pytest.raises(ValueError, match="--lr must be a finite number, not inf"):
        TrainConfig(learning_rate=math.inf)
    with pytest.raises(ValueError, match="--beta2 1.0 must be in"):
        TrainConfig(beta2=1.0)
    assert TrainConfig(learning_rate=0.3, min_lr=1.0, decay_lr=False).min_lr == 1.0  # no decay: no floor
    config = tiny_config(text_file, tmp_path / "run")
    assert config.data == str(text_file.resolve())
    assert TrainConfig(data=os.path.relpath(text_file)).data == config.data  # one file, one name


def test_a_model_too_big_for_the_memory_is_refused_with_the_estimate(text_file, tmp_path):
    from gradschool.train import check_fits, model_settings

    config = tiny_gpt_config(text_file, tmp_path / "run")
    data = LanguageData(config.data, block_size=config.block_size)
    check_fits(config, data, available=10**9)
    n = sum(p.data.size for p in build_model("gpt", model_settings(config, data)).parameters())
    message = (rf"too big to train here: {n:,} parameters \(--n-layer 2 --n-embd 16 --block-size 8 "
               r"--batch-size 4 --eval-iters 2\) need about 0.\d MB .* 0.0 MB free")
    with pytest.raises(ValueError, match=message):
        check_fits(config, data, available=1000)
    assert model_settings(config, data)["vocab_size"] == data.tokenizer.vocab_size


def test_divergence_advice_never_suggests_a_rate_that_is_not_a_number():
    for lr, advice in ((0.5, "try 0.05"), (math.inf, "try 1e-3"), (math.nan, "try 1e-3")):
        with pytest.raises(TrainingDiverged, match=advice) as e:
            check_finite(math.nan, 3, lr)
        assert "try inf" not in str(e.value) and "try nan" not in str(e.value)
    with pytest.raises(TrainingDiverged) as e:
        check_finite(math.nan, 3, 5e-324)  # a tenth of it is 0: no advice of a rate at all
    assert "try" not in str(e.value)
