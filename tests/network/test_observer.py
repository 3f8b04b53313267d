"""An observer (an auditor, a newspaper) joins a running network: `civichain join` writes its node from a
validator's API, governance admits its node id, and it syncs, re-executes every block and serves the same
read API, without ever voting."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time

import httpx
import pytest

from civichain.client.sample import load_signer
from civichain.client.tx import build_body, sign
from civichain.modules.notary import Anchor
from civichain.node.supervisor import NodeProcesses
from tests.network.netutil import app_hash_at, running_network

pytestmark = pytest.mark.network


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "civichain", *args], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "COLUMNS": "250"})
    if check and run.returncode != 0:
        raise AssertionError(f"civichain {' '.join(args)} exited {run.returncode}:\n{run.stdout}\n{run.stderr}")
    return run


def height_of(rpc_url: str) -> int:
    return int(httpx.get(f"{rpc_url}/status", timeout=5).json()["result"]["sync_info"]["latest_block_height"])


def test_an_observer_joins_is_admitted_by_governance_syncs_and_serves_proofs(tmp_path):
    with running_network(tmp_path / "net") as (network, _):
        api0 = network.nodes[0].api_url
        signer = load_signer(network.root, "notary-office/admin")
        digest = hashlib.sha256(b"published budget 2026").digest()
        body = build_body(network.chain_id, signer.account, 0, 10_000, "notary", "anchor",
                          Anchor(digest=digest, title="2026年预算 / Budget 2026"))
        assert httpx.post(f"{api0}/v1/txs", params={"wait": "true"}, json={"tx": sign(body, signer).hex()},
                          timeout=30).status_code == 200

        bad = cli("join", "--from", "http://127.0.0.1:9", "--out", str(tmp_path / "nowhere"), "--name", "x", check=False)
        assert bad.returncode == 2 and "config.unreachable" in bad.stderr
        joined = json.loads(cli("join", "--from", api0, "--out", str(tmp_path / "gazette"), "--name", "city-gazette",
                                "--json").stdout)
        node_id = joined["node_id"]
        assert len(joined["peers"]) == 4

        where = ("--net", str(network.root))
        out = cli("gov", "propose", "admit_observer", "--title", "City Gazette observer", "--set", f"node_id={node_id}",
                  "--set", "operator=city-gazette", "--account", "land-bureau/admin", *where).stdout
        number = out.split("proposal ", 1)[1].split(":", 1)[0]
        cli("gov", "vote", number, "--approve", "--account", "finance-bureau/admin", *where)
        passed = cli("gov", "vote", number, "--approve", "--account", "civil-affairs/admin", *where).stdout
        assert f"proposal {number}: passed" in passed

        observer = NodeProcesses.of(tmp_path / "gazette")
        try:
            observer.start()
            rpc, api = observer.config.rpc_url, observer.config.api_url
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and height_of(rpc) < height_of(network.nodes[0].rpc_url) - 1:
                time.sleep(0.5)
            top = height_of(rpc)
            assert top >= height_of(network.nodes[0].rpc_url) - 2, "the observer did not catch up"
            assert app_hash_at(rpc, top) == app_hash_at(network.nodes[1].rpc_url, top)
            # It never votes: its validator key is in no validator set, and no commit carries its signature.
            status = httpx.get(f"{rpc}/status", timeout=5).json()["result"]
            address = status["validator_info"]["address"]
            validators = httpx.get(f"{rpc}/validators", params={"height": str(top)}, timeout=5).json()["result"]
            assert address not in {v["address"] for v in validators["validators"]}
            assert status["validator_info"]["voting_power"] == "0"
            # The same read API, with proofs.
            document = httpx.get(f"{api}/v1/notary/{digest.hex()}", timeout=10).json()
            assert document["document"]["title"] == "2026年预算 / Budget 2026"
            assert document["anchoring_tx"]["inclusion"]["proof"] is not None
        finally:
            observer.stop()
