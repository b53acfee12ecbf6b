"""Run folders: refusing folders that hold files, the lock, checked checkpoint states, the metrics reader."""

import json
import os
import re
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from gradschool import checkpoint
from gradschool.checkpoint import CheckpointError
from gradschool.cli import cli
from gradschool.runs import (
    BEST,
    LAST,
    LOCK,
    METRICS,
    RunInUse,
    RunLock,
    check_new_run_folder,
    load_model,
    read_metrics,
    read_model_state,
)
from gradschool.train import make_config, train


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A run folder of a tiny MLP on names: two steps, evaluated (and saved) at each."""
    out = tmp_path_factory.mktemp("runs") / "run"
    config = make_config("mlp", "names", out_dir=str(out), max_iters=2, eval_interval=1, eval_iters=1,
                         batch_size=4, n_embd=4, n_hidden=8, seed=1)
    train(config, progress=False)
    return out


def test_a_new_run_folder_may_not_hold_files(tmp_path):
    check_new_run_folder(tmp_path / "new")  # nothing there yet
    check_new_run_folder(tmp_path)  # empty
    (tmp_path / LOCK).write_text("")
    check_new_run_folder(tmp_path)  # only a lock file
    (tmp_path / METRICS).write_text("{}\n")
    (tmp_path / BEST).write_bytes(b"x")
    with pytest.raises(FileExistsError, match=rf"is not empty \(it holds {BEST}, {METRICS}\) .*no {LAST}"):
        check_new_run_folder(tmp_path)
    (tmp_path / LAST).write_bytes(b"x")
    with pytest.raises(FileExistsError, match="already holds a training run .*pass --resume"):
        check_new_run_folder(tmp_path)
    with pytest.raises(FileExistsError, match="is a file, not a folder"):
        check_new_run_folder(tmp_path / METRICS)


def test_the_lock_holds_the_pid_and_refuses_a_second_holder(tmp_path):
    with RunLock(tmp_path / "run") as lock:
        assert (tmp_path / "run" / LOCK).read_text().strip() == str(os.getpid())
        with pytest.raises(RunInUse, match=f"in use by another training \\(pid {os.getpid()}\\)"):
            RunLock(tmp_path / "run").__enter__()
        assert lock.stale_pid is None
    assert not (tmp_path / "run" / LOCK).exists()  # released: the folder is as it was
    with RunLock(tmp_path / "run"):  # and free again
        pass


def test_a_lock_file_left_by_a_dead_holder_is_taken_over_with_a_warning(tmp_path):
    (tmp_path / LOCK).write_text("4194999\n")  # no process holds its flock
    with pytest.warns(UserWarning, match="pid 4194999 ended without releasing its lock"), \
            RunLock(tmp_path) as lock:
        assert lock.stale_pid == 4194999
        assert (tmp_path / LOCK).read_text().strip() == str(os.getpid())


def test_read_metrics_keeps_only_records(tmp_path):
    good = [{"iter": 0, "train_loss": 3.2, "val_loss": 3.3}, {"iter": 0, "loss": 3.1, "lr": 0.1, "ms": 2.0},
            {"iter": 1, "loss": float("nan"), "lr": 0.1, "ms": 2}]
    bad = ["[1]", '"x"', "NaN", "5", "null", '{"iter": "3", "loss": 1.0}', '{"iter": NaN, "loss": 1.0}',
           '{"loss": 1.0}', '{"iter": true, "loss": 1.0}', '{"iter": -1, "loss": 1.0}',
           '{"iter": 2, "loss": "low"}', '{"iter": 2.5, "loss": 1.0}', "[" * 5000, '{"iter": 3, "lo',
           '{"iter": ' + "9" * 5000 + "}"]
    lines = [json.dumps(good[0]), *bad[:7], json.dumps(good[1]), *bad[7:], json.dumps(good[2])]
    (tmp_path / METRICS).write_text("\n".join(lines))
    records = read_metrics(tmp_path)
    assert records[:2] == good[:2]
    assert records[2]["iter"] == 1 and np.isnan(records[2]["loss"]) and len(records) == 3


def test_a_trained_run_loads(trained):
    model, tokenizer, state = load_model(trained)
    assert state["iter_num"] == 2 and tokenizer.vocab_size == state["model_config"]["vocab_size"] == 27
    assert state["data"]["size"] > 0 and len(state["data"]["sha256"]) == 64


def drop(key):
    def change(state):
        del state[key]
    return change


def setting(*path, value):
    """A change of the state: the value at path (keys and indices) becomes value."""
    def change(state):
        target = state
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def first_weight(value):
    def change(state):
        name = next(iter(state["model"]))
        state["model"][name] = value(state["model"][name])
    return change


MODEL_DAMAGE = {  # changes to the model part of a state, and what the refusal says
    "no model_config": (drop("model_config"), "its model_config is not a dict of settings"),
    "a size as text": (setting("model_config", "n_embd", value="4"), "model_config.n_embd is '4', not of"),
    "an unknown size": (setting("model_config", "n_layer", value=2), r"unknown settings \['n_layer'\]"),
    "a huge size": (setting("model_config", "n_hidden", value=10**12), "impossible for a model of"),
    "a size of 0": (setting("model_config", "n_embd", value=0), "has n_embd = 0, impossible"),
    "a pad token off the vocabulary": (setting("model_config", "pad_token", value=27),
                                       "has pad_token = 27, impossible .* a vocabulary of 27"),
    "vocab_size differs": (setting("model_config", "vocab_size", value=5), "vocab_size 5, its vocabulary 27"),
    "no vocabulary": (setting("vocab", value=["a", "b"]), "its vocabulary is damaged"),
    "a missing weight": (lambda s: s["model"].popitem(), "missing keys"),
    "a weight of another shape": (first_weight(lambda w: w[:1]), "shape mismatches"),
    "a weight of text": (first_weight(lambda w: np.array(["x"])), "not a dict of named float arrays"),
    "seq_len as text": (setting("seq_len", value="x"), "its seq_len is 'x'"),
    "a huge seq_len": (setting("seq_len", value=10**15), "its seq_len is 1000000000000000"),
    "no data_format": (drop("data_format"), "its data_format is None"),
    "another kind": (setting("kind", value="other"), "not of a language model run"),
}
TRAINING_DAMAGE = {  # changes to the training part, which only a resume reads
    "no iter_num": (drop("iter_num"), "its iter_num is None"),
    "iter_num as text": (setting("iter_num", value="3"), "its iter_num is '3'"),
    "no best_val_loss": (drop("best_val_loss"), "its best_val_loss is None"),
    "optimizer a list": (setting("optimizer", value=[]), "optimizer state is not a dict"),
    "moments a number": (setting("optimizer", "state", 0, "exp_avg", value=1.0), "not AdamW's step"),
    "moments of another shape": (setting("optimizer", "state", 0, "exp_avg", value=np.zeros(3)),
                                 "cannot be resumed: optimizer state 'exp_avg' of parameter 0 has shape"),
    "a parameter index out of range": (setting("optimizer", "param_groups", 0, "params", 0, value=99),
                                       "groups list parameters"),
    "lr as text": (setting("optimizer", "param_groups", 0, "lr", value="x"), "optimizer's lr is 'x'"),
    "a generator state without its state": (setting("rng", "batches", value={"bit_generator": "PCG64"}),
                                            "rng.batches is damaged"),
    "another generator's state": (setting("rng", "batches", value=np.random.MT19937(1).state),
                                  "cannot be resumed: .*PCG64"),
    "no generators": (setting("rng", value={}), "random generator states .* are missing"),
    "next_batch of numbers": (setting("next_batch", value=[1, 2]), "not two integer arrays"),
    "next_batch off the vocabulary": (lambda s: s["next_batch"][0].fill(999),
                                      "token ids outside the vocabulary's 0..26"),
    "max_iters as text": (setting("train_config", "max_iters", value="x"), "train_config.max_iters is 'x'"),
    "an unknown setting": (setting("train_config", "speed", value=1), r"unknown settings \['speed'\]"),
    "no evaluations": (setting("train_config", "eval_interval", value=0), "eval_interval is 0, less than 1"),
    "another model": (setting("train_config", "model", value="gpt"), "train_config is of a 'gpt' model"),
    "a model_arg of another model": (setting("train_config", "model_args", value={"n_head": 2}),
                                     "train_config.model_args has unknown settings"),
    "no train_config": (drop("train_config"), "holds a model but not a training run"),
    "a damaged data record": (setting("data", value={"size": "x"}), "record of the training data is damaged"),
}


def damaged_copy(trained, tmp_path, change):
    """A copy of the trained run whose checkpoints hold a changed state, with valid checksums."""
    out = tmp_path / "run"
    shutil.copytree(trained, out)
    state = checkpoint.load(out / LAST)
    change(state)
    for name in (LAST, BEST):
        checkpoint.save(out / name, state)
    return out


def run_cli(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def refused_clearly(result, message):
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # a message, not a traceback
    assert re.search(message, result.output), result.output


@pytest.mark.parametrize("damage", MODEL_DAMAGE)
def test_a_crafted_model_state_is_refused_by_sample_and_resume(trained, tmp_path, damage):
    change, message = MODEL_DAMAGE[damage]
    out = damaged_copy(trained, tmp_path, change)
    refused_clearly(run_cli("sample", "--from", out, "--num", 1), message)
    refused_clearly(run_cli("train", "--resume", "--out", out, "--max-iters", 3), message)
    with pytest.raises(CheckpointError, match=f"{out / BEST} cannot be used"):
        load_model(out)


@pytest.mark.parametrize("damage", TRAINING_DAMAGE)
def test_a_crafted_training_state_is_refused_by_resume(trained, tmp_path, damage):
    change, message = TRAINING_DAMAGE[damage]
    out = damaged_copy(trained, tmp_path, change)
    refused_clearly(run_cli("train", "--resume", "--out", out, "--max-iters", 3), message)
    assert read_model_state(out / BEST)["model_kind"] == "mlp"  # the model part is still fine to sample
