"""A real 4-validator network: transactions go in through the API, every node agrees, proofs verify."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from civichain.client.sample import load_signer
from civichain.client.tx import build_body, sign
from civichain.log import SHA256_TREE, verify_inclusion
from civichain.modules.notary import Anchor
from civichain.client.proofs import check_consistency_answer, check_state_answer
from tests.network.netutil import app_hash_at, block_hash_at, running_network, wait_for_height

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    with running_network(tmp_path_factory.mktemp("net")) as running:
        yield running


def _anchor(network, signer, nonce, text):
    digest = hashlib.sha256(text.encode()).digest()
    body = build_body(network.chain_id, signer.account, nonce, 10_000, "notary", "anchor",
                      Anchor(digest=digest, metadata={"lang": "zh-CN"}, title=f"公证书 {text}"))
    return sign(body, signer), digest


def test_a_signed_transaction_is_committed_and_every_node_agrees(net):
    network, _ = net
    signer = load_signer(network.root, "land-bureau/admin")
    api = network.nodes[0].api_url
    raw, digest = _anchor(network, signer, 0, "first deed")
    reply = httpx.post(f"{api}/v1/txs", params={"wait": "true"}, json={"tx": raw.hex()}, timeout=30)
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    assert answer["status"] == "committed"
    height = answer["height"]
    wait_for_height(network, height + 2)
    assert len({app_hash_at(n.rpc_url, height + 1) for n in network.nodes}) == 1
    assert len({block_hash_at(n.rpc_url, height) for n in network.nodes}) == 1
    # Every node's API knows the transaction, and its inclusion proof verifies.
    for node in network.nodes:
        tx = httpx.get(f"{node.api_url}/v1/txs/{answer['tx_id']}", timeout=10).json()
        inclusion = tx["inclusion"]
        verify_inclusion(SHA256_TREE.leaf(raw), inclusion["log_index"], inclusion["log_size"],
                         [bytes.fromhex(h) for h in inclusion["proof"]], bytes.fromhex(inclusion["log_root"]))
    document = httpx.get(f"{api}/v1/notary/{digest.hex()}", timeout=10).json()
    assert document["document"]["issuer"] == "land-bureau/admin"


def test_the_checkpoint_comes_with_the_signed_header_that_carries_its_app_hash(net):
    network, _ = net
    answer = httpx.get(f"{network.nodes[1].api_url}/v1/checkpoints/latest", timeout=10).json()
    header = answer["signed_header"]["header"]
    assert int(header["height"]) == answer["checkpoint"]["height"] + 1
    assert header["app_hash"].lower() == answer["app_hash"]
    assert len(answer["signed_header"]["commit"]["signatures"]) == 4


def test_state_values_come_with_proofs(net):
    network, _ = net
    reply = httpx.get(f"{network.nodes[2].api_url}/v1/accounts/land-bureau/admin", timeout=10).json()
    state = reply["state"]
    check_state_answer(b"registry/account/land-bureau/admin", state)
    absent = httpx.get(f"{network.nodes[2].api_url}/v1/state", params={"key": "notary/doc/none"}, timeout=10).json()
    assert absent["value"] is None
    check_state_answer(b"notary/doc/none", absent)


def test_the_log_only_grows_and_events_are_queryable(net):
    network, _ = net
    api = network.nodes[3].api_url
    blocks = []
    for _ in range(2):
        blocks.append(httpx.get(f"{api}/v1/blocks/latest", timeout=10).json()["checkpoint"])
        signer = load_signer(network.root, "notary-office/admin")
        nonce = httpx.get(f"{api}/v1/accounts/notary-office/admin", timeout=10).json()["next_nonce"]
        raw, digest = _anchor(network, signer, nonce, f"growth {nonce}")
        assert httpx.post(f"{api}/v1/txs", params={"wait": "true"}, json={"tx": raw.hex()}, timeout=30).status_code == 200
    latest = httpx.get(f"{api}/v1/blocks/latest", timeout=10).json()["checkpoint"]
    old = blocks[0]
    answer = httpx.get(f"{api}/v1/log/consistency", params={"old": old["log_size"], "new": latest["log_size"]}).json()
    check_consistency_answer(answer, bytes.fromhex(old["log_root"]), bytes.fromhex(latest["log_root"]))
    events = httpx.get(f"{api}/v1/events", params={"module": "notary", "type": "anchored", "limit": 1}).json()
    assert len(events["events"]) == 1 and events["next_cursor"]
    following = httpx.get(f"{api}/v1/events", params={"module": "notary", "cursor": events["next_cursor"]}).json()
    assert following["events"] and following["events"][0] != events["events"][0]
    by_key = httpx.get(f"{api}/v1/events", params={"module": "notary", "key": digest.hex()}).json()["events"]
    assert [e["key"] for e in by_key] == [digest.hex()]
    bad = httpx.get(f"{api}/v1/log/consistency", params={"old": 5, "new": 10**9})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "log.size_out_of_range"


@pytest.mark.parametrize("payload, status, code", [
    ({"tx": "zz"}, 400, "api.bad_encoding"),
    ({"tx": "00"}, 422, "codec.malformed"),
    ({"nothing": 1}, 422, "api.bad_request"),
])
def test_bad_submissions_get_a_4xx_json_error_naming_the_problem(net, payload, status, code):
    network, _ = net
    reply = httpx.post(f"{network.nodes[0].api_url}/v1/txs", json=payload, timeout=10)
    assert reply.status_code == status, reply.text
    assert reply.json()["error"]["code"] == code


def test_a_badly_signed_transaction_is_refused_by_the_api(net):
    network, _ = net
    signer = load_signer(network.root, "finance-bureau/admin")
    raw, _ = _anchor(network, signer, 0, "forged")
    forged = raw[:-1] + bytes([raw[-1] ^ 0x01])
    reply = httpx.post(f"{network.nodes[0].api_url}/v1/txs", json={"tx": forged.hex()}, timeout=10)
    assert reply.status_code == 422
    assert reply.json()["error"]["code"] == "tx.bad_signature"


def test_unknown_and_malformed_ids_and_oversized_bodies_are_refused(net):
    network, _ = net
    api = network.nodes[0].api_url
    assert httpx.get(f"{api}/v1/txs/{'ab' * 32}").json()["error"]["code"] == "ledger.no_such_tx"
    assert httpx.get(f"{api}/v1/txs/xyz").status_code == 400
    assert httpx.get(f"{api}/v1/blocks/999999").status_code == 404
    assert httpx.get(f"{api}/v1/nothing").status_code == 404
    big = httpx.post(f"{api}/v1/txs", content=b"x" * 2_000_000, headers={"content-type": "application/json"})
    assert big.status_code == 413
    assert big.json()["error"]["code"] == "api.body_too_large"


def test_resubmitting_a_committed_transaction_answers_with_its_status(net):
    network, _ = net
    signer = load_signer(network.root, "civil-affairs/admin")
    api = network.nodes[2].api_url
    nonce = httpx.get(f"{api}/v1/accounts/civil-affairs/admin", timeout=10).json()["next_nonce"]
    raw, _ = _anchor(network, signer, nonce, "resubmitted")
    first = httpx.post(f"{api}/v1/txs", params={"wait": "true"}, json={"tx": raw.hex()}, timeout=30).json()
    again = httpx.post(f"{api}/v1/txs", json={"tx": raw.hex()}, timeout=30)
    assert again.status_code == 200 and again.json()["height"] == first["height"]


def test_app_and_api_serve_prometheus_metrics(net):
    from prometheus_client.parser import text_string_to_metric_families

    from civichain.node.config import load_node_config

    network, _ = net
    node = network.nodes[3]
    signer = load_signer(network.root, "notary-office/admin")
    nonce = httpx.get(f"{node.api_url}/v1/accounts/notary-office/admin", timeout=10).json()["next_nonce"]
    raw, _ = _anchor(network, signer, nonce, "counted")
    assert httpx.post(f"{node.api_url}/v1/txs", params={"wait": "true"}, json={"tx": raw.hex()},
                      timeout=30).status_code == 200
    forged, _ = _anchor(network, signer, nonce + 1, "forged")
    forged = forged[:-1] + bytes([forged[-1] ^ 1])   # the signature is the last field
    assert httpx.post(f"{node.api_url}/v1/txs", json={"tx": forged.hex()}, timeout=30).status_code == 422

    def samples(url: str) -> dict[tuple[str, tuple], float]:
        text = httpx.get(url, timeout=10).text
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(text) for s in family.samples}

    config = load_node_config(node.home)
    app = samples(f"http://{config.metrics.host}:{config.metrics.port}/metrics")
    assert app[("civichain_height", ())] >= 1
    assert app[("civichain_transactions_total", (("code", "ok"),))] >= 1
    assert app[("civichain_admission_rejections_total", (("code", "tx.bad_signature"),))] >= 1
    assert app[("civichain_checktx_total", (("kind", "new"),))] >= 2
    assert app[("civichain_block_execution_seconds_count", ())] >= 1
    assert app[("civichain_block_commit_seconds_count", ())] >= 1
    api = samples(f"{node.api_url}/metrics")
    submitted = ("civichain_api_request_seconds_count", (("method", "POST"), ("route", "/v1/txs"), ("status", "200")))
    assert api[submitted] >= 1


def test_status_lists_validators_with_organisation_power_and_liveness(net):
    from civichain.node.status import collect_validators

    network, _ = net
    validators = collect_validators(network)
    assert sorted(v["organisation"] for v in validators) == sorted(n.organisation for n in network.nodes)
    assert all(v["power"] == 10 and v["live"] and v["evidence"] == 0 for v in validators), validators


def test_a_documents_history_lists_each_event_with_a_verifying_inclusion_proof(net):
    from civichain.modules.notary import Revoke

    network, _ = net
    signer = load_signer(network.root, "finance-bureau/admin")
    api = network.nodes[1].api_url
    nonce = httpx.get(f"{api}/v1/accounts/finance-bureau/admin", timeout=10).json()["next_nonce"]
    raw, digest = _anchor(network, signer, nonce, "history")
    revoke = sign(build_body(network.chain_id, signer.account, nonce + 1, 10_000, "notary", "revoke",
                             Revoke(digest=digest, reason="superseded")), signer)
    for tx in (raw, revoke):
        assert httpx.post(f"{api}/v1/txs", params={"wait": "true"}, json={"tx": tx.hex()}, timeout=30).status_code == 200
    history = httpx.get(f"{api}/v1/history/notary/{digest.hex()}", timeout=10).json()
    assert [e["type"] for e in history["entries"]] == ["anchored", "revoked"] and history["next_cursor"] is None
    for entry, tx in zip(history["entries"], (raw, revoke)):
        inclusion = entry["inclusion"]
        verify_inclusion(SHA256_TREE.leaf(tx), inclusion["log_index"], inclusion["log_size"],
                         [bytes.fromhex(h) for h in inclusion["proof"]], bytes.fromhex(inclusion["log_root"]))
    first = httpx.get(f"{api}/v1/history/notary/{digest.hex()}", params={"limit": 1}, timeout=10).json()
    assert len(first["entries"]) == 1 and first["next_cursor"]
    rest = httpx.get(f"{api}/v1/history/notary/{digest.hex()}", params={"cursor": first["next_cursor"]}, timeout=10).json()
    assert [e["type"] for e in rest["entries"]] == ["revoked"]
    assert httpx.get(f"{api}/v1/history/notary/{digest.hex()}", params={"cursor": "x"}, timeout=10).status_code == 422
