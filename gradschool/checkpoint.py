"""Checkpoint files: save and load a training run's state safely, without pickle.

A checkpoint is one file:

    magic (8 bytes) | version (uint32) | payload length (uint64) | SHA-256 of the payload (32 bytes) | payload

The payload is an `.npz` archive (NumPy's zip of arrays, read with `allow_pickle=False`) holding every array
of the state plus one entry, `__meta__`, with everything else as JSON. A file that does not start with the
magic, is shorter than its recorded length, or whose checksum does not match is refused, naming the file.

Files are written atomically: to a temporary file in the same folder, flushed and fsync'ed, then renamed over
the old one with `os.replace`. A crash (even kill -9) in the middle leaves the previous checkpoint untouched.
"""

import hashlib
import io
import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = b"GSCHKPT\x00"
VERSION = 1
_HEADER = struct.Struct("<8sIQ32s")  # magic, version, payload length, sha256


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read: missing, truncated, corrupt, or not a gradschool checkpoint."""


def save(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Write `state` (nested dicts/lists of arrays, numbers, strings, None) to `path` atomically."""
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    meta = _flatten(state, arrays)
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    payload = buffer.getvalue()
    header = _HEADER.pack(MAGIC, VERSION, len(payload), hashlib.sha256(payload).digest())

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(header)
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):  # left by a writer that was killed mid-write
        stale.unlink(missing_ok=True)


def load(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint written by `save`; raise CheckpointError saying why if it cannot be trusted."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint at {path}") from None
    except OSError as e:
        raise CheckpointError(f"cannot read checkpoint {path}: {e.strerror}") from None
    if len(data) < _HEADER.size or not data.startswith(MAGIC):
        raise CheckpointError(
            f"{path} is not a gradschool checkpoint (it does not start with the checkpoint header)"
        )
    _, version, length, digest = _HEADER.unpack_from(data)
    if version != VERSION:
        raise CheckpointError(
            f"{path} is a checkpoint of format version {version}; this gradschool reads version {VERSION}"
        )
    payload = data[_HEADER.size :]
    if len(payload) != length:
        raise CheckpointError(
            f"{path} is truncated or damaged: it holds {len(payload)} bytes of data, its header says {length}"
        )
    if hashlib.sha256(payload).digest() != digest:
        raise CheckpointError(f"{path} is corrupt: its checksum does not match its contents")
    with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(arrays.pop("__meta__").tobytes().decode("utf-8"))
    return _unflatten(meta, arrays)


def _flatten(obj: Any, arrays: dict[str, np.ndarray]) -> Any:
    """Turn `obj` into JSON, moving every array (and NumPy scalar) into `arrays` under a fresh key."""
    if isinstance(obj, np.ndarray | np.generic):
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(obj)
        return {"__array__": key, "scalar": isinstance(obj, np.generic)}
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            return {"__dict__": [[_flatten(k, arrays), _flatten(v, arrays)] for k, v in obj.items()]}
        return {k: _flatten(v, arrays) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return {"__tuple__": [_flatten(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return [_flatten(v, arrays) for v in obj]
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    raise TypeError(f"cannot store a {type(obj).__name__} in a checkpoint")


def _unflatten(obj: Any, arrays: dict[str, np.ndarray]) -> Any:
    """Invert `_flatten`."""
    if isinstance(obj, dict):
        if "__array__" in obj:
            array = arrays[obj["__array__"]]
            return array[()] if obj["scalar"] else array
        if "__tuple__" in obj:
            return tuple(_unflatten(v, arrays) for v in obj["__tuple__"])
        if "__dict__" in obj:
            return {_unflatten(k, arrays): _unflatten(v, arrays) for k, v in obj["__dict__"]}
        return {k: _unflatten(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_unflatten(v, arrays) for v in obj]
    return obj


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
