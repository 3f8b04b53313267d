"""A real 4-validator network: transactions go in through the API, every node agrees, proofs verify."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from civichain.client.sample import load_signer
from civichain.client.tx import build_body, sign
from civichain.log import SHA256_TREE, verify_inclusion
from civichain.modules.notary import Anchor
from civichain.state import decode_state_proof, verify_state_proof
from civichain.codec import decode
from civichain.state import StateProof
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
    proof = decode_proof(state["proof"])
    verify_state_proof(bytes.fromhex(state["state_root"]), b"registry/account/land-bureau/admin",
                       bytes.fromhex(state["value"]), proof)


def decode_proof(plain: dict) -> StateProof:
    from civichain.state import ProofLeaf
    leaf = plain["leaf"]
    return StateProof(plain["depth"], bytes.fromhex(plain["empty_siblings"]),
                      tuple(bytes.fromhex(s) for s in plain["siblings"]),
                      None if leaf is None else ProofLeaf(bytes.fromhex(leaf["key_hash"]), bytes.fromhex(leaf["value_hash"])))


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
