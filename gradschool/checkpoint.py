"""Checkpoint files: save and load a training run's state safely, without pickle.

A checkpoint is one file:

    magic (8 bytes) | version (uint32) | payload length (uint64) | SHA-256 of the payload (32 bytes) | payload

The payload is an `.npz` archive (NumPy's zip of arrays, read with `allow_pickle=False`) holding every array
of the state plus one entry, `__meta__`, with everything else as JSON. A file that does not start with the
magic, is shorter than its recorded length, or whose checksum does not match is refused, naming the file.
A file with a valid checksum is still checked before it is trusted (it may have been crafted): the arrays may
not claim more bytes than the file holds, and the JSON may not nest deeper than MAX_NESTING.

Files are written atomically: to a temporary file in the same folder, flushed and fsync'ed, then renamed over
the old one with `os.replace`. A crash (even kill -9) in the middle leaves the previous checkpoint untouched.
"""

import hashlib
import io
import json
import os
import struct
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = b"GSCHKPT\x00"
VERSION = 1
HEADER = struct.Struct("<8sIQ32s")  # magic, version, payload length, sha256
MAX_NESTING = 100  # levels of dicts and lists in __meta__; a training state needs about 10


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
    header = HEADER.pack(MAGIC, VERSION, len(payload), hashlib.sha256(payload).digest())

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
    if len(data) < HEADER.size or not data.startswith(MAGIC):
        raise CheckpointError(
            f"{path} is not a gradschool checkpoint (it does not start with the checkpoint header)"
        )
    _, version, length, digest = HEADER.unpack_from(data)
    if version != VERSION:
        raise CheckpointError(
            f"{path} is a checkpoint of format version {version}; this gradschool reads version {VERSION}"
        )
    payload = data[HEADER.size :]
    if len(payload) != length:
        raise CheckpointError(
            f"{path} is truncated or damaged: it holds {len(payload)} bytes of data, its header says {length}"
        )
    if hashlib.sha256(payload).digest() != digest:
        raise CheckpointError(f"{path} is corrupt: its checksum does not match its contents")
    arrays = _read_arrays(payload, path)
    meta = _read_meta(arrays.pop("__meta__", None), path)
    try:
        return _unflatten(meta, arrays)
    except _Malformed as e:
        raise CheckpointError(f"{path} is damaged or was not written by gradschool: {e}") from None


class _Malformed(Exception):
    """A part of a checkpoint's payload that `save` never writes."""


def _read_arrays(payload: bytes, path: Path) -> dict[str, np.ndarray]:
    """The arrays of the payload's .npz archive, each checked to hold no more bytes than the file has."""
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            members = archive.infolist()
            claimed = sum(member.file_size for member in members)
            if claimed > len(payload):  # save stores the arrays uncompressed: they fit in the payload
                raise CheckpointError(f"{path} is damaged or crafted: its arrays claim {claimed} bytes, more "
                                      f"than the {len(payload)} bytes of the file")
            arrays = {}
            for member in members:
                with archive.open(member) as f:
                    _check_array_size(f, member)
                with archive.open(member) as f:
                    arrays[member.filename.removesuffix(".npy")] = np.lib.format.read_array(f)
            return arrays
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, _Malformed) as e:
        raise CheckpointError(f"{path} is damaged: its arrays cannot be read ({e})") from None


def _check_array_size(f: Any, member: zipfile.ZipInfo) -> None:
    """Refuse an .npy entry whose header promises more data than the entry holds (before allocating it)."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise _Malformed(f"{member.filename} is an .npy of format {version}, which save never writes")
    if dtype.hasobject:
        raise _Malformed(f"{member.filename} holds Python objects")
    size = dtype.itemsize
    for n in shape:
        size *= n
    if size > member.file_size:
        raise _Malformed(f"{member.filename} claims {size} bytes of data in an entry of {member.file_size}")


def _read_meta(raw: np.ndarray | None, path: Path) -> dict[str, Any]:
    """The JSON of the __meta__ entry: a dict nested at most MAX_NESTING deep."""
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1:
        raise CheckpointError(f"{path} is damaged or was not written by gradschool: it has no __meta__ entry")
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except ValueError as e:  # not UTF-8, not JSON, or a number of more digits than Python reads
        raise CheckpointError(f"{path} is damaged: its __meta__ entry is not JSON ({e})") from None
    except RecursionError:
        meta = None  # nested beyond Python's own limit
    if meta is None or _depth(meta) > MAX_NESTING:
        raise CheckpointError(f"{path} is damaged or crafted: its __meta__ JSON nests more than "
                              f"{MAX_NESTING} levels deep")
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path} is damaged or was not written by gradschool: its state is a "
                              f"{type(meta).__name__}, not a dict")
    return meta


def _depth(obj: Any) -> int:
    """How deep dicts and lists nest in obj (counted without recursion, so any depth is safe)."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if deepest > MAX_NESTING:
                break
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


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
    """Invert `_flatten`; raise _Malformed for anything it never writes."""
    if isinstance(obj, dict):
        if "__array__" in obj:
            key, scalar = obj["__array__"], obj.get("scalar")
            if not isinstance(key, str) or key not in arrays or not isinstance(scalar, bool):
                raise _Malformed(f"an array reference {str(obj)[:80]} names no array of the file")
            array = arrays[key]
            if scalar and array.ndim != 0:
                raise _Malformed(f"the scalar {key} is an array of shape {array.shape}")
            return array[()] if scalar else array
        if "__tuple__" in obj:
            if not isinstance(obj["__tuple__"], list):
                raise _Malformed("a tuple that is not stored as a list")
            return tuple(_unflatten(v, arrays) for v in obj["__tuple__"])
        if "__dict__" in obj:
            pairs = obj["__dict__"]
            if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
                raise _Malformed("a dict with non-string keys that is not stored as [key, value] pairs")
            out = {}
            for k, v in pairs:
                key, value = _unflatten(k, arrays), _unflatten(v, arrays)
                try:
                    out[key] = value
                except TypeError:  # a list, dict or array as a key
                    raise _Malformed(f"a dict key of type {type(key).__name__}") from None
            return out
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
