"""Registry: an account's key is rotated by the account itself or an admin of its organisation; its history
is the events keyed by its id."""

from __future__ import annotations

import pytest

from civichain.modules.membership import load_account
from civichain.modules.notary import Anchor
from civichain.modules.registry import AddAccount, ReinstateAccount, RotateKey, SuspendAccount
from tests.conftest import make_signer
from tests.modules.chainsupport import refused
from tests.modules.govsupport import GovChain

LAND, FINANCE = "land-bureau", "finance-bureau"


@pytest.fixture
def chain() -> GovChain:
    return GovChain(2)


def key_of(chain: GovChain, account: str) -> bytes:
    return load_account(chain.reader(), account).public_key


def test_an_account_rotates_its_own_key_and_the_old_key_no_longer_signs(chain):
    clerk, fresh = chain.clerk, make_signer(chain.clerk.account, "clerk 2027")
    run = chain.block(chain.tx(clerk, "registry", "rotate_key", RotateKey(id=clerk.account, public_key=fresh.public_key)))
    assert run.receipts[0].code == "ok"
    [event] = run.receipts[0].events
    assert (event.type, event.key) == ("key_rotated", clerk.account)
    facts = {a.key: a.value for a in event.attributes}
    assert facts == {"by": clerk.account, "previous_key": clerk.public_key.hex(), "public_key": fresh.public_key.hex()}
    assert key_of(chain, clerk.account) == fresh.public_key
    late = chain.block(chain.tx(clerk, "notary", "anchor", Anchor(digest=bytes(32), title="old key")))
    assert late.receipts[0].code == "tx.bad_signature" and late.receipts[0].log_index is None
    # the new key passes admission (the clerk is no notary, so the action itself is refused)
    fresh_run = chain.block(chain.tx(fresh, "notary", "anchor", Anchor(digest=bytes(32), title="new key")))
    assert fresh_run.receipts[0].code == "notary.not_permitted"


def test_an_admin_rotates_the_key_of_an_account_of_its_organisation_even_a_suspended_one(chain):
    admin, clerk = chain.admins[LAND], chain.clerk
    fresh = make_signer(clerk.account, "clerk after the loss")
    chain.block(chain.tx(admin, "registry", "suspend_account", SuspendAccount(id=clerk.account, reason="key lost")))
    run = chain.block(chain.tx(admin, "registry", "rotate_key", RotateKey(id=clerk.account, public_key=fresh.public_key)))
    assert run.receipts[0].code == "ok" and key_of(chain, clerk.account) == fresh.public_key
    assert load_account(chain.reader(), clerk.account).suspended
    chain.block(chain.tx(admin, "registry", "reinstate_account", ReinstateAccount(id=clerk.account)))
    run = chain.block(chain.tx(fresh, "registry", "rotate_key", RotateKey(id=clerk.account,
                                                                          public_key=make_signer("x").public_key)))
    assert run.receipts[0].code == "ok"


def test_nobody_else_rotates_an_accounts_key(chain):
    other = make_signer("someone").public_key
    refused(chain, chain.tx(chain.clerk, "registry", "rotate_key", RotateKey(id=chain.admins[LAND].account,
                                                                              public_key=other)),
            "registry.rotation_not_permitted")
    refused(chain, chain.tx(chain.admins[FINANCE], "registry", "rotate_key", RotateKey(id=chain.clerk.account,
                                                                                        public_key=other)),
            "registry.rotation_not_permitted")


def test_rotation_refusals(chain):
    refused(chain, chain.tx(chain.admins[LAND], "registry", "rotate_key",
                            RotateKey(id="land-bureau/nobody", public_key=bytes(32))), "registry.unknown_account")
    refused(chain, chain.tx(chain.clerk, "registry", "rotate_key",
                            RotateKey(id=chain.clerk.account, public_key=chain.clerk.public_key)), "registry.same_key")


def test_every_change_of_an_account_is_an_event_keyed_by_its_id(chain):
    admin = chain.admins[LAND]
    new = make_signer("land-bureau/alice")
    runs = [chain.block(chain.tx(admin, "registry", "add_account", AddAccount(id=new.account, public_key=new.public_key))),
            chain.block(chain.tx(admin, "registry", "suspend_account", SuspendAccount(id=new.account, reason="leave"))),
            chain.block(chain.tx(admin, "registry", "rotate_key",
                                 RotateKey(id=new.account, public_key=make_signer("alice 2").public_key))),
            chain.block(chain.tx(admin, "registry", "reinstate_account", ReinstateAccount(id=new.account)))]
    assert [(e.type, e.key) for run in runs for e in run.receipts[0].events] == [
        ("account_added", new.account), ("account_suspended", new.account), ("key_rotated", new.account),
        ("account_reinstated", new.account)]
