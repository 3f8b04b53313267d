"""Admission: each kind of bad transaction is refused with its own code and changes nothing."""

from __future__ import annotations

import msgspec

from civichain.client.tx import build_body, sign
from civichain.codec import encode
from civichain.modules.notary import Anchor
from civichain.modules.registry import AddAccount, SuspendAccount
from civichain.types import Transaction
from tests.conftest import CHAIN, make_signer, run_block


def check(ledger, raw):
    return ledger.check_tx(raw, recheck=False).code


def test_a_well_formed_signed_transaction_is_admitted(ledger, chain):
    assert check(ledger, chain.anchor(chain.admin, 0)) == "ok"


def test_bad_signature_is_refused(ledger, chain):
    tx = msgspec.msgpack.decode(chain.anchor(chain.admin, 0), type=Transaction)
    forged = encode(Transaction(tx.body, (), bytes(64)))
    assert check(ledger, forged) == "tx.bad_signature"


def test_signature_by_another_key_is_refused(ledger, chain):
    impostor = make_signer(chain.admin.account, "someone else's seed")
    assert check(ledger, chain.anchor(impostor, 0)) == "tx.bad_signature"


def test_wrong_chain_is_refused(ledger, chain):
    assert check(ledger, chain.anchor(chain.admin, 0, chain_id="other-chain")) == "tx.wrong_chain"


def test_stale_and_duplicate_nonces_are_refused(ledger, chain):
    run_block(ledger, [chain.anchor(chain.admin, 0)])
    assert check(ledger, chain.anchor(chain.admin, 0, "again")) == "tx.stale_nonce"
    assert check(ledger, chain.anchor(chain.admin, 1)) == "ok"
    assert check(ledger, chain.anchor(chain.admin, 1, "same nonce, other doc")) == "tx.duplicate_nonce"
    assert check(ledger, chain.anchor(chain.admin, 5)) == "tx.nonce_gap"


def test_expired_transaction_is_refused(ledger, chain):
    run_block(ledger, [])
    run_block(ledger, [])
    assert check(ledger, chain.anchor(chain.admin, 0, expires_at=2)) == "tx.expired"
    assert check(ledger, chain.anchor(chain.admin, 0, expires_at=10**9)) == "tx.expiry_too_far"


def test_unknown_module_and_action_are_refused(ledger, chain):
    assert check(ledger, chain.tx(chain.admin, 0, "lottery", "draw", Anchor(digest=bytes(32), title="x"))) == "tx.unknown_module"
    assert check(ledger, chain.tx(chain.admin, 0, "notary", "forge", Anchor(digest=bytes(32), title="x"))) == "tx.unknown_action"


def test_arguments_failing_the_schema_are_refused(ledger, chain):
    body = build_body(CHAIN, chain.admin.account, 0, 100, "notary", "anchor",
                      AddAccount(id="land-bureau/x", public_key=bytes(32)))
    assert check(ledger, sign(body, chain.admin)) == "tx.bad_arguments"
    short_digest = build_body(CHAIN, chain.admin.account, 0, 100, "notary", "anchor",
                              Anchor(digest=b"\x01" * 31, title="t"))
    assert check(ledger, sign(short_digest, chain.admin)) == "tx.bad_arguments"


def test_unknown_sender_is_refused(ledger, chain):
    assert check(ledger, chain.anchor(make_signer("land-bureau/ghost"), 0)) == "auth.unknown_account"


def test_suspended_account_is_refused(ledger, chain):
    run_block(ledger, [chain.tx(chain.admin, 0, "registry", "suspend_account",
                                SuspendAccount(id=chain.clerk.account, reason="left the bureau"))])
    assert check(ledger, chain.anchor(chain.clerk, 0)) == "auth.account_suspended"


def test_oversize_transaction_is_refused(ledger, chain):
    huge = chain.tx(chain.admin, 0, "notary", "anchor",
                    Anchor(digest=bytes(32), metadata={f"k{i}": "x" * 1000 for i in range(32)}, title="big"))
    assert len(huge) > 30_000
    small_limit = ledger.admission.max_tx_bytes
    ledger.admission.max_tx_bytes = 20_000
    try:
        assert check(ledger, huge) == "tx.oversize"
    finally:
        ledger.admission.max_tx_bytes = small_limit


def test_malformed_bytes_are_refused(ledger, chain):
    assert check(ledger, b"\x00garbage") == "codec.malformed"


def test_endorsement_by_an_unknown_or_forged_key_is_refused(ledger, chain):
    ghost = make_signer("tax-bureau/ghost")
    assert check(ledger, chain.anchor(chain.admin, 0, endorsers=[ghost])) == "auth.unknown_account"
    impostor = make_signer(chain.tax.account, "not the tax bureau")
    assert check(ledger, chain.anchor(chain.admin, 0, endorsers=[impostor])) == "auth.bad_endorsement"
    assert check(ledger, chain.anchor(chain.admin, 0, endorsers=[chain.tax])) == "ok"


def test_the_sender_cannot_endorse_its_own_transaction(ledger, chain):
    assert check(ledger, chain.anchor(chain.admin, 0, endorsers=[chain.admin])) == "auth.duplicate_endorsement"


def test_refused_transactions_change_nothing(ledger, chain):
    before = ledger.info()
    for raw in (b"junk", chain.anchor(chain.admin, 0, chain_id="x"), chain.anchor(make_signer("a/b"), 0)):
        assert check(ledger, raw) != "ok"
    assert ledger.info() == before
    assert ledger.committed.get(b"auth/nonce/" + chain.admin.account.encode()) is None


def test_recheck_does_not_verify_a_signature_twice(ledger, chain, monkeypatch):
    raw = chain.anchor(chain.admin, 0)
    assert check(ledger, raw) == "ok"
    calls = []
    real_verify = ledger.suite._verify
    monkeypatch.setattr(type(ledger.suite), "verify", lambda self, *a: calls.append(a) or real_verify(*a))
    ledger._mempool_nonces.clear()
    assert ledger.check_tx(raw, recheck=True).code == "ok"
    outcome = ledger.finalize_block(1, 10**9, b"\x01" * 32, [raw])
    assert outcome.receipts[0].ok
    assert calls == []


def test_a_pending_transaction_signed_with_a_rotated_out_key_is_dropped_by_the_recheck(ledger, chain):
    from civichain.modules.registry import RotateKey

    pending = chain.anchor(chain.clerk, 0, "signed before the rotation")
    assert check(ledger, pending) == "ok"
    assert ledger.check_tx(pending, recheck=True).code == "ok"
    new_key = make_signer(chain.clerk.account, "the clerk's new key")
    run_block(ledger, [chain.tx(chain.admin, 0, "registry", "rotate_key",
                                RotateKey(id=chain.clerk.account, public_key=new_key.public_key))])
    assert ledger.check_tx(pending, recheck=True).code == "tx.bad_signature"
    assert check(ledger, chain.anchor(new_key, 0, "signed after")) == "ok"
