"""A TCP proxy between the nodes' p2p ports that cuts and heals links on demand: network partitions on one machine.

One listener per directed link (node A dials node B), forwarding to B's real p2p port. While a link is cut, its
open connections are dropped and new ones are either refused (closed at once, as by a firewall's reject) or
blackholed (accepted, then left silent until the link heals, as across a dead route: the dialer waits for its
handshake timeout). Healing closes the blackholed connections, so the dialers try again.

CometBFT keeps one connection per pair of nodes, dialled by either side, so a partition between two nodes cuts
both directed links. Loopback only: this is a tool for tests and drills, not a network component.
"""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from dataclasses import dataclass, field
from typing import Any, Coroutine, Mapping

from civichain.errors import CivicError

Address = tuple[str, int]
CHUNK = 65_536


class ChaosError(CivicError):
    """A proxy or topology request that cannot be carried out."""


@dataclass(frozen=True, slots=True, order=True)
class Link:
    """One direction between two nodes: `source` dials `target` through the proxy."""

    source: str
    target: str

    def __str__(self) -> str:
        return f"{self.source}->{self.target}"


@dataclass(frozen=True, slots=True)
class LinkStats:
    """What went through a link: connections accepted, bytes forwarded, connections open now, and whether cut."""

    connections: int
    forwarded_bytes: int
    open: int
    cut: bool


@dataclass(eq=False)
class _LinkState:
    target: Address
    port: int = 0
    cut: bool = False
    blackhole: bool = False
    server: asyncio.Server | None = None
    pipes: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = field(default_factory=set)
    held: set[asyncio.StreamWriter] = field(default_factory=set)
    connections: int = 0
    forwarded_bytes: int = 0


class PartitionProxy:
    """Listeners for directed links, each forwarding to its target; `cut` and `heal` act on one link.

    Runs on an asyncio event loop: `start` and `close` are coroutines, `cut` and `heal` must be called on the
    loop's thread (use `ProxyThread` from other threads). Raises `chaos.not_loopback` for any address off the
    loopback interface.
    """

    def __init__(self, targets: Mapping[Link, Address], *, host: str = "127.0.0.1",
                 ports: Mapping[Link, int] | None = None, connect_timeout: float = 3.0) -> None:
        _require_loopback(host, "proxy listen host")
        for link, (target_host, _) in targets.items():
            _require_loopback(target_host, f"target of link {link}")
        self.host, self.connect_timeout = host, connect_timeout
        self._links = {link: _LinkState(target, port=(ports or {}).get(link, 0))
                       for link, target in sorted(targets.items())}

    async def start(self) -> dict[Link, int]:
        """Open one listener per link (port 0: the system chooses); return each link's port."""
        for link, state in self._links.items():
            state.server = await asyncio.start_server(lambda reader, writer, s=state: self._accept(s, reader, writer),
                                                      self.host, state.port)
            state.port = state.server.sockets[0].getsockname()[1]
        return {link: state.port for link, state in self._links.items()}

    def addresses(self) -> dict[Link, Address]:
        """Return the address each link listens on (after `start`)."""
        return {link: (self.host, state.port) for link, state in self._links.items()}

    def links(self) -> list[Link]:
        """Return the links, sorted."""
        return list(self._links)

    def cut(self, link: Link, *, blackhole: bool = False) -> None:
        """Drop the link's connections; until `heal`, refuse new ones (or, with `blackhole`, hold them silent)."""
        state = self._state(link)
        state.cut, state.blackhole = True, blackhole
        _drop_pipes(state)

    def heal(self, link: Link) -> None:
        """Let the link carry connections again; close the ones held while it was blackholed."""
        state = self._state(link)
        state.cut = state.blackhole = False
        _drop_held(state)

    def stats(self, link: Link) -> LinkStats:
        """Return what went through the link so far."""
        state = self._state(link)
        return LinkStats(state.connections, state.forwarded_bytes, len(state.pipes), state.cut)

    async def close(self) -> None:
        """Stop listening and drop every connection."""
        for state in self._links.values():
            if state.server is not None:
                state.server.close()
            _drop_pipes(state)
            _drop_held(state)
        for state in self._links.values():
            if state.server is not None:
                await state.server.wait_closed()

    def _state(self, link: Link) -> _LinkState:
        try:
            return self._links[link]
        except KeyError:
            raise ChaosError("chaos.unknown_link", where="link", got=str(link),
                             expected=f"one of {', '.join(map(str, self._links))}") from None

    async def _accept(self, state: _LinkState, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        if state.cut:
            await self._refuse(state, reader, writer)
            return
        try:
            upstream_reader, upstream = await asyncio.wait_for(asyncio.open_connection(*state.target),
                                                               self.connect_timeout)
        except (OSError, asyncio.TimeoutError):
            writer.transport.abort()      # the target is down: the dialer sees a closed connection, as it would
            return
        if state.cut:                     # cut while we were connecting
            upstream.transport.abort()
            writer.transport.abort()
            return
        pipe = (writer, upstream)
        state.pipes.add(pipe)
        try:
            await asyncio.gather(_pump(reader, upstream, state), _pump(upstream_reader, writer, state))
        finally:
            state.pipes.discard(pipe)
            writer.transport.abort()
            upstream.transport.abort()

    async def _refuse(self, state: _LinkState, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not state.blackhole:
            writer.transport.abort()
            return
        state.held.add(writer)
        try:
            while await reader.read(CHUNK):   # swallow whatever the dialer sends until heal() or it gives up
                pass
        except OSError:
            pass
        finally:
            state.held.discard(writer)
            writer.transport.abort()


def _drop_pipes(state: _LinkState) -> None:
    for client, upstream in list(state.pipes):
        client.transport.abort()
        upstream.transport.abort()
    state.pipes.clear()


def _drop_held(state: _LinkState) -> None:
    for held in list(state.held):
        held.transport.abort()
    state.held.clear()


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter, state: _LinkState) -> None:
    """Copy one direction until either side closes; then close the other side too (p2p has no half-close)."""
    try:
        while data := await source.read(CHUNK):
            sink.write(data)
            state.forwarded_bytes += len(data)
            await sink.drain()
    except OSError:
        pass
    finally:
        sink.transport.abort()


class ProxyThread:
    """A `PartitionProxy` on its own event loop in a background thread, driven from ordinary (blocking) code.

    Use it as a context manager, or call `start` and, always, `close`.
    """

    def __init__(self, proxy: PartitionProxy, timeout: float = 10.0) -> None:
        self.proxy, self.timeout = proxy, timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "ProxyThread":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> dict[Link, int]:
        """Start the loop thread and the listeners; return each link's port."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="chaos-proxy", daemon=True)
        self._thread.start()
        return self._run(self.proxy.start())

    def cut(self, link: Link, *, blackhole: bool = False) -> None:
        """Cut one link (see `PartitionProxy.cut`)."""
        self._call(self.proxy.cut, link, blackhole=blackhole)

    def heal(self, link: Link) -> None:
        """Heal one link (see `PartitionProxy.heal`)."""
        self._call(self.proxy.heal, link)

    def stats(self, link: Link) -> LinkStats:
        """Return what went through one link."""
        return self._call(self.proxy.stats, link)

    def close(self) -> None:
        """Stop the proxy and its thread."""
        if self._loop is None or self._thread is None:
            return
        try:
            self._run(self.proxy.close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(self.timeout)
            self._loop.close()
            self._loop = self._thread = None

    def _call(self, function, *args: Any, **kwargs: Any) -> Any:
        async def on_loop() -> Any:
            return function(*args, **kwargs)
        return self._run(on_loop())

    def _run(self, coroutine: Coroutine) -> Any:
        if self._loop is None:
            coroutine.close()
            raise ChaosError("chaos.not_started", where="proxy", got="not running", expected="start() first")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(self.timeout)


def _require_loopback(host: str, where: str) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise ChaosError("chaos.not_loopback", where=where, got=host,
                         expected="a loopback address such as 127.0.0.1")
