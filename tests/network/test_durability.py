"""Durability under SIGKILL: a node whose app, CometBFT or both die at any moment restarts, replays what it
lacks through the ABCI handshake, and ends on its peers' app hash, with nothing acknowledged lost.

Acknowledged means a node's API answered `committed`: the transaction was in that node's fsynced SQLite file.
Every acknowledged transaction must afterwards be committed, at the same height, on every node. A transaction
in flight when a node died may be lost; that is allowed, and the load reads the account's next nonce from the
chain and goes on. The load and the end checks are `civichain.chaos.load` and `civichain.chaos.checks`, which
the fault tests and `civichain chaos` share.

The kill schedule comes from a seeded generator whose seed is printed first; set CIVICHAIN_DURABILITY_SEED to
run a schedule again. The load runs against real processes, so a rerun kills at the same kind of moment (after
a block is saved, after the app's Commit, during catch-up, at a random time), not at the same millisecond.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import httpx
import pytest

from civichain.chaos.checks import (
    Cluster, assert_acknowledged_everywhere, assert_every_node_agrees, assert_no_consensus_failure,
    assert_nothing_left_running, rpc_height, settle, stored_height, wait_caught_up, wait_until,
)
from civichain.chaos.load import Load, register_bench_accounts, wait_for_acknowledgements
from civichain.node.network import Network
from civichain.node.supervisor import NodeProcesses
from tests.network.netutil import running_network

pytestmark = pytest.mark.network

SEED_VARIABLE = "CIVICHAIN_DURABILITY_SEED"
ROUNDS = 12
KILL_TARGETS = ("app", "cometbft", "both")
MOMENTS = ("any", "after_block_saved", "after_app_commit", "while_catching_up")


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
        assert_acknowledged_everywhere(cluster, load.acknowledged)
        assert_restarts_went_through_the_handshake(cluster.nodes, restarts)
        assert_no_consensus_failure(cluster.nodes)
        assert len(load.acknowledged) > 100, f"too little load to prove anything: {dict(load.outcomes)}"
    assert_nothing_left_running(root)
    assert_replay_agrees(cluster.network)
    print(f"  seed {seed}: {ROUNDS} rounds, common height {height}, {time.monotonic() - started:.0f} s")


def assert_replay_agrees(network: Network) -> None:
    """`civichain replay` of every node, after all those kills: re-executed from genesis, every app hash equal."""
    for node in network.nodes:
        run = subprocess.run([sys.executable, "-m", "civichain", "replay", str(node.home), "--json"],
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, f"replay of {node.name}: {run.stdout}\n{run.stderr}"
        assert json.loads(run.stdout)["ok"] is True


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
            # While catching up blocks come within milliseconds, so the app may finish one more block (or the
            # FinalizeBlock of one more, without its Commit) between the poll and the kill; any of these is a
            # crash at a block boundary, which is what this drill needs.
            assert on_disk is not None and seen <= on_disk <= seen + 5, f"app at {on_disk} after seeing {seen}"
            assert others >= on_disk + 3, "the node had already caught up: it was not behind"
            restart(node)
            wait_caught_up(cluster, victim)
        finally:
            load.stop()
        height = settle(cluster)
        assert_every_node_agrees(cluster, height)
        assert_acknowledged_everywhere(cluster, load.acknowledged)
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
        return wait_for_change(lambda: rpc_height(cluster.http, rpc_url))
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


def _seed() -> int:
    chosen = os.environ.get(SEED_VARIABLE)
    return int(chosen) if chosen else random.SystemRandom().randrange(2**32)


# --- the checks this test adds ------------------------------------------------------------------------------

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
