"""Four departments on four hosts: here, four loopback addresses (127.0.0.2 to 127.0.0.5), one per node.

Each node's CometBFT listens for peers on its own address only and dials the others on theirs, as four
machines would; the network commits and every node agrees.
"""

from __future__ import annotations

import hashlib
import time

import httpx
import pytest

from civichain.client.sample import load_signer
from civichain.client.tx import build_body, sign
from civichain.engine import find_cometbft
from civichain.modules.notary import Anchor
from civichain.node.network import free_base_port, init_network
from civichain.node.supervisor import NodeProcesses
from tests.network.netutil import app_hash_at, wait_for_height

pytestmark = pytest.mark.network

HOSTS = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]


def test_four_nodes_on_four_addresses_connect_commit_and_agree(tmp_path):
    network = init_network(tmp_path / "net", validators=4, binary=find_cometbft(), hosts=HOSTS,
                           base_port=free_base_port(4), timeout_commit="200ms", chain_id="multi-host")
    nodes = [NodeProcesses.of(n.home) for n in network.nodes]
    try:
        for node in nodes:
            node.start(("app",))
        for node in nodes:
            node.start(("cometbft", "api"))
        wait_for_height(network, 2, timeout=60)
        for i, node in enumerate(network.nodes):
            # Three of four validators commit without the fourth: wait for every peer to be connected.
            peers = _peers_once_connected(node.rpc_url, len(HOSTS) - 1)
            # Each peer is known by the address it listens on (on one machine, every connection's source
            # address is 127.0.0.1 whatever address it dialled, so remote_ip cannot tell them apart).
            heard = sorted(p["node_info"]["listen_addr"].removeprefix("tcp://").split(":")[0] for p in peers)
            assert heard == [h for j, h in enumerate(HOSTS) if j != i], f"{node.name} peers: {heard}"
            dialled = [p["remote_ip"] for p in peers if p["is_outbound"]]
            assert all(ip in HOSTS for ip in dialled), f"{node.name} dialled {dialled}"
            listen = httpx.get(f"{node.rpc_url}/status", timeout=10).json()["result"]["node_info"]["listen_addr"]
            assert HOSTS[i] in listen, f"{node.name} listens on {listen}"
        signer = load_signer(network.root, "land-bureau/admin")
        body = build_body(network.chain_id, signer.account, 0, 10_000, "notary", "anchor",
                          Anchor(digest=hashlib.sha256(b"multi-host deed").digest(), title="跨机器 / across hosts"))
        reply = httpx.post(f"{network.nodes[2].api_url}/v1/txs", params={"wait": "true"},
                           json={"tx": sign(body, signer).hex()}, timeout=30)
        assert reply.status_code == 200, reply.text
        height = reply.json()["height"]
        wait_for_height(network, height + 1)
        assert len({app_hash_at(n.rpc_url, height + 1) for n in network.nodes}) == 1
    finally:
        for node in nodes:
            node.stop()


def _peers_once_connected(rpc_url: str, count: int, timeout: float = 30) -> list[dict]:
    """Return a node's peers (CometBFT /net_info) once it has `count` of them, or what it has after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        peers = httpx.get(f"{rpc_url}/net_info", timeout=10).json()["result"]["peers"]
        if len(peers) >= count or time.monotonic() >= deadline:
            return peers
        time.sleep(0.2)
