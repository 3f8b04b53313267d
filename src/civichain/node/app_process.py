"""The app process of a node: the ledger behind an ABCI socket, for the node's CometBFT to connect to."""

from __future__ import annotations

import asyncio
import gc
import signal
from pathlib import Path

import structlog
import uvloop

from civichain.abci.app import AbciApplication
from civichain.abci.server import AbciServer
from civichain.ledger import Ledger
from civichain.node.config import NodeConfig
from civichain.store import Store

log = structlog.get_logger("civichain.node")


def run_app(home: Path, config: NodeConfig) -> None:
    """Open the store, start the ABCI server and serve until SIGTERM or SIGINT."""
    store = Store(config.resolve(home, config.storage.path))
    ledger = Ledger(store, keep_versions=config.storage.state_keep_versions, max_block_txs=config.proposal.max_txs)
    height, app_hash = ledger.info()
    # The app keeps large caches of long-lived objects; frequent full collections would scan them all for
    # nothing (there are no reference cycles to find among them), so collect far less often.
    gc.freeze()
    gc.set_threshold(50_000, 50, 1000)
    log.info("app.starting", node=config.node.name, height=height, app_hash=app_hash.hex(), abci=config.abci_address)
    uvloop.run(_serve(AbciServer(AbciApplication(ledger), config.abci_address)))
    store.close()
    log.info("app.stopped", node=config.node.name)


async def _serve(server: AbciServer) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    await stop.wait()
    await server.close()
