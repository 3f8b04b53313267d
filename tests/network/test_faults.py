"""Faults with real processes: validators killed, cut off from each other, wiped, built wrong, or signing twice.

Four validators of equal power tolerate one fault: with one down the others go on committing, with two down no
one commits (not even alone), a node that comes back catches up, a node whose app computes another app hash
halts rather than get its block committed, and a validator key run by two nodes at once gets duplicate-vote
evidence committed against it. Every test ends with every live node at the same height holding the same block
hash and app hash, and every transaction acknowledged as committed on every node.

The tests share one network and each first makes it whole again (every process running, every node caught up),
so they run in any order; the partition test builds its own network, routed through the chaos proxy.
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import time
import tomllib
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx
import pytest
import tomli_w

from civichain.chaos.checks import (
    Cluster, assert_acknowledged_everywhere, assert_every_node_agrees,
    assert_nothing_left_running, settle,
    stored_height, wait_caught_up, wait_until,
)
from civichain.chaos.load import Load, register_bench_accounts, wait_for_acknowledgements
from civichain.chaos.proxy import Link, PartitionProxy, ProxyThread
from civichain.chaos.topology import node_id, peer_links, route_through_proxy
from civichain.client.tx import Signer
from civichain.engine import find_cometbft
from civichain.engine.files import init_engine_home, write_engine_config
from civichain.node.network import Network, free_base_port
from civichain.node.status import engine_failure
from civichain.node.supervisor import ROLES, NodeProcesses
from tests.network.netutil import app_hash_at, running_network

pytestmark = pytest.mark.network

FAULTY_LAUNCHER = Path(__file__).with_name("faulty_app.py")
WRONG_APP_HASH = "wrong Block.Header.AppHash"
QUIET_S = 2.5        # no block for this long: the nodes stopped (a healthy network makes one every 2 s at most)
FROZEN_S = 5.0       # then no block, anywhere, for this long
TWIN_OF = 1          # the validator whose key a fifth node also runs, in the double-signing test


# --- a 2/2 partition: its own network, first, so that two never run at once --------------------------------------

def test_a_two_two_partition_commits_nothing_and_the_network_goes_on_when_it_heals(tmp_path):
    root = tmp_path / "net"
    with partitionable_network(root) as (cluster, proxy):
        accounts = register_bench_accounts(cluster.network)
        # Every pair must be connected, through the proxy, before the split means anything. Nodes start one after
        # another, so a first dial can find its peer not yet listening; CometBFT redials persistent peers about
        # every 5 s, so the full mesh may form only some seconds after the first blocks.
        assert wait_until(lambda: _full_mesh_through(cluster, proxy), timeout=60, interval=0.5), (
            f"the mesh is not whole through the proxy after 60 s: peers {_peer_counts(cluster)}, "
            f"pairs without traffic {_silent_pairs(proxy)}")
        with running_load(cluster, accounts) as load:
            left = {"node0", "node1"}     # against node2 and node3
            crossing = [link for link in proxy.proxy.links() if (link.source in left) != (link.target in left)]
            for link in crossing:
                proxy.cut(link)
            frozen = assert_no_commits(cluster, [0, 1, 2, 3])
            assert max(load.acknowledged.values()) <= frozen
            assert _peer_counts(cluster) == [1, 1, 1, 1], "a node still reaches the other side"
            for link in crossing:
                proxy.heal(link)
            cluster.wait_for_height(frozen + 3, timeout=60)
            wait_for_acknowledgements(load, len(load.acknowledged) + 10, timeout=60)
        assert_whole_and_agreed(cluster, load)
    assert_nothing_left_running(root)


@contextmanager
def partitionable_network(root: Path) -> Iterator[tuple[Cluster, ProxyThread]]:
    """Run a 4-validator network whose nodes reach each other only through a partition proxy."""
    with ExitStack() as stack:
        proxies: list[ProxyThread] = []

        def through_proxy(network) -> None:
            proxy = stack.enter_context(ProxyThread(PartitionProxy(peer_links(network))))
            route_through_proxy(network, proxy.proxy.addresses())
            proxies.append(proxy)

        with running_network(root, prepare=through_proxy) as (network, nodes), httpx.Client(timeout=2) as http:
            yield Cluster(network, nodes, http), proxies[0]


def _full_mesh_through(cluster: Cluster, proxy: ProxyThread) -> bool:
    try:
        peers = _peer_counts(cluster)
    except (httpx.HTTPError, KeyError, ValueError):
        return False
    return peers == [3, 3, 3, 3] and not _silent_pairs(proxy)


def _silent_pairs(proxy: ProxyThread) -> list[str]:
    """Return the node pairs nothing went between; CometBFT keeps one connection per pair, dialled by either side."""
    silent = []
    for link in proxy.proxy.links():
        if link.source < link.target:
            back = Link(link.target, link.source)
            if proxy.stats(link).forwarded_bytes + proxy.stats(back).forwarded_bytes == 0:
                silent.append(f"{link.source}-{link.target}")
    return silent


def _peer_counts(cluster: Cluster) -> list[int]:
    return [int(cluster.http.get(f"{entry.rpc_url}/net_info").json()["result"]["n_peers"])
            for entry in cluster.network.nodes]


# --- the shared network ------------------------------------------------------------------------------------------

@dataclass
class FaultNet:
    """The shared network, its registered bench accounts (each with the node it submits to)."""

    cluster: Cluster
    accounts: list[tuple[Signer, int]]

    def make_whole(self, timeout: float = 120) -> None:
        """Start every process that is not running and wait until every node has the others' height."""
        for node in self.cluster.nodes:
            if not all(node.running(role) for role in ROLES):
                node.recover(timeout=30)
        self.cluster.wait_for_height(self.cluster.top(), timeout=timeout)

    def load(self, on_nodes: set[int] | None = None):
        """Run the acknowledged load through the given nodes' APIs (all by default); see `running_load`."""
        accounts = [(signer, node) for signer, node in self.accounts if on_nodes is None or node in on_nodes]
        return running_load(self.cluster, accounts)


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Iterator[FaultNet]:
    root = tmp_path_factory.mktemp("faults") / "net"
    with running_network(root, prepare=admit_twin) as (network, nodes), httpx.Client(timeout=2) as http:
        yield FaultNet(Cluster(network, nodes, http), register_bench_accounts(network))
    assert_nothing_left_running(root)


@pytest.fixture
def net(shared: FaultNet) -> FaultNet:
    shared.make_whole()
    return shared


# --- one of four killed ------------------------------------------------------------------------------------------

def test_the_others_commit_while_one_validator_is_killed_and_it_catches_up_when_back(net):
    cluster, victim = net.cluster, 3
    others = [0, 1, 2]
    with net.load() as load:
        kill_node(cluster.nodes[victim])
        acknowledged = len(load.acknowledged)
        cluster.wait_for_height(cluster.top(without=victim) + 5, nodes=others, timeout=60)
        wait_for_acknowledgements(load, acknowledged + 20, timeout=60)
        assert cluster.heights()[victim] is None
        cluster.nodes[victim].recover(timeout=30)
        wait_caught_up(cluster, victim)
    assert_whole_and_agreed(cluster, load)


# --- two of four killed ------------------------------------------------------------------------------------------

def test_with_two_of_four_killed_no_one_commits_and_commits_resume_when_one_is_back(net):
    cluster = net.cluster
    survivors = [0, 1]
    with net.load() as load:
        kill_node(cluster.nodes[2])
        kill_node(cluster.nodes[3])
        frozen = assert_no_commits(cluster, survivors)
        assert max(load.acknowledged.values()) <= frozen
        cluster.nodes[2].recover(timeout=30)
        cluster.wait_for_height(frozen + 3, nodes=[0, 1, 2], timeout=60)
        cluster.nodes[3].recover(timeout=30)
        wait_caught_up(cluster, 3)
    assert_whole_and_agreed(cluster, load)


# --- only the app, or only CometBFT, killed ----------------------------------------------------------------------

def test_a_node_recovers_from_losing_only_its_app_or_only_its_cometbft(net):
    cluster = net.cluster
    with net.load() as load:
        app_only = cluster.nodes[1]
        app_only.kill("app")
        # CometBFT cannot go on without its app; recover stops it if it did not stop itself, and starts both.
        assert app_only.recover(timeout=30) == ["app", "cometbft"]
        wait_caught_up(cluster, 1)

        engine_only = cluster.nodes[2]
        app_pid = engine_only.procs["app"].pid
        engine_only.kill("cometbft")
        assert engine_only.recover(timeout=30) == ["cometbft"]
        assert engine_only.procs["app"].pid == app_pid, "the app was restarted though it kept running"
        wait_caught_up(cluster, 2)
        wait_for_acknowledgements(load, len(load.acknowledged) + 10, timeout=60)
    assert_whole_and_agreed(cluster, load)


# --- a wiped node ------------------------------------------------------------------------------------------------

def test_a_node_whose_data_was_wiped_syncs_back_to_the_same_app_hash(net):
    cluster, victim = net.cluster, 2
    node = cluster.nodes[victim]
    keys = _key_files(node)
    with net.load() as load:
        node.stop()
        wipe(node)
        assert _key_files(node) == keys, "the wipe changed the node's keys"
        assert stored_height(node) is None
        cluster.wait_for_height(cluster.top(without=victim) + 5, nodes=[0, 1, 3], timeout=60)
        target = cluster.top(without=victim)
        node.recover(timeout=30)
        rpc_url = cluster.network.nodes[victim].rpc_url
        assert wait_until(lambda: _catching_up(cluster, rpc_url), timeout=30, interval=0.02), \
            "the wiped node did not block-sync"
        wait_caught_up(cluster, victim, timeout=120)
        assert cluster.heights()[victim] >= target
    assert_whole_and_agreed(cluster, load)


def _catching_up(cluster: Cluster, rpc_url: str) -> bool:
    """Whether CometBFT says it is block-syncing (it switches to consensus once it has its peers' height)."""
    try:
        return cluster.http.get(f"{rpc_url}/status").json()["result"]["sync_info"]["catching_up"]
    except (httpx.HTTPError, KeyError, ValueError):
        return False


# --- an app that computes another app hash -----------------------------------------------------------------------

@dataclass
class FaultyAppNode(NodeProcesses):
    """A node whose app runs through the test-only faulty launcher instead of `civichain node app`."""

    def _command(self, role: str) -> list[str]:
        if role == "app":
            return [sys.executable, str(FAULTY_LAUNCHER), "--home", str(self.home)]
        return super()._command(role)


def test_a_validator_computing_another_app_hash_halts_the_others_go_on_and_status_names_it(net):
    cluster, victim = net.cluster, 3
    node = cluster.nodes[victim]
    engine_log = node.home / "logs" / "cometbft.log"
    with net.load(on_nodes={0, 1, 2}) as load:
        node.stop()
        faulty = FaultyAppNode.of(node.home, cometbft=node.cometbft)
        faulty_from = cluster.top() + 20     # it catches up first, then diverges while in consensus
        faulty.extra_env["CIVICHAIN_FAULTY_FROM_HEIGHT"] = str(faulty_from)
        try:
            faulty.start()
            assert wait_until(lambda: WRONG_APP_HASH in (engine_failure(engine_log) or ""), timeout=90), \
                f"node{victim} did not refuse the network's blocks; heights {cluster.heights()}"
            halted = cluster.heights()[victim]
            cluster.wait_for_height(halted + 5, nodes=[0, 1, 2], timeout=60)
            assert cluster.heights()[victim] == halted
            assert halted == faulty_from, "the faulty node committed a block past its first wrong app hash"
            own = _own_app_hash(cluster, victim, halted)
            agreed = {app_hash_at(cluster.network.nodes[i].rpc_url, halted + 1) for i in (0, 1, 2)}
            assert len(agreed) == 1 and own not in agreed, "the faulty app hash got into a committed header"
            problems = {row["name"]: row["problems"] for row in civichain_status(cluster)}
            assert f"app hash differs from 3 of 4 nodes at height {halted}" in problems[f"node{victim}"]
            assert any(WRONG_APP_HASH in p for p in problems[f"node{victim}"]), problems
            honest = [p for i in (0, 1, 2) for p in problems[f"node{i}"]]
            assert not any(p.startswith(("app hash", "CometBFT")) for p in honest), problems
        finally:
            faulty.stop()
            wipe(node)                 # its stores hold the wrong app hash: it syncs again from its peers
            node.recover(timeout=30)
        wait_caught_up(cluster, victim, timeout=120)
    assert_whole_and_agreed(cluster, load)


def _own_app_hash(cluster: Cluster, index: int, height: int) -> str:
    """The app hash node `index`'s app returned for block `height` (its block results, not a header)."""
    result = cluster.http.get(f"{cluster.network.nodes[index].rpc_url}/block_results",
                              params={"height": str(height)}).json()["result"]
    return base64.b64decode(result["app_hash"]).hex().upper()


# --- a validator that signs twice --------------------------------------------------------------------------------

def test_a_validator_key_run_twice_gets_duplicate_vote_evidence_committed_and_shown(net):
    cluster, victim = net.cluster, TWIN_OF
    validator = json.loads((_engine_home(cluster.nodes[victim]) / "config" / "priv_validator_key.json").read_text())
    with net.load() as load:
        twin = start_twin(cluster, victim)
        try:
            committed = wait_until(lambda: _evidence_against(cluster, 0, validator["address"]), 120, interval=0.5)
            assert committed, f"no evidence against node{victim}'s validator committed; heights {cluster.heights()}"
        finally:
            twin.stop()
        height = settle(cluster)      # pending evidence may still be committed after the twin stopped: compare up to here
        evidence = [[e for e in _evidence_against(cluster, i, validator["address"]) if e["committed_height"] <= height]
                    for i in range(4)]
        assert all(e == evidence[0] for e in evidence), f"the nodes' APIs show different evidence: {evidence}"
        first = evidence[0][0]
        assert first["kind"] == "duplicate_vote" and first["power"] == 10 and first["committed_height"] <= height
        shown = civichain_status(cluster, whole=True)
        problems = {row["name"]: row["problems"] for row in shown["nodes"]}
        assert any("signed twice (duplicate vote)" in p for p in problems[f"node{victim}"]), problems
        assert not any("signed twice" in p for i in (0, 2, 3) for p in problems[f"node{i}"]), problems
        validators = {v["address"]: v for v in shown["validators"]}
        assert validators[validator["address"]]["evidence"] >= 1, shown["validators"]
        assert sum(1 for v in validators.values() if v["evidence"]) == 1 and len(validators) == 4
    assert_whole_and_agreed(cluster, load)


def admit_twin(network: Network) -> None:
    """Before the network starts: make the twin's CometBFT home (its own node key) and admit its node id.

    The peers keep only nodes the chain admits (a validator's node or an observer), so the twin is written into
    the application genesis as an observer: a node the network lets in, whose operator got hold of a validator key.
    """
    engine_home = _twin_home(network) / "cometbft"
    init_engine_home(find_cometbft(), engine_home)
    observer = {"node_id": node_id(engine_home), "operator": f"twin of node{TWIN_OF} (test)"}
    copies = [entry.home / "cometbft" / "config" / "genesis.json" for entry in network.nodes]
    for path in [network.root / "genesis.json", *copies]:
        genesis = json.loads(path.read_text(encoding="utf-8"))
        genesis["app_state"]["observers"] = [*genesis["app_state"].get("observers", []), observer]
        path.write_text(json.dumps(genesis, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def start_twin(cluster: Cluster, index: int) -> NodeProcesses:
    """Start a fifth node running node `index`'s validator key, with its own node key and a fresh sign state.

    It gives up waiting for a proposal at once (timeout_propose 1 ms), so it prevotes nil where the original
    prevotes the block: two different votes with one key in one round, which the other nodes report as evidence.
    """
    original = cluster.nodes[index]
    home = _twin_home(cluster.network)
    engine_home = home / "cometbft"
    (engine_home / "config" / "priv_validator_key.json").write_bytes(
        (_engine_home(original) / "config" / "priv_validator_key.json").read_bytes())
    (engine_home / "config" / "genesis.json").write_bytes((cluster.network.root / "genesis.json").read_bytes())
    port = free_base_port(1)
    peers = [f"{node_id(_engine_home(n))}@{n.config.cometbft.p2p_host}:{n.config.cometbft.p2p_port}"
             for n in cluster.nodes]
    write_engine_config(engine_home, moniker=home.name, abci_address=f"tcp://127.0.0.1:{port + 2}",
                        rpc_laddr=f"tcp://127.0.0.1:{port + 1}", p2p_laddr=f"tcp://127.0.0.1:{port}",
                        persistent_peers=peers, prometheus_laddr=f"127.0.0.1:{port + 4}", timeout_commit="200ms")
    config_path = engine_home / "config" / "config.toml"
    config = tomllib.loads(config_path.read_text())
    config["consensus"]["timeout_propose"] = "1ms"
    config_path.write_text(tomli_w.dumps(config))
    node_toml = {
        "node": {"name": home.name, "organisation": original.config.node.organisation},
        "abci": {"host": "127.0.0.1", "port": port + 2},
        "api": {"host": "127.0.0.1", "port": port + 3},
        "cometbft": {"home": "cometbft", "rpc_host": "127.0.0.1", "rpc_port": port + 1,
                     "p2p_host": "127.0.0.1", "p2p_port": port},
    }
    (home / "node.toml").write_text(tomli_w.dumps(node_toml))
    twin = NodeProcesses.of(home, cometbft=original.cometbft)
    try:
        twin.start(("app", "cometbft"))
    except BaseException:
        twin.stop()
        raise
    return twin


def _twin_home(network: Network) -> Path:
    return network.root / f"node{TWIN_OF}-twin"


def _evidence_against(cluster: Cluster, index: int, address: str) -> list[dict]:
    """The committed evidence against validator `address`, as node `index`'s API serves it."""
    try:
        items = cluster.http.get(f"{cluster.network.nodes[index].api_url}/v1/evidence").json()["evidence"]
    except (httpx.HTTPError, KeyError, ValueError):
        return []
    return [item for item in items if item["validator"] == address]


# --- shared steps and checks -------------------------------------------------------------------------------------

def kill_node(node: NodeProcesses) -> None:
    """SIGKILL every process of a node: CometBFT, its app and its API."""
    for role in ("cometbft", "app", "api"):
        node.kill(role, signal.SIGKILL)


def wipe(node: NodeProcesses) -> None:
    """Delete a stopped node's data, keeping its keys and config: civichain's SQLite file, and CometBFT's blocks,
    state, evidence and WAL, with its validator's last-signed state reset to the genesis one (height 0).

    CometBFT's own `unsafe-reset-all` does the CometBFT part, so its files stay in the form it expects. Resetting
    the sign state is safe here only because the node comes back after the network moved past every height it
    signed; it syncs those blocks before it votes again.
    """
    assert not any(node.running(role) for role in ROLES), "wipe a stopped node only"
    engine_home = _engine_home(node)
    reset = subprocess.run([str(node.cometbft), "unsafe-reset-all", "--home", str(engine_home)],
                           capture_output=True, text=True, timeout=60)
    assert reset.returncode == 0, reset.stderr
    database = node.config.resolve(node.home, node.config.storage.path)
    for path in (database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
        path.unlink(missing_ok=True)
    state = json.loads((engine_home / "data" / "priv_validator_state.json").read_text())
    assert (state["height"], state["round"], state["step"]) == ("0", 0, 0), state
    assert not (engine_home / "data" / "blockstore.db").exists()


def assert_no_commits(cluster: Cluster, nodes: list[int]) -> int:
    """Check that the given nodes stop committing: once no block came for QUIET_S, none comes for FROZEN_S more.

    A block whose precommits were gathered before the fault may still commit just after it; then nothing may,
    neither in CometBFT's block store nor in any app's SQLite file. Return the height they stopped at.
    """
    def heights() -> tuple:
        engine = cluster.heights()
        return tuple(engine[i] for i in nodes) + tuple(stored_height(cluster.nodes[i]) for i in nodes)

    seen, since = heights(), time.monotonic()
    deadline = since + 30
    while time.monotonic() - since < QUIET_S:
        assert time.monotonic() < deadline, f"nodes {nodes} kept committing: {heights()}"
        time.sleep(0.2)
        if (now := heights()) != seen:
            seen, since = now, time.monotonic()
    frozen_until = time.monotonic() + FROZEN_S
    while time.monotonic() < frozen_until:
        assert heights() == seen, f"nodes {nodes} committed after stopping: {seen} -> {heights()}"
        time.sleep(0.25)
    return max(h for h in seen if h is not None)


def assert_whole_and_agreed(cluster: Cluster, load: Load) -> None:
    """Check every node at one height has one block hash and app hash, and every acknowledged tx is everywhere."""
    assert load.acknowledged, f"no transaction was acknowledged: {dict(load.outcomes)}"
    height = settle(cluster)
    assert_every_node_agrees(cluster, height)
    assert_acknowledged_everywhere(cluster, load.acknowledged)


def civichain_status(cluster: Cluster, whole: bool = False):
    """Run `civichain status NET --json`, as an operator would, and return its node rows (or everything)."""
    run = subprocess.run([sys.executable, "-m", "civichain", "status", str(cluster.network.root), "--json"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    shown = json.loads(run.stdout)
    return shown if whole else shown["nodes"]


@contextmanager
def running_load(cluster: Cluster, accounts: list[tuple[Signer, int]]) -> Iterator[Load]:
    """Run the acknowledged load (`chaos.load`) from `accounts`, each through its node's API, until the block ends.

    Each account sends a few notary anchors, waits for the last one's commit and asks which were committed:
    those are acknowledged. About 50-100 tx/s in all: modest on two shared cores.
    """
    load = Load(cluster.network, accounts)
    load.start()
    try:
        wait_for_acknowledgements(load, 8, timeout=60)
        yield load
    finally:
        load.stop()


def _engine_home(node: NodeProcesses) -> Path:
    return node.config.resolve(node.home, node.config.cometbft.home)


def _key_files(node: NodeProcesses) -> dict[str, bytes]:
    config = _engine_home(node) / "config"
    return {name: (config / name).read_bytes() for name in ("node_key.json", "priv_validator_key.json")}


def test_after_the_faults_every_node_replays_to_the_same_app_hashes(net):
    """`civichain replay` of every node once all the faults above ran: re-executed from genesis in a fresh app,
    every app hash, log and state root and receipt equals what the node computed (runs last in this file)."""
    from civichain.audit.determinism import replay_store

    for node in net.cluster.network.nodes:
        report = replay_store(node.home / "data" / "civichain.db", workers=1)
        assert report.heights > 0
