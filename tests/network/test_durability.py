"""Durability under SIGKILL: a node whose app, CometBFT or both die at any moment restarts, replays what it
lacks through the ABCI handshake, and ends on its peers' app hash, with nothing acknowledged lost.

Acknowledged means the API answered `committed`: the transaction was in the node's fsynced SQLite file. Every
acknowledged transaction must afterwards be committed on every node. A transaction in flight when a node died
may be lost; that is allowed, and the load re-reads the account's next nonce from the chain and goes on.

The kill schedule comes from a seeded generator whose seed is printed first; set CIVICHAIN_DURABILITY_SEED to
run a schedule again. The load runs against real processes, so a rerun kills at the same kind of moment (after
a block is saved, after the app's Commit, at a random time), not at the same millisecond.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import httpx
import psutil
import pytest

from civichain.bench.load import anchor_txs, bench_signers, registration_txs, tx_hash
from civichain.client.sample import load_signer
from civichain.client.tx import Signer
from civichain.node.network import Network
from civichain.node.supervisor import NodeProcesses
from civichain.store import Store, StoreError
from tests.network.netutil import app_hash_at, block_hash_at, node_heights, running_network, wait_for_height

pytestmark = pytest.mark.network

SEED_VARIABLE = "CIVICHAIN_DURABILITY_SEED"
ROUNDS = 10
ACCOUNTS = 8                 # bench accounts, two per node; each submits to its own node in nonce order
EXPIRES_AT = 50_000          # a fixed height, so a transaction re-signed at the same nonce has the same bytes
KILL_TARGETS = ("app", "cometbft", "both")
MOMENTS = ("any", "after_block_saved", "after_app_commit")


@dataclass(frozen=True, slots=True)
class Round:
    """One kill: which node, which of its processes, when, and for how long they stay down."""

    victim: int
    target: str              # one of KILL_TARGETS
    moment: str              # one of MOMENTS
    delay_s: float           # for moment "any": how long after the round starts
    down_s: float            # between the kill and the restart
    app_first: bool          # for target "both": the order of the two kills


@dataclass
class Restarts:
    """How many times the test started each process of each node again."""

    app: Counter = field(default_factory=Counter)
    cometbft: Counter = field(default_factory=Counter)


def test_nodes_killed_at_any_moment_under_load_lose_nothing_acknowledged(tmp_path):
    seed = _seed()
    rng = random.Random(seed)
    schedule = kill_schedule(rng, ROUNDS, nodes=4)
    print(f"\ndurability seed {seed} (rerun with {SEED_VARIABLE}={seed})")
    for number, planned in enumerate(schedule, 1):
        print(f"  round {number}: {planned}")
    started = time.monotonic()
    root = tmp_path / "net"
    with running_network(root) as (network, nodes):
        print(f"  network up at {time.monotonic() - started:.0f} s")
        load = Load(network, register_bench_accounts(network))
        restarts = Restarts()
        load.start()
        try:
            wait_for_acknowledgements(load, 20, timeout=60)
            print(f"  load running at {time.monotonic() - started:.0f} s")
            for number, planned in enumerate(schedule, 1):
                report = run_round(network, nodes, planned, restarts)
                print(f"  round {number} done at {time.monotonic() - started:.0f} s: {report}; "
                      f"acknowledged so far {len(load.acknowledged)}")
        finally:
            load.stop()
        print(f"  load: {len(load.acknowledged)} acknowledged; outcomes {dict(load.outcomes)}")
        height = settle(network)
        assert_every_node_agrees(network, nodes, height)
        print(f"  agreement checked at {time.monotonic() - started:.0f} s")
        assert_acknowledged_everywhere(network, load.acknowledged)
        print(f"  acknowledged transactions checked at {time.monotonic() - started:.0f} s")
        assert_restarts_went_through_the_handshake(nodes, restarts)
        assert_no_consensus_failure(nodes)
        assert len(load.acknowledged) > 100, f"too little load to prove anything: {dict(load.outcomes)}"
    assert_nothing_left_running(root)
    print(f"  seed {seed}: {ROUNDS} rounds, common height {height}, {time.monotonic() - started:.0f} s")


def test_a_node_killed_between_blocks_while_catching_up_reaches_the_same_app_hash(tmp_path):
    root = tmp_path / "net"
    victim = 3
    with running_network(root) as (network, nodes):
        # Only nodes 0 to 2 take load, so the victim's own API never blocks the acknowledgements.
        load = Load(network, [(s, n) for s, n in register_bench_accounts(network) if n != victim])
        load.start()
        try:
            nodes[victim].kill("cometbft")
            nodes[victim].kill("app")
            left_at = max(h for h in node_heights(network) if h is not None)
            wait_for_height(network, left_at + 15, timeout=60, nodes=[0, 1, 2])
            restart(nodes[victim])
            seen, on_disk, network_height = kill_right_after_a_commit(network, nodes[victim], victim)
            assert seen is not None, "the restarted node committed no block within 30 s"
            print(f"\nkilled after Commit of {seen} (on disk {on_disk}) while the network was at {network_height}")
            assert on_disk == seen, "the app committed another block before the kill: not between blocks"
            assert network_height >= seen + 3, "the node had already caught up: it was not behind"
            restart(nodes[victim])
            wait_caught_up(network, victim)
        finally:
            load.stop()
        height = settle(network)
        assert_every_node_agrees(network, nodes, height)
        assert_acknowledged_everywhere(network, load.acknowledged)
        restarts = Restarts(app=Counter({victim: 2}), cometbft=Counter({victim: 2}))
        assert_restarts_went_through_the_handshake(nodes, restarts)
        assert_no_consensus_failure(nodes)
        assert load.acknowledged, f"no transaction was acknowledged: {dict(load.outcomes)}"
    assert_nothing_left_running(root)


# --- the kills ------------------------------------------------------------------------------------------------

def kill_schedule(rng: random.Random, rounds: int, nodes: int) -> list[Round]:
    """Return `rounds` kills: every node, every target and every moment at least once when `rounds` allows."""
    victims = list(range(nodes))[:rounds] + [rng.randrange(nodes) for _ in range(rounds - nodes)]
    targets = [KILL_TARGETS[i % len(KILL_TARGETS)] for i in range(rounds)]
    moments = [MOMENTS[i % len(MOMENTS)] for i in range(rounds)]
    for sequence in (victims, targets, moments):
        rng.shuffle(sequence)
    return [Round(victim, target, moment, round(rng.uniform(0, 1.5), 2), round(rng.uniform(0, 2.0), 2),
                  rng.random() < 0.5)
            for victim, target, moment in zip(victims, targets, moments)]


def run_round(network: Network, nodes: list[NodeProcesses], planned: Round, restarts: Restarts) -> dict:
    """Kill, wait, restart and wait until the victim caught up; return what happened, for the printout."""
    node, entry = nodes[planned.victim], network.nodes[planned.victim]
    wait_for_moment(planned, entry.rpc_url, node)
    killed_at = time.monotonic()
    network_height = max((h for h in node_heights(network) if h is not None), default=None)
    for role in roles_to_kill(planned):
        node.kill(role, signal.SIGKILL)
    stopped_by_itself = False
    if planned.target == "app":
        # CometBFT stops itself when its app connection breaks; wait for that before starting the app again.
        stopped_by_itself = wait_until(lambda: not node.running("cometbft"), timeout=10)
    disk_height = stored_height(node)
    time.sleep(planned.down_s)
    started = restart(node)
    restarts.app[planned.victim] += int("app" in started)
    restarts.cometbft[planned.victim] += int("cometbft" in started)
    wait_caught_up(network, planned.victim)
    return {"network_height": network_height, "app_height_on_disk": disk_height, "restarted": started,
            "cometbft_stopped_by_itself": stopped_by_itself, "seconds": round(time.monotonic() - killed_at, 1)}


def roles_to_kill(planned: Round) -> list[str]:
    """Return the processes to SIGKILL, in order."""
    if planned.target != "both":
        return [planned.target]
    return ["app", "cometbft"] if planned.app_first else ["cometbft", "app"]


def wait_for_moment(planned: Round, rpc_url: str, node: NodeProcesses) -> None:
    """Return at the round's moment: after a delay, right after CometBFT saved a block, or right after a Commit."""
    if planned.moment == "any":
        time.sleep(planned.delay_s)
    elif planned.moment == "after_block_saved":
        # /status reports the block store's height: the block is saved, its FinalizeBlock and Commit may not be.
        wait_for_change(lambda: _rpc_height(rpc_url))
    else:
        wait_for_change(lambda: stored_height(node))


def kill_right_after_a_commit(network: Network, node: NodeProcesses, index: int) -> tuple[int | None, int | None, int]:
    """SIGKILL CometBFT, then the app, within about a millisecond of the app's next Commit.

    Return (the height seen committed, the height on disk after the kill, the network's height then).
    CometBFT goes first so that it cannot hand the app another block in between.
    """
    seen = wait_for_change(lambda: stored_height(node), interval=0.001, timeout=30)
    node.kill("cometbft")
    node.kill("app")
    others = [h for i, h in enumerate(node_heights(network)) if i != index and h is not None]
    return seen, stored_height(node), max(others)


def restart(node: NodeProcesses) -> list[str]:
    """Start again whichever of the app and CometBFT is down, the app first; return the roles started."""
    started = []
    for role in ("app", "cometbft"):
        if not node.running(role):
            node.start_one(role, timeout=30)
            started.append(role)
    return started


def wait_caught_up(network: Network, index: int, timeout: float = 90) -> None:
    """Wait until node `index` has the height the others had when this was called."""
    others = [h for i, h in enumerate(node_heights(network)) if i != index and h is not None]
    wait_for_height(network, max(others), timeout=timeout, nodes=[index])


def wait_for_change(read: Callable[[], int | None], interval: float = 0.005, timeout: float = 15) -> int | None:
    """Poll `read` until it returns a value other than its first; return that value (None after `timeout`)."""
    first = read()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = read()
        if value is not None and value != first:
            return value
        time.sleep(interval)
    return None


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll `condition` until it holds; return whether it did within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


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


def _rpc_height(rpc_url: str) -> int | None:
    try:
        return int(httpx.get(f"{rpc_url}/status", timeout=2).json()["result"]["sync_info"]["latest_block_height"])
    except (httpx.HTTPError, KeyError, ValueError):
        return None


def _seed() -> int:
    chosen = os.environ.get(SEED_VARIABLE)
    return int(chosen) if chosen else random.SystemRandom().randrange(2**32)


# --- the load -------------------------------------------------------------------------------------------------

def register_bench_accounts(network: Network) -> list[tuple[Signer, int]]:
    """Have node 0's admin add the bench accounts; return each with the node it submits to."""
    admin = load_signer(network.root, f"{network.nodes[0].organisation}/admin")
    signers = bench_signers(network.nodes[0].organisation, ACCOUNTS)
    api = network.nodes[0].api_url
    with httpx.Client(timeout=30) as http:
        first = http.get(f"{api}/v1/accounts/{admin.account}").json()["next_nonce"]
        txs = registration_txs(network.chain_id, admin, signers, first, EXPIRES_AT)
        for raw in txs[:-1]:
            assert http.post(f"{api}/v1/txs", json={"tx": raw.hex()}).status_code == 202
        reply = http.post(f"{api}/v1/txs", params={"wait": "true", "timeout": "30"}, json={"tx": txs[-1].hex()})
        assert reply.status_code == 200 and reply.json()["status"] == "committed", reply.text
        for raw in txs:
            assert http.get(f"{api}/v1/txs/{tx_hash(raw)}").json()["status"] == "committed"
    return [(signer, i % len(network.nodes)) for i, signer in enumerate(signers)]


class Load:
    """Notary anchors submitted in the background: each account to its own node, in nonce order.

    A transaction is acknowledged when the node's API answers `committed` for it. Any other answer (the
    engine down, a nonce CheckTx refuses, no commit within the wait) makes the account read its next
    nonce from the chain and go on from there. A transaction is a pure function of (account, nonce), so a
    retry after a lost answer sends the same bytes, never a second transaction with the same nonce.
    """

    def __init__(self, network: Network, accounts: list[tuple[Signer, int]]) -> None:
        self.network = network
        self.acknowledged: dict[str, int] = {}      # tx id (hex) -> height the API gave
        self.outcomes: Counter = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._submit_stream, args=(signer, node), daemon=True,
                                          name=f"load {signer.account}") for signer, node in accounts]

    def start(self) -> None:
        """Start one submitting thread per account."""
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 40) -> None:
        """Stop submitting and wait for the answers in flight."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        assert not any(t.is_alive() for t in self._threads), "a load thread did not stop"

    def _submit_stream(self, signer: Signer, node: int) -> None:
        api = self.network.nodes[node].api_url
        nonce: int | None = None
        with httpx.Client(timeout=20) as http:
            while not self._stop.is_set():
                if nonce is None:
                    nonce = _chain_nonce(http, api, signer.account)
                    if nonce is None:
                        self._stop.wait(0.2)
                        continue
                raw = anchor_txs(self.network.chain_id, signer, 1, nonce, EXPIRES_AT, tag="durability")[0]
                outcome, height = _submit(http, api, raw)
                with self._lock:
                    self.outcomes[outcome] += 1
                    if outcome == "committed":
                        self.acknowledged[tx_hash(raw).lower()] = height
                if outcome == "committed":
                    nonce += 1
                else:
                    nonce = None
                    self._stop.wait(0.2)


def _submit(http: httpx.Client, api: str, raw: bytes) -> tuple[str, int | None]:
    """Submit and wait for the commit; return (outcome, height): "committed", another status, or an error code."""
    try:
        reply = http.post(f"{api}/v1/txs", params={"wait": "true", "timeout": "10"}, json={"tx": raw.hex()})
        answer = reply.json()
    except (httpx.HTTPError, ValueError) as exc:
        return type(exc).__name__, None
    if reply.status_code == 200:
        return answer["status"], answer["height"]
    if reply.status_code == 202:
        return "pending", None
    return answer.get("error", {}).get("code", f"http {reply.status_code}"), None


def _chain_nonce(http: httpx.Client, api: str, account: str) -> int | None:
    try:
        return http.get(f"{api}/v1/accounts/{account}").json()["next_nonce"]
    except (httpx.HTTPError, ValueError, KeyError):
        return None


def wait_for_acknowledgements(load: Load, count: int, timeout: float) -> None:
    """Wait until the load has `count` acknowledged transactions."""
    if not wait_until(lambda: len(load.acknowledged) >= count, timeout, interval=0.2):
        raise TimeoutError(f"only {len(load.acknowledged)} acknowledged after {timeout:.0f} s: {dict(load.outcomes)}")


# --- the checks -----------------------------------------------------------------------------------------------

def settle(network: Network, timeout: float = 60) -> int:
    """Wait until every node has the block after the highest one any node had; return that highest height.

    Then every node holds that height and the next header, which carries its app hash.
    """
    top = max(h for h in node_heights(network) if h is not None)
    wait_for_height(network, top + 1, timeout=timeout)
    return top


def assert_every_node_agrees(network: Network, nodes: list[NodeProcesses], height: int) -> None:
    """Check one block hash and one app hash at `height`, and each app's whole history against the headers."""
    block_hashes = {block_hash_at(n.rpc_url, height) for n in network.nodes}
    app_hashes = {app_hash_at(n.rpc_url, height + 1) for n in network.nodes}
    assert len(block_hashes) == 1, f"block hashes at {height} differ: {block_hashes}"
    assert len(app_hashes) == 1, f"app hashes of {height} differ: {app_hashes}"
    headers = signed_headers(network.nodes[0].rpc_url, height + 1)
    for index, node in enumerate(nodes):
        store = Store(node.config.resolve(node.home, node.config.storage.path), readonly=True)
        try:
            stored = [b for b in store.blocks() if b.height <= height]
        finally:
            store.close()
        assert [b.height for b in stored] == list(range(1, height + 1)), f"node{index}: heights missing"
        for block in stored:
            block_hash, _ = headers[block.height]
            _, next_app_hash = headers[block.height + 1]
            assert block.block_hash.hex().upper() == block_hash, f"node{index}: block hash at {block.height}"
            assert block.app_hash.hex().upper() == next_app_hash, f"node{index}: app hash of {block.height}"


def signed_headers(rpc_url: str, up_to: int) -> dict[int, tuple[str, str]]:
    """Return height -> (block hash, app hash in the header) for heights 1 to `up_to`, from /blockchain."""
    headers: dict[int, tuple[str, str]] = {}
    with httpx.Client(timeout=10) as http:
        for low in range(1, up_to + 1, 20):
            high = min(low + 19, up_to)
            result = http.get(f"{rpc_url}/blockchain", params={"minHeight": str(low), "maxHeight": str(high)}).json()
            for meta in result["result"]["block_metas"]:
                headers[int(meta["header"]["height"])] = (meta["block_id"]["hash"], meta["header"]["app_hash"])
    assert sorted(headers) == list(range(1, up_to + 1))
    return headers


def assert_acknowledged_everywhere(network: Network, acknowledged: dict[str, int]) -> None:
    """Check that every acknowledged transaction is committed, at the same height, on every node's API."""
    def check(api_url: str, tx_id: str, height: int) -> str | None:
        with httpx.Client(timeout=10) as http:
            reply = http.get(f"{api_url}/v1/txs/{tx_id}")
        if reply.status_code != 200:
            return f"{api_url} {tx_id}: HTTP {reply.status_code} {reply.text[:200]}"
        answer = reply.json()
        if answer["status"] != "committed" or answer["height"] != height:
            return f"{api_url} {tx_id}: {answer['status']} at {answer['height']}, acknowledged at {height}"
        return None

    jobs = [(n.api_url, tx_id, height) for n in network.nodes for tx_id, height in acknowledged.items()]
    with ThreadPoolExecutor(max_workers=8) as pool:
        problems = [p for p in pool.map(lambda job: check(*job), jobs) if p is not None]
    assert not problems, f"{len(problems)} acknowledged transactions missing, e.g. {problems[:5]}"


def assert_restarts_went_through_the_handshake(nodes: list[NodeProcesses], restarts: Restarts) -> None:
    """Check each app restart answered CometBFT's Info with a height above 0, and one Info per CometBFT start."""
    for index, node in enumerate(nodes):
        starts = info_heights_by_app_start(node.home / "logs" / "app.log")
        assert len(starts) == 1 + restarts.app[index], f"node{index}: app starts in app.log: {len(starts)}"
        for heights in starts[1:]:
            assert any(h > 0 for h in heights), f"node{index}: an app restart had no Info above 0: {heights}"
        handshakes = sum(1 for heights in starts for h in heights if h > 0)
        assert handshakes >= restarts.cometbft[index], f"node{index}: {handshakes} Info calls after genesis"


def info_heights_by_app_start(app_log: Path) -> list[list[int]]:
    """Return, for each start of the app recorded in its log, the heights its answers to Info gave."""
    starts: list[list[int]] = []
    for line in app_log.read_text(errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == "app.starting":
            starts.append([])
        elif event.get("event") == "abci.info" and starts:
            starts[-1].append(event["height"])
    return starts


def assert_no_consensus_failure(nodes: list[NodeProcesses]) -> None:
    """Check no app stopped on an internal error and no CometBFT saw a wrong app hash."""
    for index, node in enumerate(nodes):
        app_log = (node.home / "logs" / "app.log").read_text(errors="replace")
        engine_log = (node.home / "logs" / "cometbft.log").read_text(errors="replace")
        assert '"abci.fatal"' not in app_log, f"node{index}: the app stopped on an error"
        for sign_of_trouble in ("CONSENSUS FAILURE", "wrong Block.Header.AppHash", "panic:"):
            assert sign_of_trouble not in engine_log, f"node{index}: {sign_of_trouble!r} in cometbft.log"


def assert_nothing_left_running(root: Path) -> None:
    """Check that no process of this network (CometBFT, app or API) outlived the test."""
    def ours() -> list[str]:
        found = []
        for proc in psutil.process_iter(["pid", "cmdline"]):
            command = " ".join(proc.info["cmdline"] or [])
            if str(root) in command:
                found.append(f"{proc.info['pid']} {command}")
        return found

    wait_until(lambda: not ours(), timeout=10)
    assert not ours(), f"still running: {ours()}"
