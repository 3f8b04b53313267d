"""Registry invariants over random sequences of actions (a hypothesis state machine against a small model).

Two departments (land-bureau with an admin and a clerk, finance-bureau with an admin) add accounts with
roles, suspend and reinstate them, rotate keys, and every account now and then tries to act (anchor a
document, with or without an endorser) and to sign with a key it no longer holds. The model, written from
docs/modules/registry.md, predicts every receipt code, admission's included; the machine checks:

* a refused action changes nothing: an admission refusal not even the nonce, a module or policy refusal
  nothing but the sender's nonce;
* a suspended account can neither send nor endorse;
* a transaction verifies under the account's current key only: a rotated-out key no longer signs;
* every account in state is the model's, with its organisation, key, roles and status;
* an account's history (its events, in chain order) replays to its record: the rotations chain from its first
  key to its current one, and the last suspension or reinstatement gives its status.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from hypothesis import event, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from civichain.codec import decode
from civichain.modules.membership import AccountRecord, load_account
from civichain.modules.notary import Anchor
from civichain.modules.registry import ADMIN, AddAccount, ReinstateAccount, RotateKey, SuspendAccount
from tests.conftest import make_signer
from tests.modules.govsupport import GovChain

LAND, FINANCE = "land-bureau", "finance-bureau"
NEW_IDS = ("land-bureau/a", "land-bureau/b", "finance-bureau/c", "finance-bureau/d")
ROLE_SETS = ((), (ADMIN,), ("notary",), ("clerk", "notary"), (ADMIN, "notary"))
NOTARY_ROLES = (ADMIN, "notary")
KEYS = 4                                   # each account's key pool: key 0 is its first, the others rotate in
mostly = st.sampled_from([True, True, True, False])


def key(account: str, index: int):
    """The signer of `account` with key number `index` of its pool (0: the key it was created with)."""
    return make_signer(account) if index == 0 else make_signer(account, f"{account} key {index}")


@dataclass
class ModelAccount:
    organisation: str
    roles: tuple[str, ...]
    key: int = 0                           # the index of its current key
    suspended: bool = False
    history: list[str] = field(default_factory=list)     # the event types an account's changes emitted, in order


class RegistryMachine(RuleBasedStateMachine):
    @initialize()
    def start(self):
        self.chain = GovChain(2)
        self.accounts = {f"{LAND}/admin": ModelAccount(LAND, (ADMIN,)), f"{LAND}/clerk": ModelAccount(LAND, ("clerk",)),
                         f"{FINANCE}/admin": ModelAccount(FINANCE, (ADMIN,))}
        self.seen: dict[str, list] = defaultdict(list)      # the events of the chain's receipts, by account
        self.documents = 0

    # --- rules: each sends one transaction in its own block and checks the predicted code ---

    @rule(by=st.integers(0, 9), new=st.sampled_from(NEW_IDS + (f"{LAND}/clerk",)), roles=st.sampled_from(ROLE_SETS))
    def add_account(self, by, new, roles):
        sender = self._account(by)
        code = self._admission(sender) or self._admin_code(sender, self.accounts[sender].organisation) or (
            "registry.bad_account_id" if not new.startswith(self.accounts[sender].organisation + "/") else
            "registry.account_exists" if new in self.accounts else "ok")
        args = AddAccount(id=new, public_key=key(new, 0).public_key, roles=roles)
        if self._send(sender, "add_account", args, code):
            self.accounts[new] = ModelAccount(self.accounts[sender].organisation, tuple(sorted(set(roles))),
                                              history=["account_added"])

    @rule(by=st.integers(-4, 9), whom=st.integers(0, 9), lift=st.booleans())
    def suspend_or_reinstate(self, by, whom, lift):
        account = self._target(whom)
        sender = self._sender_for(by, account)
        model = self.accounts.get(account)
        code = self._admission(sender) or ("registry.unknown_account" if model is None else
                                           self._admin_code(sender, model.organisation))
        if not code and lift:
            code = "registry.not_suspended" if not model.suspended else "ok"
        elif not code:
            code = ("registry.cannot_suspend_self" if account == sender else
                    "registry.already_suspended" if model.suspended else "ok")
        args = ReinstateAccount(id=account) if lift else SuspendAccount(id=account, reason="leave")
        if self._send(sender, "reinstate_account" if lift else "suspend_account", args, code):
            model.suspended = not lift
            model.history.append("account_reinstated" if lift else "account_suspended")

    @rule(by=st.integers(-2, 9), whom=st.integers(0, 9), new_key=st.integers(0, KEYS - 1))
    def rotate_key(self, by, whom, new_key):
        account = self._target(whom)
        sender = self._sender_for(by, account)
        model = self.accounts.get(account)
        code = self._admission(sender) or ("registry.unknown_account" if model is None else "")
        if not code:
            permitted = sender == account or not self._admin_code(sender, model.organisation)
            code = ("registry.rotation_not_permitted" if not permitted else
                    "registry.same_key" if new_key == model.key else "ok")
        args = RotateKey(id=account, public_key=key(account, new_key).public_key)
        if self._send(sender, "rotate_key", args, code):
            model.key = new_key
            model.history.append("key_rotated")

    @rule(by=st.integers(0, 9), current=mostly, old=st.integers(0, KEYS - 1), endorser=st.integers(-3, 9))
    def act(self, by, current, old, endorser):
        """An account anchors a document: signed with its current key or another of its pool, perhaps endorsed."""
        sender = self._account(by)
        model = self.accounts[sender]
        signing = model.key if current else old
        others = [a for a in sorted(self.accounts) if a != sender]
        cosigner = others[endorser % len(others)] if endorser >= 0 else None
        code = self._admission(sender)
        if not code and cosigner is not None and self.accounts[cosigner].suspended:
            code = "auth.account_suspended"             # endorsers are checked after the sender, before signatures
        if not code:
            code = ("tx.bad_signature" if signing != model.key else
                    "ok" if any(r in model.roles for r in NOTARY_ROLES) else "notary.not_permitted")
        self.documents += 1
        digest = hashlib.sha256(b"document %d" % self.documents).digest()
        endorsers = [key(cosigner, self.accounts[cosigner].key)] if cosigner else []
        tx = self.chain.tx(key(sender, signing), "notary", "anchor", Anchor(digest=digest, title="a deed"), endorsers)
        self._run(tx, code, f"anchor{' endorsed' if cosigner else ''}")

    # --- the model's helpers ---

    def _account(self, pick: int) -> str:
        known = sorted(self.accounts)
        return known[pick % len(known)]

    def _sender_for(self, pick: int, account: str) -> str:
        """Any account (`pick` >= 0), or else, to reach past the permission checks, an admin of `account`'s
        organisation when it has one."""
        model = self.accounts.get(account)
        admins = [a for a in sorted(self.accounts) if model is not None and not self._admin_code(a, model.organisation)]
        return admins[pick % len(admins)] if pick < 0 and admins else self._account(pick)

    def _target(self, pick: int) -> str:
        """Mostly an account of the model, sometimes an id never added."""
        return self._account(pick) if pick < 8 else "land-bureau/nobody"

    # Each check gives its code, or "" when it passes.

    def _admission(self, sender: str) -> str:
        return "auth.account_suspended" if self.accounts[sender].suspended else ""

    def _admin_code(self, sender: str, organisation: str) -> str:
        model = self.accounts[sender]
        return "" if model.organisation == organisation and ADMIN in model.roles else "registry.not_admin"

    def _send(self, sender: str, action: str, args, code: str) -> bool:
        tx = self.chain.tx(key(sender, self.accounts[sender].key), "registry", action, args)
        return self._run(tx, code, action)

    def _run(self, tx: bytes, code: str, action: str) -> bool:
        before, nonces_too = self.chain.snapshot_without_nonces(), dict(self.chain.state)
        receipt = self.chain.block(tx).receipts[0]
        assert receipt.code == code, (action, receipt.code, code, receipt.where, receipt.got)
        event(f"{action}: {code}")
        if code == "ok":
            for e in receipt.events:
                if e.module == "registry":
                    self.seen[e.key].append(e)
        elif receipt.log_index is None:            # refused at admission: not even the nonce moved
            assert self.chain.state == nonces_too and receipt.events == ()
        else:
            assert self.chain.snapshot_without_nonces() == before and receipt.events == ()
        return code == "ok"

    # --- invariants ---

    @invariant()
    def every_account_in_state_is_the_models(self):
        stored = {k.removeprefix(b"registry/account/").decode(): decode(v, AccountRecord)
                  for k, v in self.chain.state.items() if k.startswith(b"registry/account/")}
        assert sorted(stored) == sorted(self.accounts)
        for account, model in self.accounts.items():
            record = stored[account]
            assert (record.organisation, record.roles, record.suspended) == (model.organisation, model.roles,
                                                                            model.suspended)
            assert record.public_key == key(account, model.key).public_key

    @invariant()
    def the_history_of_an_account_replays_to_its_record(self):
        for account, model in self.accounts.items():
            events = self.seen[account]
            assert [e.type for e in events] == model.history
            record = load_account(self.chain.reader(), account)
            current, suspended = key(account, 0).public_key.hex(), False       # every account starts with key 0
            for e in events:
                facts = {a.key: a.value for a in e.attributes}
                if e.type == "key_rotated":
                    assert facts["previous_key"] == current
                    current = facts["public_key"]
                elif e.type in ("account_suspended", "account_reinstated"):
                    suspended = e.type == "account_suspended"
            assert (current, suspended) == (record.public_key.hex(), record.suspended)


RegistryMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
test_registry_invariants = RegistryMachine.TestCase


def test_the_key_pools_are_distinct():
    pools = [key(a, i).public_key for a in (*NEW_IDS, f"{LAND}/admin") for i in range(KEYS)]
    assert len(set(pools)) == len(pools)
