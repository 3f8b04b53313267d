"""Governance through the ledger: genesis checks at InitChain, block receipts in the receipts root, the peer filter."""

from __future__ import annotations

import msgspec
import pytest

from civichain.codec import decode, encode
from civichain.ledger import LedgerError
from civichain.ledger.reads import LedgerReader
from civichain.log import root_of
from civichain.modules.governance import Propose
from civichain.modules.membership import AddValidator, AdmitObserver, RemoveValidator
from civichain.types import ObserverGenesis, Receipt, ValidatorGenesis, ValidatorUpdate
from tests.conftest import CHAIN, open_ledger, run_block
from tests.modules.govsupport import GovChain, node_id, validator_key


def genesis_bytes(genesis) -> bytes:
    return msgspec.json.encode(genesis)


def engine_validators(gov: GovChain) -> list[ValidatorUpdate]:
    return [ValidatorUpdate(bytes.fromhex(v.pub_key), v.power) for v in gov.genesis.validators]


def proposal_tx(gov: GovChain, signer, nonce: int, kind: str, payload, **kw) -> bytes:
    from civichain.client.tx import build_body, sign
    args = Propose(kind=kind, payload=msgspec.Raw(encode(payload)), title="t", **kw)
    return sign(build_body(CHAIN, signer.account, nonce, 10**6, "governance", "propose", args), signer)


@pytest.fixture
def gov() -> GovChain:
    return GovChain(1, validators=2)


@pytest.fixture
def ledger(tmp_path, gov):
    ledger = open_ledger(tmp_path)
    ledger.init_chain(CHAIN, genesis_bytes(gov.genesis), engine_validators(gov))
    return ledger


def test_init_chain_refuses_a_genesis_whose_validators_are_not_cometbfts(tmp_path, gov):
    engine = engine_validators(gov)
    for wrong in (engine[:1], [ValidatorUpdate(engine[0].pub_key, 11), engine[1]], [*engine, ValidatorUpdate(bytes(32), 1)]):
        with pytest.raises(LedgerError) as info:
            open_ledger(tmp_path).init_chain(CHAIN, genesis_bytes(gov.genesis), wrong)
        assert info.value.code == "genesis.validators_mismatch"
        assert "app_state.validators" in info.value.where
    assert open_ledger(tmp_path).init_chain(CHAIN, genesis_bytes(gov.genesis), list(reversed(engine)))


@pytest.mark.parametrize("change, code", [
    (lambda g: msgspec.structs.replace(g, validators=(*g.validators, msgspec.structs.replace(g.validators[0], node_id=node_id("x")))),
     "genesis.duplicate_validator"),
    (lambda g: msgspec.structs.replace(g, validators=(*g.validators, ValidatorGenesis(validator_key("x").hex(), 1, "land-bureau",
                                                                                        g.validators[0].node_id))),
     "genesis.duplicate_node"),
    (lambda g: msgspec.structs.replace(g, observers=(ObserverGenesis(g.validators[1].node_id, "University"),)),
     "genesis.duplicate_node"),
    (lambda g: msgspec.structs.replace(g, validators=(ValidatorGenesis(validator_key("x").hex(), 1, "nowhere", node_id("x")),)),
     "genesis.unknown_organisation"),
    (lambda g: msgspec.structs.replace(g, accounts=(*g.accounts, msgspec.structs.replace(g.accounts[0], organisation="nowhere"))),
     "genesis.unknown_organisation"),
    (lambda g: msgspec.structs.replace(g, accounts=(*g.accounts, g.accounts[0])), "genesis.duplicate_account"),
    (lambda g: msgspec.structs.replace(g, organisations=(*g.organisations, g.organisations[0])),
     "genesis.duplicate_organisation"),
    (lambda g: msgspec.structs.replace(g, params=msgspec.structs.replace(
        g.params, governance_threshold=msgspec.structs.replace(g.params.governance_threshold, numerator=1, denominator=2))),
     "genesis.bad_threshold"),
])
def test_init_chain_refuses_an_inconsistent_genesis_with_a_genesis_code(tmp_path, gov, change, code):
    with pytest.raises(LedgerError) as info:
        open_ledger(tmp_path).init_chain(CHAIN, genesis_bytes(change(gov.genesis)))
    assert info.value.code == code


def test_block_receipts_follow_the_transactions_into_the_receipts_root_and_the_store(ledger, gov):
    admin = gov.admins["land-bureau"]
    tx = proposal_tx(gov, admin, 0, "add_validator",
                     AddValidator(node_id=node_id("new"), organisation="land-bureau", power=3, pub_key=validator_key("new")))
    outcome = run_block(ledger, [tx])
    assert [r.code for r in outcome.receipts] == ["ok"]
    assert [r.code for r in outcome.block_receipts] == ["ok"]
    assert outcome.validator_updates == [ValidatorUpdate(validator_key("new"), 3)]
    stored = ledger.store.block(1)
    receipts = decode(stored.receipts, list[Receipt])
    assert receipts == [*outcome.receipts, *outcome.block_receipts] and stored.tx_count == 1
    assert stored.receipts_root == root_of([ledger.hasher.leaf(encode(r)) for r in receipts], hasher=ledger.hasher)
    reader = LedgerReader(ledger.store)
    assert reader.tx(outcome.receipts[0].tx_id).receipt == outcome.receipts[0]
    executed = ledger.store.events("governance", "executed", "1", 10)
    assert [(h, position) for _, _, _, h, position, _ in executed] == [(1, 1)]   # after the one transaction


def test_the_end_of_block_hook_replays_to_the_same_app_hash_after_a_crash(tmp_path, gov):
    ledger = open_ledger(tmp_path)
    ledger.init_chain(CHAIN, genesis_bytes(gov.genesis), engine_validators(gov))
    admin = gov.admins["land-bureau"]
    run_block(ledger, [proposal_tx(gov, admin, 0, "remove_validator", RemoveValidator(pub_key=validator_key("v1")),
                                   execute_at=3)])
    run_block(ledger, [])
    first = ledger.finalize_block(3, 3 * 10**9, b"\x03" * 32, [])
    assert first.validator_updates == [ValidatorUpdate(validator_key("v1"), 0)] and first.block_receipts
    reopened = open_ledger(tmp_path)                          # the process died before Commit
    again = reopened.finalize_block(3, 3 * 10**9, b"\x03" * 32, [])
    assert again.app_hash == first.app_hash and again.validator_updates == first.validator_updates


def test_an_empty_block_with_nothing_due_keeps_the_app_hash(ledger):
    first = run_block(ledger, [])
    assert run_block(ledger, []).app_hash == first.app_hash


def test_the_peer_filter_admits_exactly_the_nodes_state_names(tmp_path, gov):
    ledger = open_ledger(tmp_path)
    assert ledger.admitted_node(node_id("v0")) is None                 # not initialised: nobody
    ledger.init_chain(CHAIN, genesis_bytes(gov.genesis), engine_validators(gov))
    assert ledger.admitted_node(node_id("v0")).role == "validator"     # from the genesis, before any Commit
    assert ledger.admitted_node(node_id("obs")) is None
    admin = gov.admins["land-bureau"]
    run_block(ledger, [proposal_tx(gov, admin, 0, "admit_observer", AdmitObserver(node_id=node_id("obs"), operator="U")),
                       proposal_tx(gov, admin, 1, "remove_validator", RemoveValidator(pub_key=validator_key("v1")))])
    assert ledger.admitted_node(node_id("obs")).role == "observer"
    assert ledger.admitted_node(node_id("v1")) is None
    assert open_ledger(tmp_path).admitted_node(node_id("obs")).operator == "U"    # after a restart too
