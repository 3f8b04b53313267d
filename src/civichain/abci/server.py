"""An asyncio ABCI socket server for CometBFT v0.38/v0.39 (ABCI 2.0).

Framing: each message is a protobuf `Request`/`Response` prefixed by its length as an unsigned varint
(CometBFT's `protoio`, since v0.37). CometBFT opens four connections (query, snapshot, mempool, consensus)
and on each one expects the responses strictly in request order; it sends `Flush` after synchronous calls
and waits for `ResponseFlush`, so responses are written out at the latest when a Flush is answered.

An exception in the application is not a business error (those are `code != 0` in the response): the
server logs it and stops the process, because a node that stops is safer than one that guesses. CometBFT
then stops too ("connection terminated"), and both restart cleanly through the handshake.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Callable

import structlog

from civichain.abci.messages import abci

log = structlog.get_logger("civichain.abci")
NEW = abci.NEW   # CheckTx of a transaction the mempool has not seen (the other kind is RECHECK)

MAX_MESSAGE = 256 * 1024 * 1024   # far above any block we accept; a longer prefix is a broken peer
TURN = 64   # requests of one connection answered before the others get a turn


class FramingError(Exception):
    """The peer sent bytes that are not a length-prefixed ABCI message."""


def encode_uvarint(value: int) -> bytes:
    """Return `value` as an unsigned LEB128 varint."""
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_uvarint(buffer: bytes | bytearray, start: int) -> tuple[int, int] | None:
    """Return (value, end) of the varint at `start`, or None when the buffer ends inside it."""
    value, shift, i = 0, 0, start
    while i < len(buffer):
        byte = buffer[i]
        value |= (byte & 0x7F) << shift
        i += 1
        if byte < 0x80:
            return value, i
        shift += 7
        if shift > 63:
            raise FramingError("varint longer than 10 bytes")
    return None


def split_requests(buffer: bytes | bytearray) -> tuple[list[tuple[str, object]], int]:
    """Return the complete requests at the start of `buffer` as (kind, request), and the bytes they take."""
    requests = []
    position = 0
    while True:
        header = decode_uvarint(buffer, position)
        if header is None:
            break
        length, start = header
        if length > MAX_MESSAGE:
            raise FramingError(f"message of {length} bytes announced")
        end = start + length
        if end > len(buffer):
            break
        request = abci.Request.FromString(bytes(buffer[start:end]))
        requests.append((request.WhichOneof("value"), request))
        position = end
    return requests, position


def frame(response) -> bytes:
    """Return a response message with its length prefix."""
    body = response.SerializeToString()
    return encode_uvarint(len(body)) + body


class AbciServer:
    """Serve an application object over ABCI on `address` (`tcp://host:port` or `unix:///path`).

    The application has one method per request kind (`info`, `check_tx`, `finalize_block`, ...), each taking
    the protobuf request and returning the protobuf response of the same kind.
    """

    def __init__(self, app, address: str, on_fatal: Callable[[BaseException], None] | None = None) -> None:
        self.app, self.address = app, address
        self._on_fatal = on_fatal or _exit_process
        self._server: asyncio.AbstractServer | None = None
        self._handlers = self._bind_handlers()
        # Optional: `async before_check_txs(txs)`, awaited with the new transactions of each batch of requests
        # read from a connection before they are answered (the app may verify their signatures meanwhile).
        self._before_checks = getattr(app, "before_check_txs", None)

    async def start(self) -> None:
        """Start listening."""
        if self.address.startswith("unix://"):
            path = Path(self.address.removeprefix("unix://"))
            path.unlink(missing_ok=True)
            self._server = await asyncio.start_unix_server(self._serve, path=str(path))
        elif self.address.startswith("tcp://"):
            host, _, port = self.address.removeprefix("tcp://").rpartition(":")
            self._server = await asyncio.start_server(self._serve, host=host, port=int(port), reuse_address=True)
        else:
            raise ValueError(f"ABCI address {self.address!r}: expected tcp://host:port or unix:///path")
        log.info("abci.listening", address=self.address)

    async def close(self) -> None:
        """Stop listening and close the connections."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def _bind_handlers(self) -> dict[str, tuple[Callable, str]]:
        handlers = {}
        for field in abci.Request.DESCRIPTOR.oneofs_by_name["value"].fields:
            method = getattr(self.app, field.name, None)
            if method is not None:
                handlers[field.name] = (method, field.name)
        return handlers

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        buffer = bytearray()
        try:
            while True:
                chunk = await reader.read(1 << 20)
                if not chunk:
                    return
                buffer += chunk
                requests, consumed = split_requests(buffer)
                del buffer[:consumed]
                if self._before_checks is not None:
                    new = [r.check_tx.tx for kind, r in requests if kind == "check_tx" and r.check_tx.type == NEW]
                    if new:
                        # The app may verify their signatures elsewhere meanwhile; this connection waits (its
                        # answers go in order), the consensus connection does not.
                        await self._before_checks(new)
                for start in range(0, len(requests), TURN):
                    if start:
                        # A long batch (CheckTx that piled up while a block executed) answers TURN requests at
                        # a time, letting the other connections in between: a proposal to check or a block to
                        # execute does not wait behind hundreds of CheckTx.
                        await asyncio.sleep(0)
                    turn = requests[start:start + TURN]
                    writer.write(b"".join(frame(self._dispatch(kind, request)) for kind, request in turn))
                    flush = any(kind == "flush" for kind, _ in turn)
                    if flush or writer.transport.get_write_buffer_size() > (4 << 20):
                        await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:   # the server is shutting down
            raise
        except BaseException as exc:  # an application failure: stop, never guess
            log.exception("abci.fatal", error=str(exc))
            self._on_fatal(exc)
            raise
        finally:
            writer.close()

    def _answer(self, buffer: bytearray) -> tuple[bytes, int, bool]:
        """Answer every complete request in `buffer` at once, without `before_check_txs` (for `bench app`);
        return (responses, bytes consumed, saw a flush)."""
        requests, consumed = split_requests(buffer)
        out = b"".join(frame(self._dispatch(kind, request)) for kind, request in requests)
        return out, consumed, any(kind == "flush" for kind, _ in requests)

    def _dispatch(self, kind: str, request):
        if kind == "flush":
            return abci.Response(flush=abci.ResponseFlush())
        if kind == "echo":
            return abci.Response(echo=abci.ResponseEcho(message=request.echo.message))
        handler = self._handlers.get(kind)
        response = abci.Response()
        if handler is None:
            # A method we do not use (snapshots, vote extensions while disabled): the empty default answer.
            getattr(response, _response_field(kind)).SetInParent()
            return response
        method, _ = handler
        getattr(response, _response_field(kind)).CopyFrom(method(getattr(request, kind)))
        return response


def _response_field(kind: str) -> str:
    return kind


def _exit_process(exc: BaseException) -> None:
    os._exit(70)
