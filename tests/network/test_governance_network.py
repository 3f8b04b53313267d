"""A real network governs itself: a node the chain does not admit is refused by its peers and never syncs;
governance then adds it as a validator, the headers' validator hashes change two heights later, the node is
admitted, catches up and signs; and the whole chain still verifies offline.
"""

from __future__ import annotations

import hashlib
import json
import signal
import time

import httpx
import msgspec
import pytest

from civichain.audit.chainfile import export_chain
from civichain.audit.replay import verify_chain_file
from civichain.client.proofs import check_state_answer
from civichain.client.sample import load_signer
from civichain.client.tx import build_body, sign
from civichain.codec import encode
from civichain.engine import find_cometbft
from civichain.execution.codes import number_of
from civichain.modules.governance import Propose, Vote
from civichain.modules.membership import AddValidator
from civichain.node.network import add_node
from civichain.node.supervisor import NodeProcesses
from civichain.store import Store
from tests.network.netutil import node_heights, running_network, wait_for_height

pytestmark = pytest.mark.network

_http = httpx.Client(timeout=10)


@pytest.fixture(scope="module")
def governed(tmp_path_factory):
    """Three validators (land-bureau, finance-bureau, civil-affairs) and a fourth node nobody admitted yet."""
    root = tmp_path_factory.mktemp("governance")
    with running_network(root / "net", validators=3) as (network, nodes):
        entry, keys = add_node(network.root, binary=find_cometbft(), operator="civil-affairs")
        outsider = NodeProcesses.of(entry.home)
        try:
            outsider.start(("app",))
            outsider.start(("cometbft",))
            yield network, entry, keys, outsider
        finally:
            outsider.stop()


def rpc(url: str, method: str, **params) -> dict:
    return _http.get(f"{url}/{method}", params=params).json()["result"]


def height_of(url: str) -> int:
    return int(rpc(url, "status")["sync_info"]["latest_block_height"])


def peer_ids(url: str) -> set[str]:
    return {p["node_info"]["id"] for p in rpc(url, "net_info")["peers"]}


def wait_until(condition, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(interval)
    raise TimeoutError(f"{what} within {timeout:.0f} s")


def refusals_of(node, node_id: str) -> list[dict]:
    lines = (node.home / "logs" / "app.log").read_text().splitlines()
    events = [json.loads(line) for line in lines if '"p2p.peer_refused"' in line]
    return [e for e in events if e["node_id"] == node_id]


def submit(network, account: str, module: str, action: str, args) -> dict:
    api = network.nodes[0].api_url
    signer = load_signer(network.root, account)
    nonce = _http.get(f"{api}/v1/accounts/{account}").json()["next_nonce"]
    height = _http.get(f"{api}/v1/status").json()["height"]
    raw = sign(build_body(network.chain_id, account, nonce, height + 1000, module, action, args), signer)
    reply = _http.post(f"{api}/v1/txs", params={"wait": "true"}, json={"tx": raw.hex()}, timeout=40)
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    assert answer["status"] == "committed", answer
    return answer


def test_a_node_the_chain_does_not_admit_is_refused_and_never_syncs(governed):
    network, entry, keys, _ = governed
    start = max(h for h in node_heights(network) if h is not None)
    # Its CometBFT dials the validators (its persistent peers); each one refuses it and logs why.
    refused = wait_until(lambda: [n.name for n in network.nodes if refusals_of(n, keys.node_id)], timeout=40,
                         what="a validator to log the outsider's refusal")
    assert refused
    wait_for_height(network, start + 5, timeout=60)
    for node in network.nodes:
        assert keys.node_id not in peer_ids(node.rpc_url)
    assert height_of(entry.rpc_url) == 0
    answer = rpc(network.nodes[0].rpc_url, "abci_query", path=f'"/p2p/filter/id/{keys.node_id}"')["response"]
    assert answer["code"] == number_of("p2p.unknown_node") and keys.node_id in answer["log"]


def test_governance_adds_a_validator_whose_node_is_then_admitted_and_signs(governed):
    network, entry, keys, outsider = governed
    rpc0 = network.nodes[0].rpc_url
    payload = AddValidator(node_id=keys.node_id, organisation="civil-affairs", power=10, pub_key=keys.validator_key_bytes)
    proposed = submit(network, "land-bureau/admin", "governance", "propose",
                      Propose(kind="add_validator", payload=msgspec.Raw(encode(payload)), title="Second validator"))
    number = int(next(e["key"] for e in proposed["receipt"]["events"] if e["type"] == "proposed"))
    voted = submit(network, "finance-bureau/admin", "governance", "vote", Vote(approve=True, proposal=number))
    passed_at = voted["height"]
    assert [e["type"] for e in voted["receipt"]["events"]] == ["voted", "passed"]

    # The app returned the update in FinalizeBlock of `passed_at`: CometBFT names it in the next validators
    # of the header at passed_at + 1 and uses it from passed_at + 2.
    wait_for_height(network, passed_at + 3, timeout=60)
    headers = {h: rpc(rpc0, "block", height=str(h))["block"]["header"] for h in range(passed_at, passed_at + 3)}
    before, after = headers[passed_at]["validators_hash"], headers[passed_at + 2]["validators_hash"]
    assert headers[passed_at]["next_validators_hash"] == before
    assert headers[passed_at + 1]["validators_hash"] == before
    assert headers[passed_at + 1]["next_validators_hash"] == after != before
    address = hashlib.sha256(keys.validator_key_bytes).hexdigest()[:40].upper()
    assert address not in {v["address"] for v in rpc(rpc0, "validators", height=str(passed_at + 1))["validators"]}
    assert address in {v["address"] for v in rpc(rpc0, "validators", height=str(passed_at + 2))["validators"]}

    # The block receipt of the execution, and the proposal with its state proof.
    block = _http.get(f"{network.nodes[1].api_url}/v1/blocks/{passed_at}").json()
    assert [(r["where"], r["code"]) for r in block["end_block"]] == [(f"governance proposal {number}", "ok")]
    answer = _http.get(f"{network.nodes[2].api_url}/v1/governance/proposals/{number}").json()
    check_state_answer(answer["state"]["key"].encode(), answer["state"])
    assert answer["proposal"]["status"] == "executed" and answer["proposal"]["executed_at"] == passed_at

    # The node is admitted now. Its CometBFT stopped redialing the peers that refused it (CometBFT's
    # reconnect loop ends when a refused connection drops before the loop's own dial returns), so its
    # operator starts it again, as docs/modules/governance.md says; it connects, catches up and signs.
    outsider.kill("cometbft", signal.SIGTERM, grace=10)
    outsider.start_one("cometbft")
    wait_until(lambda: any(keys.node_id in peer_ids(n.rpc_url) for n in network.nodes), timeout=60,
               what="a validator to keep the new node as a peer")
    wait_until(lambda: height_of(entry.rpc_url) >= height_of(rpc0) - 1 > passed_at + 2, timeout=90,
               what="the new node to catch up")

    def signed_by_new_validator():
        top = height_of(rpc0)
        commit = rpc(rpc0, "commit", height=str(top - 1))["signed_header"]["commit"]
        return any(s["validator_address"] == address and s["block_id_flag"] == 2 for s in commit["signatures"])

    wait_until(signed_by_new_validator, timeout=60, what="a commit signed by the new validator")
    log = (network.nodes[0].home / "logs" / "app.log").read_text()
    admitted = [json.loads(line) for line in log.splitlines() if '"p2p.peer_admitted"' in line]
    assert any(entry_["node_id"] == keys.node_id for entry_ in admitted)


def test_the_governed_chain_verifies_offline(governed, tmp_path):
    network, *_ = governed
    node = network.nodes[1]
    path = tmp_path / "chain.cvc"
    export_chain(Store(node.home / "data" / "civichain.db", readonly=True), node.rpc_url, path)
    report = verify_chain_file(path)
    assert report.executed_heights >= 5 and report.transactions >= 2
