"""`civichain chaos`: a randomised fault run on a real 4-validator network, replayable from its seed.

`run_chaos(seed, duration)` writes a network folder (a temporary one unless `root` is given) on free loopback
ports, routes every peer link through a `PartitionProxy`, starts every node and the acknowledged load, and
carries out `schedule(seed, duration)`: SIGKILLs, restarts, partitions, heals and quiet periods. Then it heals
every link, restarts whatever is down, and checks:
1. commits resume: within RESUME_BOUND_S of healing every node is past the highest height any node had, and
   the load has new acknowledged transactions;
2. every node has the same block hash and app hash at a common height, and its app's whole history matches
   the signed headers;
3. every transaction acknowledged as committed is committed, at the same height, on every node;
4. no CometBFT failed but for a killed app, no process is left running, and `replay_store` of every node's
   database re-executes it from genesis to the same hashes (determinism).
It always stops every process and the proxy. A failure raises `ChaosFailure`, whose message names the seed and
the command that replays the same schedule.
"""

from __future__ import annotations

import signal
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import httpx

from civichain.audit import AuditError
from civichain.audit.determinism import replay_store
from civichain.chaos.checks import (
    CheckFailed, Cluster, assert_acknowledged_everywhere, assert_every_node_agrees, assert_no_consensus_failure,
    assert_nothing_left_running, settle, wait_until,
)
from civichain.chaos.load import Load, register_bench_accounts, wait_for_acknowledgements
from civichain.chaos.proxy import ChaosError, Link, PartitionProxy, ProxyThread
from civichain.chaos.schedule import Step, schedule
from civichain.chaos.topology import peer_links, route_through_proxy
from civichain.engine import find_cometbft
from civichain.errors import CivicError
from civichain.node.network import Network, free_base_port, init_network
from civichain.node.supervisor import NodeProcesses, StartError

Report = Callable[[str], None]
NODES = 4
TIMEOUT_COMMIT = "250ms"
RESUME_BOUND_S = 30.0        # after healing, the network must commit again within this
START_TIMEOUT_S = 60.0       # for a process to listen; generous, the machine is shared


@dataclass
class ChaosReport:
    """What a chaos run did and found."""

    seed: int
    duration: float
    steps: int = 0
    acknowledged: int = 0
    final_height: int = 0
    resumed_after_s: float = 0.0
    replayed_heights: int = 0
    seconds: float = 0.0
    outcomes: Counter = field(default_factory=Counter)    # how the load's batches ended

    def facts(self) -> dict:
        """Return the figures as plain values, for printing or JSON."""
        return {"ok": True, "seed": self.seed, "duration": self.duration, "steps": self.steps,
                "acknowledged": self.acknowledged, "final_height": self.final_height,
                "resumed_after_s": round(self.resumed_after_s, 1), "replayed_heights": self.replayed_heights,
                "seconds": round(self.seconds, 1), "batches": dict(self.outcomes),
                "replay": replay_command(self.seed, self.duration)}


class ChaosFailure(ChaosError):
    """A chaos run that failed: a check that did not hold (`check_failed`) or a runtime error, and its seed."""

    def __init__(self, seed: int, duration: float, cause: Exception) -> None:
        self.seed, self.duration, self.cause = seed, duration, cause
        self.replay = replay_command(seed, duration)
        if isinstance(cause, CivicError):
            code, where, got, expected = cause.code, cause.where, cause.got, cause.expected
        else:
            code, where, got = "chaos.run_failed", "the run", f"{type(cause).__name__}: {cause}"
            expected = "a run without errors"
        super().__init__(code, where=f"chaos seed {seed}: {where}", got=got,
                         expected=f"{expected}; replay this schedule with: {self.replay}")

    @property
    def check_failed(self) -> bool:
        """Whether a check found a problem (rather than the run failing to run)."""
        return isinstance(self.cause, CheckFailed)


def replay_command(seed: int, duration: float) -> str:
    """Return the command that runs the same schedule again."""
    return f"civichain chaos --seed {seed} --duration {duration:g}"


def run_chaos(seed: int, duration: float, root: Path | None = None, report: Report = print) -> ChaosReport:
    """Run the chaos schedule `seed` for `duration` s on a fresh network in `root` (default: a temporary folder).

    `root` must be new or empty (`config.exists`) and is kept. Raises `ChaosFailure` when anything fails after
    the network folder is written; every process and the proxy are stopped in any case.
    """
    steps = schedule(seed, duration, NODES)
    report(f"chaos seed {seed}: {duration:g} s, {len(steps)} steps; replay with: {replay_command(seed, duration)}")
    with tempfile.TemporaryDirectory(prefix="civichain-chaos-") as tmp:
        folder = root.absolute() if root is not None else Path(tmp) / "net"   # node commands name it
        network = init_network(folder, validators=NODES, binary=find_cometbft(), base_port=free_base_port(NODES),
                               timeout_commit=TIMEOUT_COMMIT, chain_id=f"chaos-{seed}")
        try:
            return _run(ChaosReport(seed, duration, steps=len(steps)), steps, network, report)
        except Exception as exc:
            raise ChaosFailure(seed, duration, exc) from exc


def _run(result: ChaosReport, steps: list[Step], network: Network, report: Report) -> ChaosReport:
    started = time.monotonic()
    proxy = ProxyThread(PartitionProxy(peer_links(network)))
    nodes: list[NodeProcesses] = []
    try:
        proxy.start()
        route_through_proxy(network, proxy.proxy.addresses())
        nodes = [NodeProcesses.of(entry.home) for entry in network.nodes]
        _start(nodes)
        with httpx.Client(timeout=2) as http:
            cluster = Cluster(network, nodes, http)
            cluster.wait_for_height(2, timeout=START_TIMEOUT_S)
            _drive(cluster, proxy, steps, result, report)
    finally:
        _stop(nodes, proxy)
    assert_nothing_left_running(network.root)
    result.replayed_heights = min(_replay(entry.name, node, report) for entry, node in zip(network.nodes, nodes))
    result.seconds = time.monotonic() - started
    return result


def _replay(name: str, node: NodeProcesses, report: Report) -> int:
    """Re-execute a stopped node's database from genesis; return its height. Raises CheckFailed at a difference."""
    try:
        replayed = replay_store(node.config.resolve(node.home, node.config.storage.path), workers=0)
    except AuditError as exc:
        raise CheckFailed(exc.code, where=f"replay of {name}: {exc.where}", got=exc.got,
                          expected=exc.expected) from None
    report(f"replayed {name}: {replayed.heights} blocks, {replayed.transactions} transactions, every hash equal")
    return replayed.heights


def _drive(cluster: Cluster, proxy: ProxyThread, steps: list[Step], result: ChaosReport, report: Report) -> None:
    """Run the load through the schedule, heal, and check that commits resume and every node agrees."""
    load = Load(cluster.network, register_bench_accounts(cluster.network), tag="chaos")
    load.start()
    try:
        wait_for_acknowledgements(load, 8, timeout=START_TIMEOUT_S)
        drill = _Drill(cluster, proxy)
        began = time.monotonic()
        for step in steps:
            time.sleep(max(0.0, began + step.at_s - time.monotonic()))
            report(f"  {time.monotonic() - began:6.1f} s  {step}")
            drill.apply(step)
        report(f"  {time.monotonic() - began:6.1f} s  heal and restart anything still down; "
               f"{len(load.acknowledged)} acknowledged so far")
        result.resumed_after_s = _heal_and_resume(cluster, drill, load)
        report(f"commits resumed {result.resumed_after_s:.1f} s after healing")
    finally:
        load.stop()
    try:
        height = settle(cluster)
    except TimeoutError as exc:
        raise CheckFailed("chaos.not_settled", where="every node", got=str(exc),
                          expected="every node at the highest height within 60 s") from None
    assert_every_node_agrees(cluster, height)
    assert_acknowledged_everywhere(cluster, load.acknowledged)
    assert_no_consensus_failure(cluster.nodes)
    result.final_height, result.acknowledged, result.outcomes = height, len(load.acknowledged), load.outcomes
    report(f"every node agrees at height {height}; all {len(load.acknowledged)} acknowledged transactions "
           "are on every node")


def _heal_and_resume(cluster: Cluster, drill: "_Drill", load: Load) -> float:
    """Heal every link and restart every node; return the seconds until commits resumed.

    Raises `chaos.no_commits_after_heal` past RESUME_BOUND_S.
    """
    healed_at = time.monotonic()
    drill.restore()
    before = max((h for h in cluster.heights() if h is not None), default=0)
    acknowledged = len(load.acknowledged)

    def resumed() -> bool:
        heights = cluster.heights()
        return all(h is not None and h > before for h in heights) and len(load.acknowledged) > acknowledged

    if not wait_until(resumed, RESUME_BOUND_S - (time.monotonic() - healed_at), interval=0.2):
        raise CheckFailed("chaos.no_commits_after_heal", where=f"{RESUME_BOUND_S:.0f} s after healing",
                          got=f"heights {cluster.heights()}, {len(load.acknowledged) - acknowledged} new "
                          "acknowledged transactions",
                          expected=f"every node past height {before} and new transactions acknowledged")
    return time.monotonic() - healed_at


class _Drill:
    """Carries out schedule steps on the running network; remembers which links it cut."""

    def __init__(self, cluster: Cluster, proxy: ProxyThread) -> None:
        self.cluster, self.proxy = cluster, proxy
        self.cut: list[Link] = []

    def apply(self, step: Step) -> None:
        """Carry out one step. Raises `chaos.restart_failed` when a node does not come back."""
        if step.action == "kill":
            node = self.cluster.nodes[step.nodes[0]]
            for role in step.roles:
                node.kill(role, signal.SIGKILL)
        elif step.action == "restart":
            self._recover(step.nodes[0])
        elif step.action == "partition":
            side = {self.cluster.network.nodes[i].name for i in step.nodes}
            crossing = [link for link in self.proxy.proxy.links() if (link.source in side) != (link.target in side)]
            for link in crossing:
                self.proxy.cut(link, blackhole=step.blackhole)
            self.cut.extend(crossing)
        elif step.action == "heal":
            self._heal()

    def restore(self) -> None:
        """Heal every cut link and bring back every process that is not running."""
        self._heal()
        for index in range(len(self.cluster.nodes)):
            self._recover(index)

    def _heal(self) -> None:
        for link in self.cut:
            self.proxy.heal(link)
        self.cut = []

    def _recover(self, index: int) -> None:
        try:
            self.cluster.nodes[index].recover(timeout=START_TIMEOUT_S)
        except StartError as exc:
            raise CheckFailed("chaos.restart_failed", where=f"node{index}", got=str(exc)[-600:],
                              expected="the node's processes back up after the kill") from None


def _start(nodes: list[NodeProcesses]) -> None:
    """Start every app, then every CometBFT and API (CometBFT's handshake needs its app listening)."""
    for node in nodes:
        node.start(("app",), timeout=START_TIMEOUT_S)
    for node in nodes:
        node.start(("cometbft", "api"), timeout=START_TIMEOUT_S)


def _stop(nodes: list[NodeProcesses], proxy: ProxyThread) -> None:
    """Stop every node, then the proxy; go on through all of them even when one fails to stop."""
    failures = []
    for node in nodes:
        try:
            node.stop()
        except Exception as exc:   # noqa: BLE001 - the others must be stopped too; reported below
            failures.append(exc)
    proxy.close()
    if failures:
        raise failures[0]
