"""What a fault drill checks at its end, and the heights it watches on the way.

A running network is a `Cluster`: its folder, its node processes, one HTTP client for CometBFT's RPC. The end
checks are the properties every drill must leave behind, whatever it did to the nodes:
- every node holds the same block hash and app hash at a common height, and its app's whole history matches
  the signed headers (`assert_every_node_agrees`);
- every transaction a node's API acknowledged as committed is committed, at the same height, on every node
  (`assert_acknowledged_everywhere`);
- no app stopped on an internal error and no CometBFT failed but for a killed app (`assert_no_consensus_failure`);
- every process a drill left running is still running (`assert_all_running`), its log's tail shown when not;
- no process of the network outlived it (`assert_nothing_left_running`).
Each raises `CheckFailed` with a `chaos.*` code naming what differed.
"""

from __future__ import annotations

import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import httpx
import psutil

from civichain.chaos.proxy import ChaosError
from civichain.node.network import Network
from civichain.node.supervisor import NodeProcesses
from civichain.store import Store, StoreError

# What CometBFT's errors say when the app process it talks to was killed in the middle of a call.
APP_CONNECTION_LOST = ("read message: EOF", "connection reset by peer", "broken pipe")


class CheckFailed(ChaosError):
    """A property a fault drill must leave behind does not hold."""


@dataclass
class Cluster:
    """A running network as a drill drives it: its folder, its processes, one HTTP client for heights.

    One shared client, because a client per request (as `httpx.get` makes) costs about 40 ms of CPU for its
    TLS context, which a two-core machine running twelve node processes feels while it polls.
    """

    network: Network
    nodes: list[NodeProcesses]
    http: httpx.Client

    def heights(self) -> list[int | None]:
        """Return each node's CometBFT height (its block store's), None for a node that does not answer."""
        return [rpc_height(self.http, entry.rpc_url) for entry in self.network.nodes]

    def top(self, without: int | None = None) -> int:
        """Return the highest height of the nodes answering, leaving out node `without`.

        Raises ValueError when none of them answers.
        """
        return max(h for i, h in enumerate(self.heights()) if i != without and h is not None)

    def wait_for_height(self, height: int, nodes: list[int] | None = None, timeout: float = 60) -> None:
        """Wait until the given nodes (all by default) have `height`. Raises TimeoutError."""
        wanted = nodes if nodes is not None else list(range(len(self.nodes)))

        def reached() -> bool:
            heights = self.heights()
            return all(heights[i] is not None and heights[i] >= height for i in wanted)

        if not wait_until(reached, timeout, interval=0.2):
            raise TimeoutError(f"nodes {wanted} did not reach height {height} in {timeout:.0f} s: {self.heights()}")


# --- heights -----------------------------------------------------------------------------------------------------

def rpc_height(http: httpx.Client, rpc_url: str) -> int | None:
    """Return a node's CometBFT height from its /status; None when it does not answer."""
    try:
        return int(http.get(f"{rpc_url}/status").json()["result"]["sync_info"]["latest_block_height"])
    except (httpx.HTTPError, KeyError, ValueError):
        return None


def stored_height(node: NodeProcesses) -> int | None:
    """Return the last height the node's app committed to its SQLite file (read-only; safe while it runs)."""
    try:
        store = Store(node.config.resolve(node.home, node.config.storage.path), readonly=True)
    except StoreError:   # not there yet, or unreadable for a moment: no reading this time
        return None
    try:
        last = store.last_block()
    except sqlite3.Error:
        return None
    finally:
        store.close()
    return None if last is None else last.height


def block_hash_at(http: httpx.Client, rpc_url: str, height: int) -> str:
    """Return the hash (upper-case hex) of the block at `height` in a node's block store."""
    return http.get(f"{rpc_url}/block", params={"height": str(height)}).json()["result"]["block_id"]["hash"]


def app_hash_at(http: httpx.Client, rpc_url: str, height: int) -> str:
    """Return the app hash a node's header at `height` carries: the one computed for block `height - 1`."""
    reply = http.get(f"{rpc_url}/block", params={"height": str(height)}).json()
    return reply["result"]["block"]["header"]["app_hash"]


def settle(cluster: Cluster, timeout: float = 60) -> int:
    """Wait until every node has the block after the highest one any node had; return that highest height.

    Then every node holds that height and the next header, which carries its app hash. Raises TimeoutError.
    """
    top = cluster.top()
    cluster.wait_for_height(top + 1, timeout=timeout)
    return top


def wait_caught_up(cluster: Cluster, index: int, timeout: float = 90) -> None:
    """Wait until node `index` has the height the others had when this was called. Raises TimeoutError."""
    cluster.wait_for_height(cluster.top(without=index), nodes=[index], timeout=timeout)


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll `condition` until it holds; return whether it did within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


# --- agreement ---------------------------------------------------------------------------------------------------

def assert_every_node_agrees(cluster: Cluster, height: int) -> None:
    """Check one block hash and one app hash at `height`, and each app's whole history against the headers.

    Raises `chaos.block_hashes_differ`, `chaos.app_hashes_differ`, `chaos.heights_missing`,
    `chaos.stored_block_hash` or `chaos.stored_app_hash`.
    """
    entries = cluster.network.nodes
    block_hashes = {block_hash_at(cluster.http, n.rpc_url, height) for n in entries}
    app_hashes = {app_hash_at(cluster.http, n.rpc_url, height + 1) for n in entries}
    if len(block_hashes) != 1:
        raise CheckFailed("chaos.block_hashes_differ", where=f"height {height}", got=sorted(block_hashes),
                          expected="one block hash on every node")
    if len(app_hashes) != 1:
        raise CheckFailed("chaos.app_hashes_differ", where=f"block {height}", got=sorted(app_hashes),
                          expected="one app hash on every node")
    headers = signed_headers(cluster.http, entries[0].rpc_url, height + 1)
    for entry, node in zip(entries, cluster.nodes):
        _check_stored_history(entry.name, node, headers, height)


def _check_stored_history(name: str, node: NodeProcesses, headers: dict[int, tuple[str, str]], height: int) -> None:
    """Check a node's SQLite history up to `height`: every height there, each block and app hash the headers'."""
    store = Store(node.config.resolve(node.home, node.config.storage.path), readonly=True)
    try:
        stored = [b for b in store.blocks() if b.height <= height]
    finally:
        store.close()
    heights = [b.height for b in stored]
    if heights != list(range(1, height + 1)):
        raise CheckFailed("chaos.heights_missing", where=f"{name} database",
                          got=f"{len(heights)} blocks, last {heights[-1] if heights else None}",
                          expected=f"every height from 1 to {height}")
    for block in stored:
        block_hash, _ = headers[block.height]
        _, next_app_hash = headers[block.height + 1]
        if block.block_hash.hex().upper() != block_hash:
            raise CheckFailed("chaos.stored_block_hash", where=f"{name} database, height {block.height}",
                              got=block.block_hash.hex().upper(), expected=f"{block_hash} (the signed header's)")
        if block.app_hash.hex().upper() != next_app_hash:
            raise CheckFailed("chaos.stored_app_hash", where=f"{name} database, block {block.height}",
                              got=block.app_hash.hex().upper(),
                              expected=f"{next_app_hash} (in the header of {block.height + 1})")


def signed_headers(http: httpx.Client, rpc_url: str, up_to: int) -> dict[int, tuple[str, str]]:
    """Return height -> (block hash, app hash in the header) for heights 1 to `up_to`, from /blockchain.

    Raises `chaos.headers_missing` when the node does not serve them all.
    """
    headers: dict[int, tuple[str, str]] = {}
    for low in range(1, up_to + 1, 20):
        high = min(low + 19, up_to)
        result = http.get(f"{rpc_url}/blockchain", params={"minHeight": str(low), "maxHeight": str(high)}).json()
        for meta in result["result"]["block_metas"]:
            headers[int(meta["header"]["height"])] = (meta["block_id"]["hash"], meta["header"]["app_hash"])
    if sorted(headers) != list(range(1, up_to + 1)):
        raise CheckFailed("chaos.headers_missing", where=f"{rpc_url}/blockchain", got=f"{len(headers)} headers",
                          expected=f"the headers of heights 1 to {up_to}")
    return headers


# --- nothing acknowledged lost -----------------------------------------------------------------------------------

def assert_acknowledged_everywhere(cluster: Cluster, acknowledged: dict[str, int]) -> None:
    """Check that every acknowledged transaction is committed, at the same height, on every node's API.

    `acknowledged` maps tx id (hex) to the height an API gave. Every process must be running first (an API
    that died is named with its exit code and log, `chaos.process_died`, rather than as unreachable).
    Raises `chaos.acknowledged_lost`.
    """
    assert_all_running(cluster.nodes)
    network = cluster.network
    with ThreadPoolExecutor(max_workers=len(network.nodes)) as pool:
        found = pool.map(lambda entry: missing_on(entry.api_url, acknowledged), network.nodes)
        problems = [problem for node_problems in found for problem in node_problems]
    if problems:
        raise CheckFailed("chaos.acknowledged_lost", where=f"{len(problems)} acknowledged transactions",
                          got=problems[:5], expected="every acknowledged transaction committed, at its height, "
                          "on every node")


def missing_on(api_url: str, acknowledged: dict[str, int], patience: float = 10.0) -> list[str]:
    """Return what is wrong with each acknowledged transaction on one node's API (nothing when all is well).

    An API that does not answer is retried for `patience` s (it may be restarting), then named as unreachable.
    """
    problems = []
    with httpx.Client(base_url=api_url, timeout=10) as http:
        for tx_id, height in acknowledged.items():
            reply = _get_patiently(http, f"/v1/txs/{tx_id}", patience)
            if isinstance(reply, str):
                return problems + [f"{api_url} unreachable: {reply}"]
            if reply.status_code != 200:
                problems.append(f"{api_url} {tx_id}: HTTP {reply.status_code} {reply.text[:200]}")
            elif (answer := reply.json())["status"] != "committed" or answer["height"] != height:
                problems.append(f"{api_url} {tx_id}: {answer['status']} at {answer['height']}, "
                                f"acknowledged at {height}")
    return problems


def _get_patiently(http: httpx.Client, path: str, patience: float) -> httpx.Response | str:
    """GET `path`, retrying transport errors for `patience` s; return the response, or the last error's text."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return http.get(path)
        except httpx.TransportError as exc:
            if time.monotonic() >= deadline:
                return f"{type(exc).__name__}: {exc}"
            time.sleep(0.25)


# --- the processes -----------------------------------------------------------------------------------------------

def assert_all_running(nodes: list[NodeProcesses]) -> None:
    """Check every process started for these nodes is still running. Raises `chaos.process_died` naming the
    node, the role, its exit code and the tail of its log."""
    for node in nodes:
        for role, proc in node.procs.items():
            if proc.poll() is not None:
                log = node.home / "logs" / f"{role}.log"
                tail = log.read_text(errors="replace")[-1500:] if log.exists() else "(no log)"
                raise CheckFailed("chaos.process_died", where=f"{node.config.node.name} {role}",
                                  got=f"exit code {proc.returncode}; last output:\n{tail}",
                                  expected="every process the drill left running still running")


def assert_no_consensus_failure(nodes: list[NodeProcesses]) -> None:
    """Check no app stopped on an internal error and no CometBFT failed for any reason but a killed app.

    CometBFT logs CONSENSUS FAILURE when the app's socket breaks in the middle of a call; that is the kill
    itself. A wrong app hash or a failed replay is not. Raises `chaos.app_fatal` or `chaos.consensus_failure`.
    """
    for node in nodes:
        name = node.config.node.name
        app_log = (node.home / "logs" / "app.log").read_text(errors="replace")
        engine_log = (node.home / "logs" / "cometbft.log").read_text(errors="replace")
        if '"abci.fatal"' in app_log:
            raise CheckFailed("chaos.app_fatal", where=f"{name} logs/app.log", got="abci.fatal",
                              expected="no app stopping on an internal error")
        for line in engine_log.splitlines():
            failure = "CONSENSUS FAILURE" in line and not any(s in line for s in APP_CONNECTION_LOST)
            wrong_hash = "AppHash" in line   # "wrong Block.Header.AppHash", "AppHash does not match" after replay
            if failure or wrong_hash:
                raise CheckFailed("chaos.consensus_failure", where=f"{name} logs/cometbft.log", got=line[:400],
                                  expected="no consensus failure but a killed app's broken connection")


def assert_nothing_left_running(root: Path, timeout: float = 10) -> None:
    """Check that no process of the network in `root` (CometBFT, app or API) is still running.

    A process is the network's when its command line names `root`; this process and its parents are left out
    (the command that ran the network may name its folder too). Raises `chaos.left_running` with those found.
    """
    this = psutil.Process()
    callers = {this.pid, *(parent.pid for parent in this.parents())}

    def ours() -> list[str]:
        found = []
        for proc in psutil.process_iter(["pid", "cmdline"]):
            command = " ".join(proc.info["cmdline"] or [])
            if str(root) in command and proc.info["pid"] not in callers:
                found.append(f"{proc.info['pid']} {command}")
        return found

    wait_until(lambda: not ours(), timeout=timeout)
    if left := ours():
        raise CheckFailed("chaos.left_running", where=str(root), got=left, expected="no process of this network")

