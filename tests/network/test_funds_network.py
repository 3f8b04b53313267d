"""Public funds on a real network: a budget appropriated (endorsed by a second department), allocated,
committed and paid; a payment beyond the contract refused with its code; the programme's figures proved
against the state root the chain committed to; and the same read and checked through the command line."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time

import httpx
import pytest

from civichain.client.funds import FundsClient
from civichain.client.proofs import check_state_answer
from civichain.client.sample import load_signer
from civichain.client.tx import build_body, sign
from civichain.execution.codes import number_of
from civichain.modules.funds import Allocate, Appropriate, Commit, CreateProgramme, Disburse, OpenYear
from civichain.modules.funds_records import programme_key
from tests.network.netutil import running_network

pytestmark = pytest.mark.network

_http = httpx.Client(timeout=10)
FINANCE, LAND = "finance-bureau/admin", "land-bureau/admin"
YUAN = 100    # fen


def digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    """Two validators: land-bureau and finance-bureau."""
    with running_network(tmp_path_factory.mktemp("funds") / "net", validators=2) as (network, nodes):
        yield network


def submit(network, account: str, action: str, args, endorsers: tuple[str, ...] = ()) -> dict:
    api = network.nodes[0].api_url
    nonce = _http.get(f"{api}/v1/accounts/{account}").json()["next_nonce"]
    height = _http.get(f"{api}/v1/status").json()["height"]
    body = build_body(network.chain_id, account, nonce, height + 1000, "funds", action, args)
    raw = sign(body, load_signer(network.root, account), [load_signer(network.root, e) for e in endorsers])
    reply = _http.post(f"{api}/v1/txs", params={"wait": "true"}, json={"tx": raw.hex()}, timeout=40)
    assert reply.status_code == 200, reply.text
    return reply.json()


def committed(network, account: str, action: str, args, endorsers: tuple[str, ...] = ()) -> dict:
    answer = submit(network, account, action, args, endorsers)
    assert answer["status"] == "committed", answer["receipt"]
    return answer


def test_money_flows_from_appropriation_to_payee_and_no_further(net):
    committed(net, FINANCE, "open_year", OpenYear(approval_threshold_fen=1_000_000 * YUAN, year=2026))
    appropriation = Appropriate(amount_fen=5_000_000 * YUAN, appropriation="infra-2026", basis=digest("budget 2026"),
                                title="Rural infrastructure", year=2026)
    unendorsed = submit(net, FINANCE, "appropriate", appropriation)
    assert unendorsed["status"] == "failed" and unendorsed["receipt"]["code"] == "auth.missing_endorsement"
    committed(net, FINANCE, "appropriate", appropriation, endorsers=(LAND,))
    committed(net, FINANCE, "create_programme", CreateProgramme(department="land-bureau", programme="roads-2026",
                                                                title="Rural roads", year=2026))
    committed(net, FINANCE, "allocate", Allocate(allocation="roads-q1", amount_fen=800_000 * YUAN,
                                                 appropriation="infra-2026", programme="roads-2026"))
    committed(net, LAND, "commit", Commit(allocation="roads-q1", amount_fen=300_000 * YUAN, commitment="contract-17",
                                          contract=digest("contract 17"), payee="finance-bureau"))
    paid = committed(net, LAND, "disburse", Disburse(amount_fen=300_000 * YUAN, commitment="contract-17",
                                                     contract=digest("contract 17"), disbursement="pay-1",
                                                     invoice=digest("invoice 1")))
    assert [e["type"] for e in paid["receipt"]["events"]] == ["disbursed"]

    beyond = submit(net, LAND, "disburse", Disburse(amount_fen=1, commitment="contract-17",
                                                    contract=digest("contract 17"), disbursement="pay-2",
                                                    invoice=digest("invoice 2")))
    receipt = beyond["receipt"]
    assert beyond["status"] == "failed" and receipt["code"] == "funds.exceeds_commitment"
    assert receipt["expected"] == ("at most 0 fen, the unpaid part of commitment contract-17 "
                                   "(30000000 committed, 30000000 paid)")
    # CometBFT's own record of the block carries the code's stable number (node1 may still be executing the
    # block that node0's API reported committed: wait for its results).
    deadline = time.monotonic() + 20
    while "result" not in (results := _http.get(f"{net.nodes[1].rpc_url}/block_results",
                                                params={"height": beyond["height"]}).json()):
        assert time.monotonic() < deadline, f"node1 has no results for height {beyond['height']}: {results}"
        time.sleep(0.2)
    assert results["result"]["txs_results"][beyond["position"]]["code"] == number_of("funds.exceeds_commitment")

    api = FundsClient(net.nodes[1].api_url)
    answer = api.programme("roads-2026")
    assert answer["summary"] == {"budget_fen": 80_000_000, "committed_fen": 30_000_000, "spent_fen": 30_000_000,
                                 "remaining_fen": 50_000_000, "unpaid_fen": 0, "payments": 1}
    state = answer["state"]
    check_state_answer(programme_key("roads-2026"), state)
    # The root the proof verifies against is the one the chain committed to at that height.
    block = _http.get(f"{net.nodes[0].api_url}/v1/blocks/{state['height']}").json()
    assert block["checkpoint"]["state_root"] == state["state_root"]
    [payment] = api.all_payments("roads-2026")
    assert (payment["payment"]["appropriation"], payment["payment"]["payee"]) == ("infra-2026", "finance-bureau")


def test_the_command_line_reads_and_checks_the_same_figures(net):
    env = {"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    run = subprocess.run([sys.executable, "-m", "civichain", "funds", "programme", "roads-2026", "--net",
                          str(net.root), "--node", "node1"], capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr
    assert "800,000.00 yuan" in run.stdout and "state proof verified" in run.stdout
