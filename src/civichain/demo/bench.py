"""Seeding the demo data set on a fresh local network, timed; and how long its largest blocks took to apply.

The blocks come from node0's own log (`block.committed`: transactions, FinalizeBlock and Commit times), so
the figures are those of a real validator on a machine it shares with the other validators. They are shown
as measured, not scaled: the demo's blocks are smaller and differently mixed than issue 4's block of 2,000
land and funds transactions, which `bench/block.py` measures.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Callable

from civichain.demo.seed import seed_demo
from civichain.engine import find_cometbft
from civichain.node.network import free_base_port, init_network
from civichain.node.supervisor import NodeProcesses

Report = Callable[[str], None]


def run_seed_bench(*, validators: int = 4, scale: float = 1.0, report: Report = print) -> dict:
    """Start a network of `validators` (ten departments), seed the demo set, return the figures."""
    with tempfile.TemporaryDirectory(prefix="civichain-bench-demo-") as tmp:
        network = init_network(Path(tmp) / "net", validators=validators, binary=find_cometbft(), organisations=10,
                               base_port=free_base_port(validators), chain_id="demo-bench")
        nodes = [NodeProcesses.of(n.home) for n in network.nodes]
        try:
            for node in nodes:
                node.start(("app",))
            for node in nodes:
                node.start(("cometbft", "api"))
            _wait_for_blocks(network.nodes[0].rpc_url)
            figures = seed_demo(network, scale=scale, report=report)
        finally:
            for node in nodes:
                node.stop()
        blocks = _largest_blocks(network.nodes[0].home / "logs" / "app.log")
    return {"validators": validators, "scale": scale, "seed_seconds": figures["seconds"],
            "transactions": figures["transactions"], "ok": figures["ok"], "largest_blocks": blocks}


def _wait_for_blocks(rpc_url: str, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if int(httpx.get(f"{rpc_url}/status", timeout=2).json()["result"]["sync_info"]["latest_block_height"]) >= 2:
                return
        except (httpx.HTTPError, KeyError, ValueError):
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{rpc_url}: no block within {timeout:.0f} s")


def _largest_blocks(log: Path, count: int = 4) -> list[dict]:
    rows = []
    for line in log.read_text(errors="replace").splitlines():
        if '"block.committed"' in line:
            event = json.loads(line)
            # FinalizeBlock: execution and the new state root; Commit: the durable write.
            rows.append({"height": event["height"], "txs": event["txs"], "finalize_ms": event["finalize_ms"],
                         "commit_ms": event["commit_ms"]})
    return sorted(rows, key=lambda r: -r["txs"])[:count]
