"""Canonical encoding: every hashed or signed value has exactly one byte form.

The form is MessagePack as msgspec writes it for our frozen `msgspec.Struct` types (structs as arrays in
field order, maps with sorted keys, integers in their shortest form). Decoding is strict (no type coercion,
no unknown or missing fields, no trailing bytes, field limits from the types' `Meta`), and then the value is
encoded again and compared with the input: any other byte form of the same value (an unsorted map, a
long-form integer, ...) is refused. So `encode(decode(b)) == b` for every `b` that decodes.
"""

from __future__ import annotations

import threading
from typing import Any, TypeVar

import msgspec

from civichain.errors import CivicError

T = TypeVar("T")

_encoder = msgspec.msgpack.Encoder(order="deterministic")


class CodecError(CivicError):
    """Bytes that are not the one canonical form of a value of the expected type."""


def encode(value: Any) -> bytes:
    """Return the canonical bytes of `value` (a Struct of ours, or plain ints, strings, bytes, lists, maps)."""
    return _encoder.encode(value)


def decode(data: bytes, kind: type[T], *, where: str = "input") -> T:
    """Decode the canonical bytes of a `kind`. Raises `codec.malformed` or `codec.not_canonical`."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CodecError("codec.malformed", where=where, got=type(data).__name__, expected="bytes")
    try:
        value = msgpack_decoder(kind).decode(data)
    except (msgspec.MsgspecError, RecursionError, ValueError, TypeError, OverflowError) as exc:
        raise CodecError("codec.malformed", where=where, got=str(exc)[:160],
                         expected=f"the canonical encoding of {getattr(kind, '__name__', kind)}") from None
    if _encoder.encode(value) != data:
        raise CodecError("codec.not_canonical", where=where, got="a non-canonical byte form",
                         expected="sorted maps, shortest integers and no redundant bytes")
    return value


def to_plain(value: Any) -> Any:
    """Return `value` as JSON-ready builtins (structs as maps with field names, bytes as hex)."""
    if isinstance(value, msgspec.Struct):
        return {f: to_plain(getattr(value, f)) for f in value.__struct_fields__}
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, msgspec.Raw):
        return to_plain(msgspec.msgpack.decode(value))
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return value


# msgspec (0.22.0) builds a Struct type's decoding information the first time a decoder of it is made, and
# two threads doing that at once for the same type can crash the process (SIGSEGV in
# json_decode_struct_map_inner: the API, whose request threads each open a reader, died of it in the fault
# drills). So every decoder of a typed value is made here, one at a time, and kept.
_decoders: dict[tuple[str, type, bool], Any] = {}
_decoders_lock = threading.Lock()


def msgpack_decoder(kind: type, *, strict: bool = True) -> msgspec.msgpack.Decoder:
    """Return the (shared, thread-safe) MessagePack decoder of `kind`."""
    return _shared_decoder("msgpack", kind, strict)


def json_decoder(kind: type, *, strict: bool = True) -> msgspec.json.Decoder:
    """Return the (shared, thread-safe) JSON decoder of `kind`."""
    return _shared_decoder("json", kind, strict)


def _shared_decoder(form: str, kind: type, strict: bool):
    key = (form, kind, strict)
    found = _decoders.get(key)
    if found is None:
        with _decoders_lock:
            found = _decoders.get(key)
            if found is None:
                make = msgspec.msgpack.Decoder if form == "msgpack" else msgspec.json.Decoder
                found = _decoders[key] = make(kind, strict=strict)
    return found
