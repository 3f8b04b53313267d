"""The app process of a node: the ledger behind an ABCI socket, for the node's CometBFT to connect to."""

from __future__ import annotations

import asyncio
import gc
import json
import signal
from pathlib import Path

import structlog
import uvloop

from civichain.abci.server import AbciServer
from civichain.crypto.workers import VerifierPool
from civichain.ledger import Ledger
from civichain.node.config import ConfigError, NodeConfig
from civichain.node.metrics import AppMetrics, InstrumentedApplication
from civichain.store import Store

log = structlog.get_logger("civichain.node")


def run_app(home: Path, config: NodeConfig) -> None:
    """Open the store, start the ABCI server and serve until SIGTERM or SIGINT."""
    store = Store(config.resolve(home, config.storage.path))
    try:
        check_same_chain(store, config.resolve(home, config.cometbft.home) / "config" / "genesis.json")
    except BaseException:
        store.close()
        raise
    ledger = Ledger(store, keep_versions=config.storage.state_keep_versions, max_block_txs=config.proposal.max_txs)
    height, app_hash = ledger.info()
    # The app keeps large caches of long-lived objects; frequent full collections would scan them all for
    # nothing (there are no reference cycles to find among them), so collect far less often.
    gc.freeze()
    gc.set_threshold(50_000, 50, 1000)
    log.info("app.starting", node=config.node.name, height=height, app_hash=app_hash.hex(), abci=config.abci_address)
    # The workers fork here, before the metrics thread and the event loop exist.
    workers = config.abci.workers()
    verifiers = VerifierPool(workers) if workers else None
    metrics = AppMetrics()
    if config.metrics is not None:
        metrics.serve(config.metrics.host, config.metrics.port)
        log.info("app.metrics", url=f"http://{config.metrics.host}:{config.metrics.port}/metrics")
    # uvloop here (not in the API, see api/server.py): its few connections live as long as CometBFT, and in a
    # 4-validator run at 750 tx/s the standard loop cost 6 % more app CPU (p50 latency 2.4 s against 1.5 s).
    try:
        uvloop.run(_serve(AbciServer(InstrumentedApplication(ledger, metrics, verifiers), config.abci_address)))
    finally:
        if verifiers is not None:
            verifiers.close()
        store.close()
    log.info("app.stopped", node=config.node.name)


def check_same_chain(store: Store, genesis_path: Path) -> None:
    """Refuse to serve a CometBFT whose genesis is another chain's than the one this database holds.

    Raises `genesis.unreadable` or `genesis.other_chain` (naming the file, what it says and what the
    database holds); a new, empty database accepts any genesis (InitChain checks it).
    """
    stored_chain, stored_state = store.meta("chain_id"), store.meta("app_genesis")
    if stored_chain is None:
        return
    try:
        document = json.loads(genesis_path.read_text(encoding="utf-8"))
        chain_id = document["chain_id"]
        app_state = json.dumps(document.get("app_state", {}), ensure_ascii=False, separators=(",", ":")).encode()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError("genesis.unreadable", where=str(genesis_path), got=str(exc)[:200],
                          expected="CometBFT's genesis.json of this node's chain") from None
    if chain_id != stored_chain.decode():
        raise ConfigError("genesis.other_chain", where=f"{genesis_path}: chain_id", got=chain_id,
                          expected=f"{stored_chain.decode()}, the chain this node's database holds "
                          f"({store.path}); use that chain's genesis, or a new data folder for the other chain")
    if json.loads(app_state) != json.loads(stored_state):
        raise ConfigError("genesis.other_chain", where=f"{genesis_path}: app_state", got="a different application genesis",
                          expected=f"the application genesis chain {chain_id} started with, as stored in {store.path}")


async def _serve(server: AbciServer) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    await stop.wait()
    await server.close()
