"""Durability under SIGKILL: a node whose app, CometBFT or both die at any moment restarts, replays what it
lacks through the ABCI handshake, and ends on its peers' app hash, with nothing acknowledged lost.

Acknowledged means a node's API answered `committed`: the transaction was in that node's fsynced SQLite file.
Every acknowledged transaction must afterwards be committed, at the same height, on every node. A transaction
in flight when a node died may be lost; that is allowed, and the load reads the account's next nonce from the
chain and goes on.

The kill schedule comes from a seeded generator whose seed is printed first; set CIVICHAIN_DURABILITY_SEED to
run a schedule again. The load runs against real processes, so a rerun kills at the same kind of moment (after
a block is saved, after the app's Commit, during catch-up, at a random time), not at the same millisecond.
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
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import httpx
import psutil
import pytest

from civichain.bench.load import anchor_txs, bench_signers, registration_txs, tx_hash
from civichain.client.sample import load_signer
from civichain.client.tx import Signer
from civichain.node.network import Network
from civichain.node.supervisor import NodeProcesses
from civichain.store import Store, StoreError
from tests.network.netutil import app_hash_at, block_hash_at, running_network

pytestmark = pytest.mark.network

SEED_VARIABLE = "CIVICHAIN_DURABILITY_SEED"
ROUNDS = 12
ACCOUNTS = 8                 # bench accounts, two per node; each submits to its own node in nonce order
BATCH = 4                    # anchors an account sends before waiting for the last one's commit
EXPIRES_AT = 50_000          # a fixed height, so a transaction re-signed at the same nonce has the same bytes
KILL_TARGETS = ("app", "cometbft", "both")
MOMENTS = ("any", "after_block_saved", "after_app_commit", "while_catching_up")
# What CometBFT's errors say when the app process it talks to was killed in the middle of a call.
APP_CONNECTION_LOST = ("read message: EOF", "connection reset by peer", "broken pipe")


@dataclass(frozen=True, slots=True)
class Round:
    """One kill: which node, which of its processes, when, and for how long they stay down."""

    victim: int
    target: str              # one of KILL_TARGETS
    moment: str              # one of MOMENTS
    delay_s: float           # for moment "any": how long to wait; for "while_catching_up", a third of it
    down_s: float            # between the kill and the restart
    app_first: bool          # for target "both": the order of the two kills


@dataclass
class Restarts:
    """How many times the test started each process of each node again."""

    app: Counter = field(default_factory=Counter)
    cometbft: Counter = field(default_factory=Counter)

    def count(self, index: int, started: list[str]) -> None:
        """Count the processes `restart` started again on node `index`."""
        self.app[index] += int("app" in started)
        self.cometbft[index] += int("cometbft" in started)


@dataclass
class Cluster:
    """The running network as the test drives it: its folder, its processes, one HTTP client for heights.

    One shared client, because a client per request (as `httpx.get` makes) costs about 40 ms of CPU for its
    TLS context, which a two-core machine running twelve node processes feels while it polls.
    """

    network: Network
    nodes: list[NodeProcesses]
    http: httpx.Client

    def heights(self) -> list[int | None]:
        """Return each node's CometBFT height (its block store's), None for a node that does not answer."""
        return [_rpc_height(self.http, entry.rpc_url) for entry in self.network.nodes]

    def top(self, without: int | None = None) -> int:
        """Return the highest height of the nodes answering, leaving out node `without`."""
        return max(h for i, h in enumerate(self.heights()) if i != without and h is not None)

    def wait_for_height(self, height: int, nodes: list[int] | None = None, timeout: float = 60) -> None:
        """Wait until the given nodes (all by default) have `height`. Raises TimeoutError."""
        wanted = nodes if nodes is not None else list(range(len(self.nodes)))

        def reached() -> bool:
            heights = self.heights()
            return all(heights[i] is not None and heights[i] >= height for i in wanted)

        if not wait_until(reached, timeout, interval=0.2):
            raise TimeoutError(f"nodes {wanted} did not reach height {height} in {timeout:.0f} s: {self.heights()}")


@contextmanager
def cluster_in(root: Path) -> Iterator[Cluster]:
    """Run a 4-validator network in `root`; stop every process at the end."""
    with running_network(root) as (network, nodes), httpx.Client(timeout=2) as http:
        yield Cluster(network, nodes, http)


def test_nodes_killed_at_any_moment_under_load_lose_nothing_acknowledged(tmp_path):
    seed = _seed()
    schedule = kill_schedule(random.Random(seed), ROUNDS, nodes=4)
    print(f"\ndurability seed {seed} (rerun with {SEED_VARIABLE}={seed})")
    for number, planned in enumerate(schedule, 1):
        print(f"  round {number}: {planned}")
    started = time.monotonic()
    root = tmp_path / "net"
    with cluster_in(root) as cluster:
        load = Load(cluster.network, register_bench_accounts(cluster.network))
        restarts = Restarts()
        load.start()
        try:
            wait_for_acknowledgements(load, 20, timeout=60)
            print(f"  load running at {time.monotonic() - started:.0f} s")
            reports = []
            for number, planned in enumerate(schedule, 1):
                reports.append(run_round(cluster, planned, restarts))
                print(f"  round {number} done at {time.monotonic() - started:.0f} s: {reports[-1]}; "
                      f"acknowledged so far {len(load.acknowledged)}")
        finally:
            load.stop()
        print(f"  load: {len(load.acknowledged)} acknowledged; how batches ended: {dict(load.outcomes)}")
        behind = sum(1 for r in reports if None not in (r["block_store_at"], r["app_on_disk"])
                     and r["app_on_disk"] < r["block_store_at"])
        print(f"  kills that left the app a block behind its block store (replayed in the handshake): {behind}")
        height = settle(cluster)
        assert_every_node_agrees(cluster, height)
        assert_acknowledged_everywhere(cluster.network, load.acknowledged)
        assert_restarts_went_through_the_handshake(cluster.nodes, restarts)
        assert_no_consensus_failure(cluster.nodes)
        assert len(load.acknowledged) > 100, f"too little load to prove anything: {dict(load.outcomes)}"
    assert_nothing_left_running(root)
    print(f"  seed {seed}: {ROUNDS} rounds, common height {height}, {time.monotonic() - started:.0f} s")


def test_a_node_killed_between_blocks_while_catching_up_reaches_the_same_app_hash(tmp_path):
    root = tmp_path / "net"
    victim = 3
    with cluster_in(root) as cluster:
        node = cluster.nodes[victim]
        # Only nodes 0 to 2 take load, so every acknowledgement comes from a node that stays up.
        load = Load(cluster.network, [(s, n) for s, n in register_bench_accounts(cluster.network) if n != victim])
        load.start()
        try:
            fall_behind(cluster, victim, blocks=15)
            restart(node)
            seen = wait_for_change(lambda: stored_height(node), interval=0.001, timeout=30)
            # CometBFT first, so that it cannot hand the app another block in between.
            node.kill("cometbft")
            node.kill("app")
            on_disk, others = stored_height(node), cluster.top(without=victim)
            print(f"\nkilled after the Commit of {seen} (on disk: {on_disk}) while the others were at {others}")
            assert seen is not None, "the restarted node committed no block within 30 s"
            assert on_disk == seen, "the app committed another block before the kill: not between blocks"
            assert others >= seen + 3, "the node had already caught up: it was not behind"
            restart(node)
            wait_caught_up(cluster, victim)
        finally:
            load.stop()
        height = settle(cluster)
        assert_every_node_agrees(cluster, height)
        assert_acknowledged_everywhere(cluster.network, load.acknowledged)
        restarts = Restarts(app=Counter({victim: 2}), cometbft=Counter({victim: 2}))
        assert_restarts_went_through_the_handshake(cluster.nodes, restarts)
        assert_no_consensus_failure(cluster.nodes)
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


def run_round(cluster: Cluster, planned: Round, restarts: Restarts) -> dict:
    """Kill, wait, restart and wait until the victim caught up; return what happened, for the printout."""
    node = cluster.nodes[planned.victim]
    store_height = reach_moment(cluster, planned, restarts)
    killed_at = time.monotonic()
    for role in roles_to_kill(planned):
        node.kill(role, signal.SIGKILL)
    stopped_by_itself = None
    if planned.target == "app":
        # CometBFT stops itself when its app connection breaks; wait for that before starting the app again.
        stopped_by_itself = wait_until(lambda: not node.running("cometbft"), timeout=10)
    disk_height, others = stored_height(node), cluster.top(without=planned.victim)
    time.sleep(planned.down_s)
    restarts.count(planned.victim, restart(node))
    wait_caught_up(cluster, planned.victim)
    return {"others_at": others, "block_store_at": store_height, "app_on_disk": disk_height,
            "cometbft_stopped_by_itself": stopped_by_itself, "seconds": round(time.monotonic() - killed_at, 1)}


def roles_to_kill(planned: Round) -> list[str]:
    """Return the processes to SIGKILL, in order."""
    if planned.target != "both":
        return [planned.target]
    return ["app", "cometbft"] if planned.app_first else ["cometbft", "app"]


def reach_moment(cluster: Cluster, planned: Round, restarts: Restarts) -> int | None:
    """Return at the round's moment to kill, with the victim's block store height when that is what we watched.

    "any": after a random delay. "after_block_saved": as soon as CometBFT's /status shows a new height (the
    block is saved; its FinalizeBlock and Commit may not have run). "after_app_commit": as soon as the app's
    SQLite file has a new block. "while_catching_up": the node is stopped until it is 4 blocks behind, started
    again (its handshake is over once CometBFT listens) and killed up to half a second into its block sync.
    """
    node, rpc_url = cluster.nodes[planned.victim], cluster.network.nodes[planned.victim].rpc_url
    if planned.moment == "any":
        time.sleep(planned.delay_s)
    elif planned.moment == "after_block_saved":
        return wait_for_change(lambda: _rpc_height(cluster.http, rpc_url))
    elif planned.moment == "after_app_commit":
        wait_for_change(lambda: stored_height(node))
    else:
        fall_behind(cluster, planned.victim, blocks=4)
        restarts.count(planned.victim, restart(node))
        time.sleep(planned.delay_s / 3)
    return None


def fall_behind(cluster: Cluster, index: int, blocks: int) -> None:
    """SIGKILL both processes of node `index` and wait until the others are `blocks` blocks further."""
    cluster.nodes[index].kill("cometbft")
    cluster.nodes[index].kill("app")
    others = [i for i in range(len(cluster.nodes)) if i != index]
    cluster.wait_for_height(cluster.top(without=index) + blocks, nodes=others)


def restart(node: NodeProcesses) -> list[str]:
    """Bring the node back as its supervisor does (`NodeProcesses.recover`); return the roles started.

    If only the app was killed and CometBFT's own shutdown hangs (seen: seed 161791766, round 7), recover
    stops CometBFT too, so both come back through the handshake.
    """
    return [role for role in node.recover(timeout=30) if role in ("app", "cometbft")]


def wait_caught_up(cluster: Cluster, index: int, timeout: float = 90) -> None:
    """Wait until node `index` has the height the others had when this was called."""
    cluster.wait_for_height(cluster.top(without=index), nodes=[index], timeout=timeout)


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


def _rpc_height(http: httpx.Client, rpc_url: str) -> int | None:
    try:
        return int(http.get(f"{rpc_url}/status").json()["result"]["sync_info"]["latest_block_height"])
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
    with httpx.Client(base_url=network.nodes[0].api_url, timeout=40) as http:
        first = http.get(f"/v1/accounts/{admin.account}").json()["next_nonce"]
        txs = registration_txs(network.chain_id, admin, signers, first, EXPIRES_AT)
        for raw in txs[:-1]:
            assert http.post("/v1/txs", json={"tx": raw.hex()}).status_code == 202
        reply = http.post("/v1/txs", params={"wait": "true", "timeout": "30"}, json={"tx": txs[-1].hex()})
        assert reply.status_code == 200 and reply.json()["status"] == "committed", reply.text
        for raw in txs:
            assert http.get(f"/v1/txs/{tx_hash(raw)}").json()["status"] == "committed"
    return [(signer, i % len(network.nodes)) for i, signer in enumerate(signers)]


class Load:
    """Notary anchors submitted in the background: each account to its own node, in nonce order.

    An account sends BATCH anchors with consecutive nonces, the last with `wait=true`, then asks its node for
    each one CheckTx accepted: those the API answers `committed` are acknowledged. Then it reads its next
    nonce from the chain and goes on from there, whatever happened. A transaction lost with a killed node
    leaves its nonce free; a transaction is a pure function of (account, nonce), so sending again never makes
    a second, different transaction with the same nonce.
    """

    def __init__(self, network: Network, accounts: list[tuple[Signer, int]]) -> None:
        self.network = network
        self.acknowledged: dict[str, int] = {}      # tx id (hex) -> height the API gave
        self.outcomes: Counter = Counter()          # how each batch ended: "committed", or why not
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
        with httpx.Client(base_url=self.network.nodes[node].api_url, timeout=20) as http:
            while not self._stop.is_set():
                nonce = _chain_nonce(http, signer.account)
                if nonce is None:
                    self._stop.wait(0.5)
                    continue
                batch = anchor_txs(self.network.chain_id, signer, BATCH, nonce, EXPIRES_AT, tag="durability")
                outcome, accepted = _submit_batch(http, batch)
                committed = _committed(http, accepted)
                with self._lock:
                    self.outcomes[outcome] += 1
                    self.acknowledged.update(committed)
                if outcome != "committed":
                    self._stop.wait(0.5)   # the node is likely down: do not spin on it


def _submit_batch(http: httpx.Client, batch: list[bytes]) -> tuple[str, list[bytes]]:
    """Send `batch` in order, waiting for the last one's commit.

    Return ("committed" or what stopped it, the transactions CheckTx accepted).
    """
    accepted: list[bytes] = []
    for position, raw in enumerate(batch):
        last = position == len(batch) - 1
        try:
            reply = http.post("/v1/txs", params={"wait": "true", "timeout": "10"} if last else {},
                              json={"tx": raw.hex()})
            answer = reply.json()
        except (httpx.HTTPError, ValueError) as exc:
            return type(exc).__name__, accepted
        if reply.status_code not in (200, 202):
            error = answer.get("error", {})
            return f"{error.get('code', reply.status_code)}: {str(error.get('got'))[:40]}", accepted
        accepted.append(raw)
    return answer["status"], accepted      # "pending" when the last one was not committed within the wait


def _committed(http: httpx.Client, txs: list[bytes]) -> dict[str, int]:
    """Return tx id -> height for the transactions the node's API says are committed."""
    found = {}
    for raw in txs:
        tx_id = tx_hash(raw).lower()
        try:
            reply = http.get(f"/v1/txs/{tx_id}")
        except httpx.HTTPError:
            continue
        if reply.status_code == 200 and (answer := reply.json())["status"] == "committed":
            found[tx_id] = answer["height"]
    return found


def _chain_nonce(http: httpx.Client, account: str) -> int | None:
    try:
        return http.get(f"/v1/accounts/{account}").json()["next_nonce"]
    except (httpx.HTTPError, ValueError, KeyError):
        return None


def wait_for_acknowledgements(load: Load, count: int, timeout: float) -> None:
    """Wait until the load has `count` acknowledged transactions."""
    if not wait_until(lambda: len(load.acknowledged) >= count, timeout, interval=0.2):
        raise TimeoutError(f"only {len(load.acknowledged)} acknowledged after {timeout:.0f} s: {dict(load.outcomes)}")


# --- the checks -----------------------------------------------------------------------------------------------

def settle(cluster: Cluster, timeout: float = 60) -> int:
    """Wait until every node has the block after the highest one any node had; return that highest height.

    Then every node holds that height and the next header, which carries its app hash.
    """
    top = cluster.top()
    cluster.wait_for_height(top + 1, timeout=timeout)
    return top


def assert_every_node_agrees(cluster: Cluster, height: int) -> None:
    """Check one block hash and one app hash at `height`, and each app's whole history against the headers."""
    block_hashes = {block_hash_at(n.rpc_url, height) for n in cluster.network.nodes}
    app_hashes = {app_hash_at(n.rpc_url, height + 1) for n in cluster.network.nodes}
    assert len(block_hashes) == 1, f"block hashes at {height} differ: {block_hashes}"
    assert len(app_hashes) == 1, f"app hashes of {height} differ: {app_hashes}"
    headers = signed_headers(cluster.http, cluster.network.nodes[0].rpc_url, height + 1)
    for index, node in enumerate(cluster.nodes):
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


def signed_headers(http: httpx.Client, rpc_url: str, up_to: int) -> dict[int, tuple[str, str]]:
    """Return height -> (block hash, app hash in the header) for heights 1 to `up_to`, from /blockchain."""
    headers: dict[int, tuple[str, str]] = {}
    for low in range(1, up_to + 1, 20):
        high = min(low + 19, up_to)
        result = http.get(f"{rpc_url}/blockchain", params={"minHeight": str(low), "maxHeight": str(high)}).json()
        for meta in result["result"]["block_metas"]:
            headers[int(meta["header"]["height"])] = (meta["block_id"]["hash"], meta["header"]["app_hash"])
    assert sorted(headers) == list(range(1, up_to + 1))
    return headers


def assert_acknowledged_everywhere(network: Network, acknowledged: dict[str, int]) -> None:
    """Check that every acknowledged transaction is committed, at the same height, on every node's API."""
    with ThreadPoolExecutor(max_workers=len(network.nodes)) as pool:
        found = pool.map(lambda entry: missing_on(entry.api_url, acknowledged), network.nodes)
        problems = [problem for node_problems in found for problem in node_problems]
    assert not problems, f"{len(problems)} acknowledged transactions missing, e.g. {problems[:5]}"


def missing_on(api_url: str, acknowledged: dict[str, int]) -> list[str]:
    """Return what is wrong with each acknowledged transaction on one node's API (nothing when all is well)."""
    problems = []
    with httpx.Client(base_url=api_url, timeout=10) as http:
        for tx_id, height in acknowledged.items():
            reply = http.get(f"/v1/txs/{tx_id}")
            if reply.status_code != 200:
                problems.append(f"{api_url} {tx_id}: HTTP {reply.status_code} {reply.text[:200]}")
            elif (answer := reply.json())["status"] != "committed" or answer["height"] != height:
                problems.append(f"{api_url} {tx_id}: {answer['status']} at {answer['height']}, "
                                f"acknowledged at {height}")
    return problems


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
    """Check no app stopped on an internal error and no CometBFT failed for any reason but a killed app.

    CometBFT logs CONSENSUS FAILURE when the app's socket breaks in the middle of a call; that is the kill
    itself. A wrong app hash or a failed replay is not.
    """
    for index, node in enumerate(nodes):
        app_log = (node.home / "logs" / "app.log").read_text(errors="replace")
        engine_log = (node.home / "logs" / "cometbft.log").read_text(errors="replace")
        assert '"abci.fatal"' not in app_log, f"node{index}: the app stopped on an error"
        for line in engine_log.splitlines():
            failure = "CONSENSUS FAILURE" in line and not any(s in line for s in APP_CONNECTION_LOST)
            wrong_hash = "AppHash" in line   # "wrong Block.Header.AppHash", "AppHash does not match" after replay
            assert not (failure or wrong_hash), f"node{index} cometbft.log: {line[:400]}"


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
