"""Real networks for tests: CometBFT and app processes on loopback, always stopped afterwards."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import httpx

from civichain.chaos import checks
from civichain.engine import find_cometbft
from civichain.node.network import Network, free_base_port, init_network
from civichain.node.supervisor import NodeProcesses


@contextmanager
def running_network(root: Path, validators: int = 4, timeout_commit: str = "200ms",
                    prepare: Callable[[Network], None] | None = None, organisations: int | None = None):
    """Init and start a network in `root`; yield (network, node processes); stop everything.

    `prepare`, when given, is called with the network folder after it is written and before any node starts.
    """
    base = free_base_port(validators)
    network = init_network(root, validators=validators, binary=find_cometbft(), base_port=base, organisations=organisations,
                           timeout_commit=timeout_commit, chain_id="test-net")
    if prepare is not None:
        prepare(network)
    nodes = [NodeProcesses.of(n.home) for n in network.nodes]
    try:
        for node in nodes:
            node.start(("app",))
        for node in nodes:
            node.start(("cometbft", "api"))
        wait_for_height(network, 2, timeout=60)
        yield network, nodes
    finally:
        for node in nodes:
            node.stop()


_http = httpx.Client(timeout=5)   # one client: a new one per call costs a TLS context each time


def node_heights(network: Network) -> list[int | None]:
    heights = []
    for node in network.nodes:
        try:
            heights.append(int(_http.get(f"{node.rpc_url}/status", timeout=2).json()["result"]["sync_info"]["latest_block_height"]))
        except (httpx.HTTPError, KeyError, ValueError):
            heights.append(None)
    return heights


def wait_for_height(network: Network, height: int, timeout: float = 60, nodes: list[int] | None = None) -> None:
    deadline = time.monotonic() + timeout
    wanted = nodes if nodes is not None else list(range(len(network.nodes)))
    while time.monotonic() < deadline:
        heights = node_heights(network)
        if all(heights[i] is not None and heights[i] >= height for i in wanted):
            return
        time.sleep(0.2)
    raise TimeoutError(f"nodes {wanted} did not reach height {height}: {node_heights(network)}")


def app_hash_at(node_rpc: str, height: int) -> str:
    """The app hash each node's header at `height` carries (that of block height-1)."""
    return checks.app_hash_at(_http, node_rpc, height)


def block_hash_at(node_rpc: str, height: int) -> str:
    return checks.block_hash_at(_http, node_rpc, height)
