"""The app process of a node: the ledger behind an ABCI socket, for the node's CometBFT to connect to."""

from __future__ import annotations

import asyncio
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
    ledger = Ledger(store, keep_versions=config.storage.state_keep_versions)
    height, app_hash = ledger.info()
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
