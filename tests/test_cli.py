"""The `gradschool` command itself."""

import os
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from gradschool.cli import cli


def test_rungs_lists_every_rung_number():
    result = CliRunner().invoke(cli, ["rungs"])
    assert result.exit_code == 0
    numbers = [line.split()[0] for line in result.output.strip().splitlines()]
    assert numbers == [*map(str, range(1, 10)), "14"]


def test_rung_out_of_range_is_refused_clearly():
    result = CliRunner().invoke(cli, ["rung", "15"])
    assert result.exit_code != 0
    assert "15 is not in the range 1<=x<=14" in result.output


def test_python_dash_m_runs_the_same_command():
    out = subprocess.run([sys.executable, "-m", "gradschool", "--version"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "gradschool, version" in out.stdout


# --- bad input: a clear error naming the flag as typed, before any work, never a traceback ----------------

def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def refused(result, *phrases, code=1):
    """The command failed with `code`, a message holding every phrase, and no traceback."""
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # a message, not an uncaught error
    assert "Traceback" not in result.output
    for phrase in phrases:
        assert phrase in result.output, result.output
    return result.output


TINY_MLP = ["train", "--model", "mlp", "--data", "names", "--max-iters", 2, "--eval-iters", 1,
            "--batch-size", 4, "--n-embd", 2, "--n-hidden", 8]


def test_min_lr_above_lr_is_refused_before_any_work(tmp_path):
    out = tmp_path / "run"
    refused(run(*TINY_MLP, "--lr", 0.01, "--min-lr", 0.1, "--out", out),
            "--min-lr 0.1 must be between 0 and --lr (0.01)", "lower --min-lr or raise --lr")
    assert not out.exists()  # refused before anything was written
    refused(run(*TINY_MLP, "--min-lr", 0.5, "--out", out), "--min-lr 0.5 must be between 0 and --lr (0.01)")
    assert run(*TINY_MLP, "--lr", 0.01, "--min-lr", 0.01, "--out", out).exit_code == 0  # equal: no decay


@pytest.mark.parametrize("lr", ["inf", "nan", "-inf"])
def test_a_non_finite_learning_rate_is_refused(tmp_path, lr):
    refused(run(*TINY_MLP, "--lr", lr, "--out", tmp_path / "run"), f"--lr must be a finite number, not {lr}")
    assert not (tmp_path / "run").exists()


def test_an_absurd_learning_rate_is_refused(tmp_path):
    refused(run(*TINY_MLP, "--lr", 1e9, "--out", tmp_path / "run"), "--lr 1000000000.0 is out of range",
            "between 0 and 10")
    refused(run(*TINY_MLP, "--lr", -0.1, "--out", tmp_path / "run"), "--lr -0.1 is out of range")


def test_every_train_flag_is_checked_and_named_as_typed(tmp_path):
    out = tmp_path / "run"
    cases = [(["--batch-size", 0], "--batch-size must be a whole number >= 1, not 0"),
             (["--eval-interval", -3], "--eval-interval must be a whole number >= 1, not -3"),
             (["--grad-clip", "inf"], "--grad-clip must be a finite number, not inf"),
             (["--weight-decay", -1], "--weight-decay -1.0 must be 0 or more"),
             (["--max-data-mb", 0], "--max-data-mb 0.0 must be more than 0"),
             (["--n-embd", 0], "--n-embd must be a whole number >= 1, not 0"),
             (["--model", "gpt", "--n-embd", 10, "--n-head", 3],
              "--n-embd 10 must be a multiple of --n-head 3"),
             (["--model", "gpt", "--dropout", 1], "--dropout 1.0 must be in [0, 1)"),
             (["--bias"], "--bias does not apply to --model mlp (it takes: --n-embd, --n-hidden)"),
             (["--preset", "nanogpt-cpu"], "--preset nanogpt-cpu is for --model gpt, not --model mlp")]
    for flags, message in cases:
        args = [*TINY_MLP, *flags, "--out", out]
        if "--model" in flags:  # replace the mlp's
            i = args.index("--model")
            del args[i : i + 2]
            args = [a for a in args if a not in ("--n-hidden", 8)]
        refused(run(*args), message)
    assert not out.exists()


def test_resume_names_the_flags_as_typed(tmp_path):
    out = tmp_path / "run"
    gpt = ["train", "--model", "gpt", "--data", "names", "--max-iters", 1, "--eval-iters", 1,
           "--batch-size", 2, "--n-layer", 1, "--n-head", 1, "--n-embd", 8, "--bias", "--out", out]
    assert run(*gpt).exit_code == 0
    refused(run("train", "--resume", "--out", out, "--lr", 0.5),
            "--lr 0.5 differs from the run being resumed (--lr 0.001)")
    refused(run("train", "--resume", "--out", out, "--no-bias"),
            "--no-bias differs from the run being resumed (--bias)")
    refused(run("train", "--resume", "--out", out, "--max-iters", -1),
            "--max-iters must be a whole number >= 0, not -1")
    assert run("train", "--resume", "--out", out, "--bias", "--max-iters", 2).exit_code == 0  # as it was


def test_a_relative_path_names_the_same_data_file_from_any_folder(tmp_path, monkeypatch):
    (tmp_path / "corpus.txt").write_text("".join(f"line {i} of some text to learn\n" for i in range(200)))
    (tmp_path / "other.txt").write_text("".join(f"another {i} text to learn here\n" for i in range(200)))
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    small = ["--model", "mlp", "--format", "text", "--eval-iters", 1, "--batch-size", 4, "--block-size", 4]
    assert run("train", *small, "--data", "corpus.txt", "--max-iters", 1, "--out", "run").exit_code == 0
    assert run("train", "--resume", "--out", "run", "--data", "./corpus.txt", "--max-iters", 2).exit_code == 0
    monkeypatch.chdir(tmp_path / "sub")
    result = run("train", "--resume", "--out", "../run", "--data", "../corpus.txt", "--max-iters", 3)
    assert result.exit_code == 0, result.output
    refused(run("train", "--resume", "--out", "../run", "--data", "../other.txt"),
            f"--data {tmp_path / 'other.txt'} differs from the run being resumed "
            f"(--data {tmp_path / 'corpus.txt'})")


def test_data_that_is_not_a_regular_text_file_is_refused(tmp_path):
    out = tmp_path / "run"
    refused(run(*TINY_MLP, "--data", "/dev/zero", "--out", out), "'/dev/zero' is a character device")
    refused(run(*TINY_MLP, "--data", tmp_path, "--out", out), "is a folder")
    binary = tmp_path / "model.bin"
    binary.write_bytes(b"abc\x00\x01\x02" * 100)
    refused(run(*TINY_MLP, "--data", binary, "--out", out), "looks like a binary", "NUL byte at offset 3")
    big = tmp_path / "big.txt"
    big.write_text("all work and no play makes jack a dull boy\n" * 30_000)  # 1.3 MB
    refused(run(*TINY_MLP, "--data", big, "--max-data-mb", 1, "--out", out),
            "is 1.3 MB, more than the limit of 1 MB", "--max-data-mb")
    assert not out.exists()


def test_a_fifo_as_data_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    args = [str(a) for a in (*TINY_MLP, "--data", fifo, "--out", tmp_path / "run")]
    out = subprocess.run([sys.executable, "-m", "gradschool", *args], capture_output=True, text=True,
                         timeout=120)  # a hang would be a failure, not a timing figure
    assert out.returncode == 1 and "is a pipe (FIFO), not a text file" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("flags, shown", [
    (["--n-embd", 1_000_000], "--n-embd 1000000"),
    (["--n-layer", 100_000], "--n-layer 100000"),
    (["--batch-size", 10**9], "--batch-size 1000000000"),
    (["--block-size", 10**9], "--block-size 1000000000"),  # a GPT reads whole names: its context is this
    (["--eval-iters", 10**9], "--eval-iters 1000000000"),  # fixed evaluation batches are kept all along
])
def test_absurd_sizes_are_refused_with_the_memory_estimate(tmp_path, flags, shown):
    args = ["train", "--model", "gpt", "--data", "names", "--max-iters", 1, *flags, "--out", tmp_path / "run"]
    message = refused(run(*args), "this gpt model is too big to train here", shown, "GB free")
    assert re.search(r"need about [\d,.]+ GB", message)
    assert not (tmp_path / "run").exists()


def test_a_block_size_longer_than_the_text_is_refused_before_training(tmp_path):
    refused(run("train", "--model", "mlp", "--data", "shakespeare", "--block-size", 10**9,
                "--out", tmp_path / "run"),
            "the train part of the text (90/10) has 888,563 characters, too few for one batch with "
            "--block-size 1000000000")


def test_help_shows_each_flags_real_default_per_model():
    from gradschool.cli import MODEL_KINDS
    from gradschool.nn.registry import MODELS
    from gradschool.train import make_config

    assert list(MODELS) == MODEL_KINDS

    text = " ".join(run("train", "--help").output.split())  # unwrapped
    for model in ("bigram", "mlp", "gpt"):
        config = make_config(model, "names")
        assert f"{config.learning_rate:g} ({model})" in text
        assert f"{config.block_size} ({model}" in text
    assert "[default: 4 (gpt)]" in text and "--no-bias (gpt)" in text and "--max-iters (bigram, mlp)" in text
    assert "[default: 1337]" in text and "[default: 100]" in text


# --- sampling -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def names_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("names") / "run"
    result = run("train", "--model", "bigram", "--data", "names", "--max-iters", 30, "--eval-interval", 10,
                 "--eval-iters", 2, "--out", out)
    assert result.exit_code == 0, result.output
    return out


def test_sample_with_a_vanishing_temperature_picks_the_argmax(names_run):
    greedy = run("sample", "--from", names_run, "--num", 3, "--top-k", 1, "--prompt", "ma")
    cold = run("sample", "--from", names_run, "--num", 3, "--temperature", "5e-324", "--prompt", "ma")
    assert greedy.exit_code == cold.exit_code == 0, cold.output
    assert cold.output == greedy.output and cold.output.startswith("ma")


def test_sample_refuses_the_end_of_line_token_or_a_line_break_in_a_names_prompt(names_run):
    refused(run("sample", "--from", names_run, "--prompt", "a.b"),
            "the prompt may not contain the end-of-line token '.' (at character 1)")
    refused(run("sample", "--from", names_run, "--prompt", "ab\nc"), "may not contain a line break")
    refused(run("sample", "--from", names_run, "--prompt", "Zoë"),
            "characters not in the vocabulary: 'Z', 'ë'")


def test_sample_refuses_absurd_lengths_and_counts(names_run):
    refused(run("sample", "--from", names_run, "--max-new-tokens", 10**8),
            "--max-new-tokens 100000000 is out of range", "1 to 100,000")
    refused(run("sample", "--from", names_run, "--max-new-tokens", "1e8"), "'--max-new-tokens'", code=2)
    refused(run("sample", "--from", names_run, "--num", 10**6), "--num 1000000 is out of range")
    assert "at most 100,000" in " ".join(run("sample", "--help").output.split())
