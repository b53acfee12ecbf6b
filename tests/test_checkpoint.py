"""Checkpoint files: exact round trips, atomic writes, and clear refusals of bad files."""

import hashlib
import io
import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest

from gradschool import checkpoint
from gradschool.checkpoint import CheckpointError

HEADER = struct.Struct("<8sIQ32s")  # magic, version, payload length, SHA-256 of the payload (the docstring's)


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
    real_fdopen = os.fdopen

    class HalfWriter:  # writes half of the payload to the temporary file, says so, and waits to be killed
        def __init__(self, f):
            self.f = f
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            self.f.close()
        def write(self, data):
            if len(data) > 1_000_000:  # the payload (the header is 52 bytes)
                self.f.write(data[: len(data) // 2])
                self.f.flush()
                os.fsync(self.f.fileno())
                print("mid-write", len(data) // 2, flush=True)
                time.sleep(60)
            return self.f.write(data)
        def flush(self):
            self.f.flush()
        def fileno(self):
            return self.f.fileno()

    big = np.zeros(4_000_000, dtype=np.float32)  # 16 MB, so that each save takes a while
    for version in range(1, 10_000):
        big[:] = version
        if pause and version == 2:
            os.fdopen = lambda fd, mode: HalfWriter(real_fdopen(fd, mode))
        checkpoint.save(path, {"version": version, "big": big})
        print(version, os.path.getsize(path), flush=True)
""")


def run_writer(path, pause):
    args = [sys.executable, "-c", WRITER, str(path), pause]
    return subprocess.Popen(args, stdout=subprocess.PIPE, text=True)


def test_kill_9_in_the_middle_of_a_write_keeps_the_previous_checkpoint(tmp_path):
    path = tmp_path / "c.ckpt"
    proc = run_writer(path, "pause")
    version, full_size = proc.stdout.readline().split()
    assert version == "1"
    said, written = proc.stdout.readline().split()  # the writer is blocked with half of version 2 written
    assert said == "mid-write"
    [tmp] = tmp_path.glob(".c.ckpt.*.tmp")
    partial = tmp.stat().st_size
    assert 0 < partial < int(full_size)
    assert partial == HEADER.size + int(written)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert tmp.stat().st_size == partial  # killed mid-write: the unfinished version 2 is still there
    assert path.stat().st_size == int(full_size)
    state = checkpoint.load(path)
    assert state["version"] == 1 and np.all(state["big"] == 1)
    checkpoint.save(path, {"version": 3})  # the next save clears the leftover
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.ckpt"]


def test_kill_9_at_random_moments_never_breaks_the_last_checkpoint(tmp_path):
    path = tmp_path / "c.ckpt"
    for delay in np.linspace(0.2, 0.9, 4):
        proc = run_writer(path, "run")
        assert proc.stdout.readline().split()[0] == "1"  # the first save has finished
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        state = checkpoint.load(path)  # always a complete, checksummed version
        assert state["version"] >= 1
        assert np.all(state["big"] == state["version"])


# ---- files with a valid header and checksum whose payload was crafted ---------------------------------
def seal(path, payload: bytes):
    """Write payload as a checkpoint file with a correct header and checksum."""
    digest = hashlib.sha256(payload).digest()
    path.write_bytes(HEADER.pack(checkpoint.MAGIC, checkpoint.VERSION, len(payload), digest) + payload)
    return path


def npz(meta, **arrays) -> bytes:
    """An .npz payload with __meta__ (str: the JSON text as is) and the arrays."""
    text = meta if isinstance(meta, str) else json.dumps(meta)
    buffer = io.BytesIO()
    np.savez(buffer, __meta__=np.frombuffer(text.encode(), dtype=np.uint8), **arrays)
    return buffer.getvalue()


def test_a_crafted_payload_that_save_would_write_loads(tmp_path):
    path = seal(tmp_path / "c.ckpt", npz({"w": {"__array__": "w", "scalar": False}, "n": 3}, w=np.ones(2)))
    state = checkpoint.load(path)
    assert state["n"] == 3 and np.array_equal(state["w"], np.ones(2))


def test_an_array_entry_claiming_4_gib_is_refused_before_it_is_read(tmp_path):
    payload = bytearray(npz({"w": {"__array__": "w", "scalar": False}}, w=np.ones(4)))
    for signature, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):  # central and local headers
        at = payload.index(signature)  # the first entry: w.npy
        payload[at + offset: at + offset + 4] = (0xFFFFFFF0).to_bytes(4, "little")  # uncompressed size
    path = seal(tmp_path / "bomb.ckpt", bytes(payload))
    assert zipfile.ZipFile(io.BytesIO(bytes(payload))).infolist()[0].file_size == 0xFFFFFFF0
    with pytest.raises(CheckpointError, match=f"{path} is damaged or crafted: its arrays claim 4294967"):
        checkpoint.load(path)


def test_an_npy_header_claiming_4_gib_of_data_is_refused_before_allocating(tmp_path):
    header = io.BytesIO()
    claims = {"descr": "<f8", "fortran_order": False, "shape": (1 << 29,)}  # 4 GiB of float64
    np.lib.format.write_array_header_1_0(header, claims)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("__meta__.npy", npz_member(np.frombuffer(b'{"w": 1}', dtype=np.uint8)))
        archive.writestr("a0.npy", header.getvalue() + b"\0" * 64)  # 64 bytes of the 4 GiB it claims
    path = seal(tmp_path / "c.ckpt", buffer.getvalue())
    with pytest.raises(CheckpointError, match="a0.npy claims 4294967296 bytes of data in an entry of"):
        checkpoint.load(path)


def npz_member(array) -> bytes:
    out = io.BytesIO()
    np.lib.format.write_array(out, array)
    return out.getvalue()


@pytest.mark.parametrize("depth", [checkpoint.MAX_NESTING + 1, 900, 100_000])
def test_deeply_nested_meta_json_is_refused(tmp_path, depth):
    path = seal(tmp_path / "deep.ckpt", npz('{"x": ' + "[" * depth + "]" * depth + "}"))
    with pytest.raises(CheckpointError, match="nests more than 100 levels deep"):
        checkpoint.load(path)


def test_nesting_within_the_limit_loads(tmp_path):
    depth = checkpoint.MAX_NESTING - 1
    path = seal(tmp_path / "c.ckpt", npz('{"x": ' + "[" * depth + "]" * depth + "}"))
    x = checkpoint.load(path)["x"]
    for _ in range(depth - 1):
        x = x[0]
    assert x == []


@pytest.mark.parametrize("meta, problem", [
    ("{not json", "its __meta__ entry is not JSON"),
    ('{"n": ' + "9" * 5000 + "}", "its __meta__ entry is not JSON"),  # more digits than Python reads
    ('"a string"', "its state is a str, not a dict"),
    ("[1, 2]", "its state is a list, not a dict"),
    ('{"w": {"__array__": "nowhere", "scalar": false}}', "names no array of the file"),
    ('{"w": {"__array__": "a0"}}', "names no array of the file"),
    ('{"w": {"__tuple__": 5}}', "a tuple that is not stored as a list"),
    ('{"w": {"__dict__": [[1]]}}', "not stored as \\[key, value\\] pairs"),
    ('{"w": {"__dict__": [[[1, 2], 3]]}}', "a dict key of type list"),
])
def test_malformed_meta_is_refused_clearly(tmp_path, meta, problem):
    path = seal(tmp_path / "c.ckpt", npz(meta))
    with pytest.raises(CheckpointError, match=problem):
        checkpoint.load(path)


def test_meta_that_is_not_utf8_or_missing_is_refused(tmp_path):
    buffer = io.BytesIO()
    np.savez(buffer, __meta__=np.frombuffer(b"\xff\xfe{}", dtype=np.uint8))
    with pytest.raises(CheckpointError, match="its __meta__ entry is not JSON"):
        checkpoint.load(seal(tmp_path / "a.ckpt", buffer.getvalue()))
    buffer = io.BytesIO()
    np.savez(buffer, w=np.ones(3))
    with pytest.raises(CheckpointError, match="it has no __meta__ entry"):
        checkpoint.load(seal(tmp_path / "b.ckpt", buffer.getvalue()))
    with pytest.raises(CheckpointError, match="its arrays cannot be read"):
        checkpoint.load(seal(tmp_path / "c.ckpt", b"not a zip archive at all"))
