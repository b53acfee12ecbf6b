"""Checkpoint files: exact round trips, atomic writes, and clear refusals of bad files."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from gradschool import checkpoint
from gradschool.checkpoint import CheckpointError


def example_state():
    rng = np.random.default_rng(0)
    return {
        "kind": "test",
        "step": 7,
        "lr": 0.1 + 0.2,  # a float that only survives a round trip if written exactly
        "weights": {"w": rng.standard_normal((3, 4)).astype(np.float32), "b": np.arange(4, dtype=np.int64)},
        "optimizer": {"state": {0: {"m": rng.standard_normal(5), "t": np.int64(3)}}, "betas": (0.9, 0.99)},
        "rng": np.random.default_rng(5).bit_generator.state,  # holds 128-bit ints
        "vocab": ["a", "b", "\n"],
        "best": float("inf"),
        "nothing": None,
    }


def assert_same(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif isinstance(a, np.ndarray | np.generic):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    else:
        assert a == b


def test_round_trip_is_exact(tmp_path):
    state = example_state()
    checkpoint.save(tmp_path / "c.ckpt", state)
    assert_same(checkpoint.load(tmp_path / "c.ckpt"), state)


def test_saved_rng_state_continues_the_same_numbers(tmp_path):
    g = np.random.default_rng(3)
    g.random(10)
    checkpoint.save(tmp_path / "c.ckpt", {"rng": g.bit_generator.state})
    h = np.random.default_rng()
    h.bit_generator.state = checkpoint.load(tmp_path / "c.ckpt")["rng"]
    assert np.array_equal(g.random(5), h.random(5))


def test_no_temporary_files_are_left_behind(tmp_path):
    (tmp_path / ".c.ckpt.abc123.tmp").write_bytes(b"half a file from a writer that was killed")
    checkpoint.save(tmp_path / "c.ckpt", example_state())
    checkpoint.save(tmp_path / "c.ckpt", example_state())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.ckpt"]


def test_objects_that_would_need_pickle_are_refused(tmp_path):
    with pytest.raises(TypeError, match="cannot store a object in a checkpoint"):
        checkpoint.save(tmp_path / "c.ckpt", {"x": object()})
    assert not (tmp_path / "c.ckpt").exists()


def test_truncated_file_is_refused_naming_it(tmp_path):
    path = tmp_path / "c.ckpt"
    checkpoint.save(path, example_state())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=f"{path} is truncated or damaged"):
        checkpoint.load(path)
    path.write_bytes(data[:10])  # not even a whole header
    with pytest.raises(CheckpointError, match=f"{path} is not a gradschool checkpoint"):
        checkpoint.load(path)


def test_foreign_file_is_refused_naming_it(tmp_path):
    path = tmp_path / "model.npz"
    np.savez(path, w=np.zeros(3))
    with pytest.raises(CheckpointError, match=f"{path} is not a gradschool checkpoint"):
        checkpoint.load(path)


def test_corrupted_byte_is_caught_by_the_checksum(tmp_path):
    path = tmp_path / "c.ckpt"
    checkpoint.save(path, example_state())
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum does not match"):
        checkpoint.load(path)


def test_missing_file_is_refused_clearly(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint at .*nothing.ckpt"):
        checkpoint.load(tmp_path / "nothing.ckpt")


def test_newer_format_version_is_refused(tmp_path):
    path = tmp_path / "c.ckpt"
    checkpoint.save(path, {"a": 1})
    data = bytearray(path.read_bytes())
    data[8:12] = (99).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="format version 99"):
        checkpoint.load(path)


WRITER = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    from gradschool import checkpoint
    path, pause = sys.argv[1], sys.argv[2] == "pause"

    def slow_fsync(fd):  # the temporary file is written but not yet renamed: a kill now is mid-write
        print("mid-write", flush=True)
        time.sleep(60)

    big = np.zeros(4_000_000, dtype=np.float32)  # 16 MB, so that each save takes a while
    for version in range(1, 10_000):
        big[:] = version
        if pause and version == 2:
            os.fsync = slow_fsync
        checkpoint.save(path, {"version": version, "big": big})
        print(version, flush=True)
""")


def run_writer(path, pause):
    args = [sys.executable, "-c", WRITER, str(path), pause]
    return subprocess.Popen(args, stdout=subprocess.PIPE, text=True)


def test_kill_9_in_the_middle_of_a_write_keeps_the_previous_checkpoint(tmp_path):
    path = tmp_path / "c.ckpt"
    proc = run_writer(path, "pause")
    assert proc.stdout.readline().strip() == "1"
    assert proc.stdout.readline().strip() == "mid-write"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert len(list(tmp_path.glob(".c.ckpt.*.tmp"))) == 1  # the unfinished version 2
    state = checkpoint.load(path)
    assert state["version"] == 1 and np.all(state["big"] == 1)
    checkpoint.save(path, {"version": 3})  # the next save clears the leftover
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.ckpt"]


def test_kill_9_at_random_moments_never_breaks_the_last_checkpoint(tmp_path):
    path = tmp_path / "c.ckpt"
    for delay in np.linspace(0.2, 0.9, 4):
        proc = run_writer(path, "run")
        assert proc.stdout.readline().strip() == "1"  # the first save has finished
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        state = checkpoint.load(path)  # always a complete, checksummed version
        assert state["version"] >= 1
        assert np.all(state["big"] == state["version"])
