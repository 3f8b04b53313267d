"""Evidence of misbehaviour: FinalizeBlock's `misbehavior` is stored at Commit, outside the app hash, and served."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from civichain.abci.app import AbciApplication
from civichain.abci.messages import abci
from civichain.api.server import create_app
from civichain.node.config import NodeConfig
from civichain.store import EvidenceRecord, Store
from tests.conftest import CHAIN, open_ledger

DOUBLE_SIGNER = bytes.fromhex("1FB620AED4BF3C1AF0E924F1475775F2164F0892")


def _finalize(app: AbciApplication, height: int, txs: list[bytes], offences: int) -> bytes:
    request = abci.RequestFinalizeBlock(height=height, hash=bytes([height]) * 32, txs=txs)
    request.time.seconds = height
    for i in range(offences):
        m = request.misbehavior.add()
        m.type = abci.DUPLICATE_VOTE if i % 2 == 0 else abci.LIGHT_CLIENT_ATTACK
        m.validator.address, m.validator.power = DOUBLE_SIGNER, 10
        m.height, m.total_voting_power = height - 1, 40
        m.time.seconds, m.time.nanos = height - 1, 500
    app_hash = app.finalize_block(request).app_hash
    app.commit(abci.RequestCommit())
    return app_hash


@pytest.fixture
def two_ledgers(tmp_path, chain):
    """The same blocks executed twice: with the evidence CometBFT reports, and without."""
    apps = []
    for name in ("with", "without"):
        (tmp_path / name).mkdir()
        ledger = open_ledger(tmp_path / name)
        ledger.init_chain(CHAIN, chain.genesis_bytes())
        apps.append(AbciApplication(ledger))
    return apps, chain


def test_evidence_is_stored_in_block_order_and_leaves_the_app_hash_alone(two_ledgers, tmp_path):
    (with_evidence, without), chain = two_ledgers
    for height, offences in ((1, 0), (2, 3), (3, 1)):
        txs = [chain.anchor(chain.admin, height - 1)]
        assert _finalize(with_evidence, height, txs, offences) == _finalize(without, height, txs, 0)
    with_evidence.ledger.store.close()
    reopened = Store(tmp_path / "with" / "civichain.db", readonly=True)
    rows = reopened.evidence(limit=10)
    assert [(h, p) for h, p, _ in rows] == [(2, 0), (2, 1), (2, 2), (3, 0)]
    assert rows[0][2] == EvidenceRecord("duplicate_vote", DOUBLE_SIGNER, 10, 1, 1_000_000_500, 40)
    assert rows[1][2].kind == "light_client_attack"
    assert [p for _, p, _ in reopened.evidence(limit=10, after=(2, 1))] == [2, 0]
    assert without.ledger.store.evidence(limit=10) == []


def test_the_api_serves_committed_evidence_in_pages(two_ledgers, tmp_path):
    (app, _), chain = two_ledgers
    for height, offences in ((1, 2), (2, 1)):
        _finalize(app, height, [chain.anchor(chain.admin, height - 1)], offences)
    app.ledger.store.close()
    config = NodeConfig.model_validate({
        "node": {"name": "node0", "organisation": "land-bureau"}, "abci": {"port": 1}, "api": {"port": 2},
        "cometbft": {"rpc_port": 3, "p2p_port": 4}, "storage": {"path": "civichain.db"}})
    with TestClient(create_app(tmp_path / "with", config)) as client:
        first = client.get("/v1/evidence", params={"limit": 2}).json()
        assert [(e["committed_height"], e["position"]) for e in first["evidence"]] == [(1, 0), (1, 1)]
        assert first["evidence"][0] == {"committed_height": 1, "position": 0, "kind": "duplicate_vote",
                                        "validator": DOUBLE_SIGNER.hex().upper(), "power": 10, "height": 0,
                                        "time_ns": 500, "total_power": 40}
        rest = client.get("/v1/evidence", params={"limit": 2, "cursor": first["next_cursor"]}).json()
        assert [(e["committed_height"], e["position"]) for e in rest["evidence"]] == [(2, 0)]
        assert rest["next_cursor"] is None
        assert client.get("/v1/evidence", params={"cursor": "x"}).status_code == 422
