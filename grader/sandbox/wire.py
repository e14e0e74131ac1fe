"""The data-only codec between the trusted process and a worker.

Only plain data crosses: JSON values, bytes, tuples and numeric numpy arrays.
Decoding builds fresh built-in objects, so nothing a learner made (a class
with an always-true ``__eq__``, a pickle) can reach the trusted side.
"""
from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable

MAX_HEADER = 8 * 1024 * 1024
MAX_NODES = 1_000_000  # decoding cost is bounded too: a learner picks the shape of what comes back
MAX_BLOBS_TOTAL = 512 * 1024 * 1024
_ALLOWED_DTYPE_KINDS = set("biufc")  # bool, int, uint, float, complex: no objects, no strings


class WireError(Exception):
    """A value could not be encoded, or a frame could not be decoded."""


@dataclass
class Build:
    """An argument the worker builds itself, by calling the named recipe."""

    recipe: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


def encode(value: Any) -> tuple[Any, list[bytes]]:
    """Split ``value`` into a JSON-able tree and a list of binary blobs."""
    blobs: list[bytes] = []
    return _encode(value, blobs, depth=0), blobs


def _encode(value: Any, blobs: list[bytes], depth: int) -> Any:
    if depth > 200:
        raise WireError("value is nested too deeply to send")
    if value is None or type(value) is bool or type(value) is str:
        return value
    if type(value) is int:
        return value
    if type(value) is float:
        if math.isfinite(value):
            return value
        return {"__float__": repr(value)}
    if isinstance(value, (bytes, bytearray, memoryview)):
        blobs.append(bytes(value))
        return {"__bytes__": len(blobs) - 1}
    if type(value) is list:
        return [_encode(v, blobs, depth + 1) for v in value]
    if type(value) is Build:
        return {"__build__": value.recipe, "args": _encode(list(value.args), blobs, depth + 1),
                "kwargs": _encode(dict(value.kwargs), blobs, depth + 1)}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, blobs, depth + 1) for v in value]}
    if type(value) is dict:
        if not all(type(k) is str for k in value):
            raise WireError("dictionaries must have string keys to be sent")
        if any(k.startswith("__") and k.endswith("__") for k in value):
            return {"__dict__": [[k, _encode(v, blobs, depth + 1)] for k, v in value.items()]}
        return {k: _encode(v, blobs, depth + 1) for k, v in value.items()}
    numpy_value = _encode_numpy(value, blobs)
    if numpy_value is not None:
        return numpy_value
    # Subclasses of the plain types are sent as their plain value: their
    # overridden methods stay behind.
    for plain in (bool, int, float, str):
        if isinstance(value, plain):
            return _encode(plain(value) if plain is not str else str.__str__(value), blobs, depth + 1)
    if isinstance(value, list):
        return [_encode(v, blobs, depth + 1) for v in list.__iter__(value)]
    if isinstance(value, dict):
        return _encode(dict(dict.items(value)), blobs, depth + 1)
    raise WireError(f"a value of type {type(value).__name__} cannot be sent back; return plain data "
                    "(numbers, strings, lists, dicts, bytes or numpy arrays)")


def _encode_numpy(value: Any, blobs: list[bytes]) -> Any:
    module = type(value).__module__ or ""
    if not module.startswith("numpy"):
        return None
    import numpy as np

    if isinstance(value, np.generic):
        return _encode(value.item(), blobs, 0)
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _ALLOWED_DTYPE_KINDS:
            raise WireError(f"numpy arrays of dtype {value.dtype} cannot be sent back")
        array = np.ascontiguousarray(value)
        blobs.append(array.tobytes())
        return {"__ndarray__": len(blobs) - 1, "dtype": array.dtype.str, "shape": list(array.shape)}
    return None


def decode(tree: Any, blobs: list[bytes], build: Callable[[str, list, dict], Any] | None = None,
           _budget: list[int] | None = None) -> Any:
    """Rebuild a value from ``encode``'s output, trusting nothing in it.

    ``build`` is given only inside a worker, where ``Build`` arguments become objects.
    """
    if _budget is None:
        _budget = [MAX_NODES]
    _budget[0] -= 1
    if _budget[0] < 0:
        raise WireError(f"value has more than {MAX_NODES} parts")
    if isinstance(tree, list):
        return [decode(v, blobs, build, _budget) for v in tree]
    if not isinstance(tree, dict):
        return tree
    if "__bytes__" in tree:
        return _blob(blobs, tree["__bytes__"])
    if "__float__" in tree:
        text = tree["__float__"]
        if text not in ("nan", "inf", "-inf"):
            raise WireError("malformed float")
        return float(text)
    if "__tuple__" in tree:
        return tuple(decode(v, blobs, build, _budget) for v in tree["__tuple__"])
    if "__dict__" in tree:
        return {str(k): decode(v, blobs, build, _budget) for k, v in tree["__dict__"]}
    if "__ndarray__" in tree:
        return _decode_array(tree, blobs)
    if "__build__" in tree:
        if build is None:
            raise WireError("objects are built only inside a worker")
        return build(str(tree["__build__"]), decode(tree["args"], blobs, build, _budget),
                     decode(tree["kwargs"], blobs, build, _budget))
    return {k: decode(v, blobs, build, _budget) for k, v in tree.items()}


def _blob(blobs: list[bytes], index: Any) -> bytes:
    if type(index) is not int or not 0 <= index < len(blobs):
        raise WireError("malformed blob reference")
    return blobs[index]


def _decode_array(tree: dict, blobs: list[bytes]) -> Any:
    import numpy as np

    dtype = np.dtype(str(tree["dtype"]))
    if dtype.kind not in _ALLOWED_DTYPE_KINDS:
        raise WireError(f"refused numpy dtype {dtype}")
    shape = tuple(int(n) for n in tree["shape"])
    data = _blob(blobs, tree["__ndarray__"])
    count = math.prod(shape)
    if count * dtype.itemsize != len(data):
        raise WireError("numpy array data does not match its shape")
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


def write_message(stream: BinaryIO, message: dict, blobs: list[bytes] = ()) -> None:
    """Write one frame: header length, JSON header, then the blobs it lists."""
    header = dict(message, blobs=[len(b) for b in blobs])
    raw = json.dumps(header, allow_nan=False).encode()
    stream.write(struct.pack(">I", len(raw)))
    stream.write(raw)
    for blob in blobs:
        stream.write(blob)
    stream.flush()


def read_message(stream: BinaryIO) -> tuple[dict, list[bytes]]:
    """Read one frame; raise ``EOFError`` when the other side is gone."""
    size = struct.unpack(">I", _read_exactly(stream, 4))[0]
    if size > MAX_HEADER:
        raise WireError("message header too large")
    try:
        header = json.loads(_read_exactly(stream, size))
    except ValueError as exc:
        raise WireError(f"malformed message: {exc}") from None
    if not isinstance(header, dict):
        raise WireError("malformed message")
    lengths = header.pop("blobs", [])
    if not isinstance(lengths, list) or not all(type(n) is int and n >= 0 for n in lengths):
        raise WireError("malformed blob list")
    if sum(lengths) > MAX_BLOBS_TOTAL:
        raise WireError("message too large")
    return header, [_read_exactly(stream, n) for n in lengths]


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    chunks = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
