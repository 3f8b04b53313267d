"""`civichain bench ledger` and `civichain bench network`: committed tx/s and commit latency on real networks.

Each run makes a fresh network folder in a temporary directory on free loopback ports, starts real CometBFT
and app processes, registers bench accounts, pre-signs the load, submits it, watches the commits on one node,
and stops everything. With `with_kvstore`, the same configuration and load shape are then run against
CometBFT's built-in kvstore application: the engine's own ceiling on this machine.
"""

from __future__ import annotations

import asyncio
import threading
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Callable

import psutil
import tomli_w

from civichain.audit.chainfile import export_chain
from civichain.audit.replay import verify_chain_file
from civichain.bench.load import (
    Observation,
    anchor_txs,
    bench_signers,
    interleave,
    registration_txs,
    submit,
    summary,
    wait_all_committed,
    watch_commits,
)
from civichain.client.sample import load_signer
from civichain.engine import EngineError, find_cometbft
from civichain.engine.rpc import CometRpc
from civichain.node.network import Network, free_base_port, init_network
from civichain.node.supervisor import NodeProcesses
from civichain.store import Store

Report = Callable[[str], None]
IN_FLIGHT = 12_000   # transactions submitted and not yet committed, over all the load's clients


def run_bench(*, validators: int, total: int, rate: float | None, accounts_per_node: int = 50,
              timeout_commit: str = "300ms", report: Report = print, keep: Path | None = None,
              verify: bool = False, down: int = 0, signature_workers: int | str | None = None) -> dict:
    """Run civichain under load; return the figures (with `verify`, also export the chain and time its audit).

    `down` validators (the last ones) are stopped before the load starts; the load goes to the others.
    `signature_workers` overrides what `civichain init` chose for each node's app (node.toml [abci]).
    """
    if not 0 <= down < validators:
        raise ValueError(f"down must be from 0 to {validators - 1}")
    with tempfile.TemporaryDirectory(prefix="civichain-bench-") as tmp:
        root = keep or Path(tmp) / "net"
        network = init_network(root, validators=validators, binary=find_cometbft(), timeout_commit=timeout_commit,
                               base_port=free_base_port(validators), chain_id="bench")
        if signature_workers is not None:
            for entry in network.nodes:
                set_signature_workers(entry.home, signature_workers)
        nodes = [NodeProcesses.of(n.home) for n in network.nodes]
        try:
            _start(nodes)
            streams = _prepare_accounts(network, accounts_per_node, total, report)
            if down:
                live = validators - down
                for node in nodes[live:]:
                    node.stop()
                for i, stream in enumerate(streams[live:]):
                    streams[i % live] = interleave([streams[i % live], stream])
                streams = streams[:live]
                report(f"stopped {down} of {validators} validators; the load goes to the other {live}")
            report(f"submitting {total} pre-signed transactions to {len(streams)} node(s)"
                   + (f" at {rate:.0f} tx/s" if rate else " as fast as they are accepted"))
            sampler = MemorySampler(nodes[0].procs["app"].pid)
            sampler.start()
            cpu_before = _cpu_seconds(nodes)
            observation = asyncio.run(_drive(network, streams, rate, total))
            cpu_after = _cpu_seconds(nodes)
            sampler.stop()
            result = summary(observation)
            result["validators"] = validators
            result["validators_down"] = down
            result.update(sampler.figures())
            result.update({f"cpu_s_{role}": round(cpu_after[role] - cpu_before[role], 1) for role in cpu_after})
            if verify:
                result.update(_time_verify(network, keep or Path(tmp), report))
            return result
        finally:
            for node in nodes:
                node.stop()


def _cpu_seconds(nodes: list[NodeProcesses]) -> dict[str, float]:
    """CPU seconds used so far by the nodes' app processes, their signature workers, their CometBFT processes,
    and this process."""
    totals = {"apps": 0.0, "signature_workers": 0.0, "cometbft": 0.0}
    for node in nodes:
        for role, key in (("app", "apps"), ("cometbft", "cometbft")):
            if not node.running(role):
                continue   # a validator stopped on purpose (bench network --down)
            process = psutil.Process(node.procs[role].pid)
            times = process.cpu_times()
            totals[key] += times.user + times.system
            if role == "app":
                for worker in process.children():
                    try:
                        worker_times = worker.cpu_times()
                    except psutil.Error:
                        continue
                    totals["signature_workers"] += worker_times.user + worker_times.system
    own = psutil.Process().cpu_times()
    totals["load_generator"] = own.user + own.system
    return totals


class MemorySampler:
    """Samples the resident memory of a process every few seconds, in a background thread."""

    def __init__(self, pid: int, every: float = 2.0) -> None:
        self._process, self._every = psutil.Process(pid), every
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append(self._process.memory_info().rss)
            except psutil.Error:
                return
            self._stop.wait(self._every)

    def figures(self) -> dict:
        """RSS of node0's app (MiB) at 10, 25, 50, 75 and 100 % of the run, and its peak."""
        if not self.samples:
            return {}
        mib = [s / 1_048_576 for s in self.samples]
        curve = {f"{p}%": round(mib[min(len(mib) - 1, len(mib) * p // 100)], 1) for p in (10, 25, 50, 75, 100)}
        return {"app_rss_mib_by_progress": curve, "app_rss_mib_peak": round(max(mib), 1)}


def _time_verify(network: Network, tmp: Path, report: Report) -> dict:
    """Export node0's chain, then audit it with `civichain verify`'s code; return its speed."""
    _wait_height(network, _height(network.nodes[0].rpc_url) + 2)
    path = tmp / "chain.cvc"
    started = time.monotonic()
    export_chain(Store(network.nodes[0].home / "data" / "civichain.db", readonly=True), network.nodes[0].rpc_url, path)
    exported = time.monotonic() - started
    report(f"exported the chain in {exported:.1f} s; verifying")
    audit = verify_chain_file(path)
    return {"verify_transactions": audit.transactions, "verify_seconds": round(audit.seconds, 2),
            "verify_tx_per_s": round(audit.tx_per_second(), 1), "export_seconds": round(exported, 1)}


def run_kvstore_bench(*, validators: int, total: int, rate: float | None, timeout_commit: str = "300ms",
                      tx_size: int = 300, report: Report = print) -> dict:
    """Run CometBFT's built-in kvstore on the same configuration and load; return the figures."""
    with tempfile.TemporaryDirectory(prefix="civichain-kvstore-") as tmp:
        network = init_network(Path(tmp) / "net", validators=validators, binary=find_cometbft(),
                               base_port=free_base_port(validators), timeout_commit=timeout_commit, chain_id="kvstore")
        nodes = [NodeProcesses.of(n.home) for n in network.nodes]
        for node in nodes:
            _use_builtin_kvstore(node.home / "cometbft" / "config" / "config.toml")
        try:
            for node in nodes:
                node.start(("cometbft",))
            _wait_height(network, 2)
            per_node = [[f"k{n}-{i:09d}=".encode().ljust(tx_size, b"v") for i in range(total // validators)]
                        for n in range(validators)]
            report(f"kvstore: submitting {sum(map(len, per_node))} transactions")
            observation = asyncio.run(_drive(network, per_node, rate, sum(map(len, per_node)), receipts=False))
            result = summary(observation)
            result["validators"] = validators
            return result
        finally:
            for node in nodes:
                node.stop()


def _start(nodes: list[NodeProcesses]) -> None:
    for node in nodes:
        node.start(("app",))
    for node in nodes:
        node.start(("cometbft",))
    _wait_height_nodes(nodes, 2)


def _prepare_accounts(network: Network, accounts_per_node: int, total: int, report: Report) -> list[list[bytes]]:
    """Register bench accounts (one block per department) and pre-sign each node's stream of anchors."""
    expires = _height(network.nodes[0].rpc_url) + 100_000
    per_account = max(1, total // (accounts_per_node * len(network.nodes)))
    streams, registrations = [], []
    started = time.monotonic()
    for node in network.nodes:
        admin = load_signer(network.root, f"{node.organisation}/admin")
        signers = bench_signers(node.organisation, accounts_per_node)
        registrations.append((node, registration_txs(network.chain_id, admin, signers, 0, expires)))
        streams.append(interleave([anchor_txs(network.chain_id, s, per_account, 0, expires, tag="bench")
                                   for s in signers]))
    report(f"pre-signed {sum(map(len, streams))} transactions in {time.monotonic() - started:.1f} s")
    asyncio.run(_drive(network, [txs for _, txs in registrations], None, sum(len(t) for _, t in registrations)))
    return streams


async def _drive(network: Network, streams: list[list[bytes]], rate: float | None, expected: int,
                 receipts: bool = True) -> Observation:
    observation = Observation()
    stop = asyncio.Event()
    start_height = _height(network.nodes[0].rpc_url)
    watcher = asyncio.create_task(watch_commits(network.nodes[0].rpc_url, observation, stop, start_height, receipts))
    per_node_rate = rate / len(streams) if rate else None
    in_flight = max(1000, IN_FLIGHT // len(streams))
    await asyncio.gather(*(submit(node.rpc_url, txs, observation, per_node_rate, max_in_flight=in_flight)
                           for node, txs in zip(network.nodes, streams)))
    # Transactions a node refused at submission (its mempool full, say) never commit: do not wait for them.
    await wait_all_committed(observation, expected - observation.refused_at_submit, timeout=max(60.0, expected / 200))
    stop.set()
    await watcher
    return observation


def _use_builtin_kvstore(config_path: Path) -> None:
    config = tomllib.loads(config_path.read_text())
    config["proxy_app"] = "kvstore"
    config_path.write_text(tomli_w.dumps(config))


def _wait_height(network: Network, height: int, timeout: float = 60) -> None:
    _wait_urls([n.rpc_url for n in network.nodes], height, timeout)


def _wait_height_nodes(nodes: list[NodeProcesses], height: int, timeout: float = 60) -> None:
    _wait_urls([n.config.rpc_url for n in nodes], height, timeout)


def _wait_urls(urls: list[str], height: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(_height(url) >= height for url in urls):
            return
        time.sleep(0.2)
    raise TimeoutError(f"the nodes did not reach height {height} within {timeout:.0f} s")


def _height(url: str) -> int:
    rpc = CometRpc(url, timeout=2)
    try:
        return int(rpc.status()["sync_info"]["latest_block_height"])
    except EngineError:   # still starting: its RPC does not answer yet
        return -1
    finally:
        rpc.close()


def set_signature_workers(home: Path, workers: int | str) -> None:
    """Set `[abci] signature_workers` in a node's node.toml (checked when the node loads it)."""
    path = home / "node.toml"
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    config["abci"]["signature_workers"] = workers
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
