"""The ABCI edge of governance: the peer filter's answers, InitChain's validator check, validator updates."""

from __future__ import annotations

import msgspec
import pytest

from civichain.abci.app import AbciApplication
from civichain.abci.messages import abci, keys
from civichain.execution.codes import number_of
from civichain.ledger import LedgerError
from civichain.modules.membership import RemoveValidator
from tests.conftest import CHAIN, open_ledger
from tests.ledger.test_governance_ledger import proposal_tx
from tests.modules.govsupport import GovChain, node_id, validator_key


def init_request(gov: GovChain, powers: dict[bytes, int] | None = None) -> abci.RequestInitChain:
    request = abci.RequestInitChain(chain_id=CHAIN, app_state_bytes=msgspec.json.encode(gov.genesis))
    for v in gov.genesis.validators:
        key = bytes.fromhex(v.pub_key)
        request.validators.add(pub_key=keys.PublicKey(ed25519=key), power=(powers or {}).get(key, v.power))
    return request


@pytest.fixture
def app(tmp_path):
    gov = GovChain(1, validators=2)
    application = AbciApplication(open_ledger(tmp_path))
    application.init_chain(init_request(gov))
    application.gov = gov
    return application


def query(app: AbciApplication, path: str) -> abci.ResponseQuery:
    return app.query(abci.RequestQuery(path=path))


def test_the_peer_filter_admits_validator_nodes_and_refuses_others(app):
    assert query(app, f"/p2p/filter/id/{node_id('v1')}").code == 0
    refused = query(app, f"/p2p/filter/id/{node_id('stranger')}")
    assert refused.code == number_of("p2p.unknown_node") and refused.codespace == "p2p"
    assert refused.log.startswith("p2p.unknown_node: peer ")
    assert query(app, "/p2p/filter/id/NOT-AN-ID").code == number_of("p2p.bad_node_id")


def test_the_address_filter_admits_any_well_formed_address(app):
    assert query(app, "/p2p/filter/addr/127.0.0.1:26656").code == 0
    assert query(app, "/p2p/filter/addr/[::1]:26656").code == 0
    assert query(app, "/p2p/filter/addr/example.org:80").code == number_of("p2p.bad_address")
    assert query(app, "/p2p/filter/addr/127.0.0.1:0").code == number_of("p2p.bad_address")


def test_before_init_chain_every_peer_is_refused(tmp_path):
    fresh = AbciApplication(open_ledger(tmp_path))
    assert query(fresh, f"/p2p/filter/id/{node_id('v0')}").code == number_of("p2p.not_ready")


def test_an_unknown_query_path_is_refused(app):
    assert query(app, "/store/anything").code == number_of("query.unknown_path")


def test_init_chain_refuses_validators_that_differ_from_the_application_genesis(tmp_path):
    gov = GovChain(1, validators=2)
    with pytest.raises(LedgerError) as info:
        AbciApplication(open_ledger(tmp_path)).init_chain(init_request(gov, {validator_key("v0"): 99}))
    assert info.value.code == "genesis.validators_mismatch"


def test_finalize_block_returns_the_validator_updates_and_the_hooks_events(app):
    tx = proposal_tx(app.gov, app.gov.admins["land-bureau"], 0, "remove_validator",
                     RemoveValidator(pub_key=validator_key("v1")))
    request = abci.RequestFinalizeBlock(height=1, hash=b"\x01" * 32, txs=[tx])
    request.time.seconds = 1
    response = app.finalize_block(request)
    assert [r.code for r in response.tx_results] == [0]
    assert [(u.pub_key.ed25519, u.power) for u in response.validator_updates] == [(validator_key("v1"), 0)]
    assert [e.type for e in response.events] == ["governance.validator_removed", "governance.executed"]
