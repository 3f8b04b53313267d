"""The partition proxy forwards each link to its target, and a cut link drops, refuses or blackholes connections."""

from __future__ import annotations

import asyncio
import socket
import socketserver
import threading

import pytest

from civichain.chaos.proxy import ChaosError, Link, PartitionProxy, ProxyThread

LINK = Link("node0", "node1")


async def _echo_server() -> tuple[asyncio.Server, int]:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1024):
            writer.write(data)
            await writer.drain()
        writer.close()
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def _through(proxy: PartitionProxy) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = proxy.addresses()[LINK]
    return await asyncio.open_connection(host, port)


async def _closed(reader: asyncio.StreamReader) -> bool:
    """Return True when the proxy closed the connection (EOF or reset) within a second."""
    try:
        return await asyncio.wait_for(reader.read(1024), 1.0) == b""
    except ConnectionError:
        return True


async def test_a_link_forwards_both_ways_and_a_cut_drops_its_open_connections():
    server, port = await _echo_server()
    proxy = PartitionProxy({LINK: ("127.0.0.1", port)})
    await proxy.start()
    try:
        reader, writer = await _through(proxy)
        writer.write(b"precommit")
        assert await asyncio.wait_for(reader.readexactly(9), 2) == b"precommit"
        proxy.cut(LINK)
        assert await _closed(reader)
        stats = proxy.stats(LINK)
        assert stats.cut and stats.open == 0 and stats.connections == 1 and stats.forwarded_bytes == 18
        writer.close()
    finally:
        await proxy.close()
        server.close()


async def test_a_cut_link_refuses_new_connections_until_healed():
    server, port = await _echo_server()
    proxy = PartitionProxy({LINK: ("127.0.0.1", port)})
    await proxy.start()
    try:
        proxy.cut(LINK)
        reader, writer = await _through(proxy)
        assert await _closed(reader)
        writer.close()
        proxy.heal(LINK)
        reader, writer = await _through(proxy)
        writer.write(b"prevote")
        assert await asyncio.wait_for(reader.readexactly(7), 2) == b"prevote"
        writer.close()
    finally:
        await proxy.close()
        server.close()


async def test_a_blackholed_link_holds_connections_silent_and_closes_them_when_healed():
    server, port = await _echo_server()
    proxy = PartitionProxy({LINK: ("127.0.0.1", port)})
    await proxy.start()
    try:
        proxy.cut(LINK, blackhole=True)
        reader, writer = await _through(proxy)
        writer.write(b"proposal")
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(reader.read(1024), 0.3)   # accepted, but nothing comes back
        proxy.heal(LINK)
        assert await _closed(reader)
        writer.close()
    finally:
        await proxy.close()
        server.close()


async def test_a_link_to_a_stopped_node_closes_the_dialers_connection():
    server, port = await _echo_server()
    server.close()
    await server.wait_closed()
    proxy = PartitionProxy({LINK: ("127.0.0.1", port)})
    await proxy.start()
    try:
        reader, writer = await _through(proxy)
        assert await _closed(reader)
        writer.close()
    finally:
        await proxy.close()


def test_the_proxy_runs_in_a_background_thread_for_blocking_callers():
    class Echo(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            while data := self.request.recv(1024):
                self.request.sendall(data)

    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with ProxyThread(PartitionProxy({LINK: server.server_address})) as proxy:
                with socket.create_connection(proxy.proxy.addresses()[LINK], timeout=2) as conn:
                    conn.sendall(b"vote")
                    assert conn.recv(4) == b"vote"
                    proxy.cut(LINK)
                    assert conn.recv(4) == b""
                assert proxy.stats(LINK).cut
        finally:
            server.shutdown()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.7"])
def test_only_loopback_addresses_are_accepted(host):
    with pytest.raises(ChaosError) as raised:
        PartitionProxy({LINK: (host, 26656)})
    assert raised.value.code == "chaos.not_loopback"
    with pytest.raises(ChaosError):
        PartitionProxy({LINK: ("127.0.0.1", 26656)}, host=host)


def test_an_unknown_link_is_named_in_the_error():
    proxy = PartitionProxy({LINK: ("127.0.0.1", 26656)})
    with pytest.raises(ChaosError) as raised:
        proxy.cut(Link("node1", "node0"))
    assert raised.value.code == "chaos.unknown_link" and "node0->node1" in raised.value.expected
