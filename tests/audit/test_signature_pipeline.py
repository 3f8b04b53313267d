"""Signatures verified in worker processes only ever save work: a bad signature is still refused by execution."""

from __future__ import annotations

import msgspec
import pytest

from civichain.audit.signatures import SignaturePipeline
from civichain.crypto.workers import verify_checks
from civichain.codec import encode
from civichain.crypto import ED25519_SHA256
from civichain.types import Transaction
from tests.conftest import make_signer, run_block


def forged(raw: bytes) -> bytes:
    tx = msgspec.msgpack.decode(raw, type=Transaction)
    return encode(Transaction(tx.body, tx.endorsements, bytes(64)))


@pytest.mark.parametrize("workers", [0, 1, 2])
def test_only_verified_transactions_are_remembered(ledger, chain, workers):
    run_block(ledger, [])   # commit genesis, so the accounts are in committed state
    good, bad = chain.anchor(chain.admin, 0), forged(chain.anchor(chain.clerk, 0))
    unknown = chain.anchor(make_signer("land-bureau/ghost"), 0)
    admission = ledger.admission
    with SignaturePipeline(admission, ledger.committed, workers=workers) as pipeline:
        pipeline.submit([good, bad, unknown, b"not a transaction"])
        pipeline.settle()
        assert len(pipeline) == 0
    assert admission.signatures.verified(admission.tx_id(good), (chain.admin.public_key,)) == bool(workers)
    assert not admission.signatures.verified(admission.tx_id(bad), (chain.clerk.public_key,))
    receipts = run_block(ledger, [good, bad])
    assert [r.code for r in receipts.receipts] == ["ok", "tx.bad_signature"]


def test_worker_check_is_all_or_nothing():
    signer = make_signer("land-bureau/admin")
    message = b"body"
    signature = ED25519_SHA256.sign(signer.private_key, message)
    good = (signer.public_key, message, signature)
    assert verify_checks(ED25519_SHA256.name, [(good,), (good, (signer.public_key, b"other", signature)), ()]) == \
        [True, False, True]
