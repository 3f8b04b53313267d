"""A node whose CometBFT is handed another chain's genesis is refused at start, naming the file and both chains."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import httpx
import pytest

from civichain.engine import find_cometbft
from civichain.node.network import free_base_port, init_network
from civichain.node.supervisor import NodeProcesses

pytestmark = pytest.mark.network


def start_app(home):
    return subprocess.run([sys.executable, "-m", "civichain", "node", "app", "--home", str(home)],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "300"})


def test_another_chains_genesis_is_refused_and_the_database_is_untouched(tmp_path):
    ours = init_network(tmp_path / "ours", validators=1, binary=find_cometbft(), base_port=free_base_port(1),
                        chain_id="our-chain")
    theirs = init_network(tmp_path / "theirs", validators=1, binary=find_cometbft(),
                          base_port=free_base_port(1), chain_id="their-chain")
    home = ours.nodes[0].home
    node = NodeProcesses.of(home)
    try:
        node.start(("app", "cometbft"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = httpx.get(f"{ours.nodes[0].rpc_url}/status", timeout=5).json()
            if int(status["result"]["sync_info"]["latest_block_height"]) >= 2:
                break
            time.sleep(0.2)
    finally:
        node.stop()
    database = home / "data" / "civichain.db"
    before = database.read_bytes()
    genesis = home / "cometbft" / "config" / "genesis.json"
    original = genesis.read_text()
    shutil.copy(theirs.nodes[0].home / "cometbft" / "config" / "genesis.json", genesis)
    run = start_app(home)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "genesis.other_chain" in run.stderr and "their-chain" in run.stderr and "our-chain" in run.stderr
    # Same chain id, different application genesis: refused too.
    document = json.loads(original)
    document["app_state"]["organisations"] = document["app_state"]["organisations"][:0]
    genesis.write_text(json.dumps(document))
    run = start_app(home)
    assert run.returncode == 2 and "genesis.other_chain" in run.stderr and "app_state" in run.stderr, run.stderr
    assert database.read_bytes() == before
