"""Identity invariants over random sequences of changes (hypothesis):

* a deactivated DID never changes again;
* a key rotated out or removed never verifies as a current key of any DID, and is never bound again;
* revocation bits change only by the issuer: the lists equal a model that only the issuer's own transactions
  change;
* resolving a DID at height h gives the document after its last change at or before h, with a proof that
  verifies against the state root of h (a real ledger on SQLite).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import event, given, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from civichain.codec import decode
from civichain.crypto import ED25519_SHA256
from civichain.ledger.reads import LedgerReader
from civichain.modules.credentials import is_revoked
from civichain.modules.did import (
    ASSERTION,
    AUTHENTICATION,
    CAPABILITY,
    DidDocument,
    KeyBinding,
    Service,
    did_of,
    document_key,
    sign_operation,
    verify_with_document,
)
from civichain.modules.identity import AddKey, AddService, CreateDid, DeactivateDid, RemoveKey, RemoveService, RotateKey
from civichain.state import verify_state_proof
from tests.conftest import CHAIN, Chain, open_ledger, run_block
from tests.modules.idsupport import FINANCE, LAND, TAX, IdChain, public, subject_key

POOL = [subject_key(f"pool {i}") for i in range(16)]
PRIVATE = {public(k): k for k in POOL}
SUBJECTS = POOL[:4]                     # the first keys of the DIDs
NEW_KEYS = POOL[4:]                     # keys that changes bring in
PURPOSE_SETS = [(AUTHENTICATION,), (ASSERTION, CAPABILITY), (ASSERTION, AUTHENTICATION, CAPABILITY)]
CHANGES = {"add_key": AddKey, "rotate_key": RotateKey, "remove_key": RemoveKey, "add_service": AddService,
           "remove_service": RemoveService, "deactivate_did": DeactivateDid}
MESSAGE = b"is this key current?"


def documents(chain: IdChain) -> dict[str, DidDocument]:
    return {d.id: d for k, v in chain.state.items() if k.startswith(b"identity/did/")
            for d in [decode(v, DidDocument)]}


def bindings(chain: IdChain) -> dict[bytes, KeyBinding]:
    return {bytes.fromhex(k.removeprefix(b"identity/key/").decode()): decode(v, KeyBinding)
            for k, v in chain.state.items() if k.startswith(b"identity/key/")}


change = st.tuples(
    st.sampled_from(sorted(CHANGES)),
    st.integers(0, len(SUBJECTS) - 1),              # which DID (by the subject that created it)
    st.sampled_from([True, True, True, False]),      # sign with a current capability key (else a pool key)
    st.integers(0, len(POOL) - 1),                   # a pool key: a signer, a key brought in, a key id
    st.sampled_from(["key-1", "key-2", "key-3"]),
    st.sampled_from(PURPOSE_SETS),
    st.sampled_from(["a", "b"]),                     # service id
    st.sampled_from([0, 0, 0, -1]),                  # version offset: sometimes stale
)


class DidMachine(RuleBasedStateMachine):
    @initialize()
    def start(self):
        self.chain = IdChain()
        self.chain.block(*(self.chain.create_tx(key) for key in SUBJECTS))
        self.frozen: dict[str, bytes] = {}          # deactivated DID -> its document's bytes then
        self.retired: set[bytes] = set()

    @rule(changes=st.lists(change, min_size=1, max_size=3))
    def block(self, changes):
        txs = [tx for c in changes if (tx := self._change_tx(*c)) is not None]
        before = bindings(self.chain)
        for receipt in self.chain.block(*txs).receipts:
            event(receipt.code)
        after = bindings(self.chain)
        self.retired |= {key for key, b in after.items() if b.retired_at is not None}
        assert all(after[key] == b for key, b in before.items() if b.retired_at is not None), "a retired key changed"

    def _change_tx(self, action, subject, use_current, pool, key_id, purposes, service_id, stale):
        did = did_of(public(SUBJECTS[subject]))
        document = documents(self.chain).get(did)
        if document is None:
            return None
        capability = [k for k in document.keys if CAPABILITY in k.purposes]
        if use_current and capability:
            method = capability[pool % len(capability)]
            signing, signer = PRIVATE[method.public_key], f"{did}#{method.id}"
            if action in ("rotate_key", "remove_key") and document.keys:
                key_id = document.keys[pool % len(document.keys)].id
        else:
            signing, signer = POOL[pool], f"{did}#{key_id}"
        fields = {"add_key": dict(key_id=key_id, purposes=purposes), "rotate_key": dict(key_id=key_id),
                  "remove_key": dict(key_id=key_id), "deactivate_did": {},
                  "add_service": dict(service=Service(endpoint=f"https://{service_id}.example", id=service_id, type="T")),
                  "remove_service": dict(service_id=service_id)}[action]
        new_key = NEW_KEYS[pool % len(NEW_KEYS)] if action in ("add_key", "rotate_key") else None
        return self.chain.change_tx(action, CHANGES[action], did, signing, signer=signer, new_key=new_key,
                                    version=max(1, document.version + stale), **fields)

    @invariant()
    def a_deactivated_did_never_changes_again(self):
        for did, document in documents(self.chain).items():
            raw = self.chain.state[document_key(did)]
            if did in self.frozen:
                assert raw == self.frozen[did]
            elif not document.active:
                self.frozen[did] = raw

    @invariant()
    def a_retired_key_never_verifies_as_current(self):
        found = bindings(self.chain)
        signatures = {key: ED25519_SHA256.sign(PRIVATE[key], MESSAGE) for key in self.retired}
        for document in documents(self.chain).values():
            assert not {k.public_key for k in document.keys} & self.retired
            for method in document.keys:
                assert found[method.public_key] == KeyBinding(document.id, method.id, method.since)
                for signature in signatures.values():
                    for purpose in (ASSERTION, AUTHENTICATION, CAPABILITY):
                        assert not verify_with_document(document, method.id, purpose, MESSAGE, signature)


DidMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=10, deadline=None)
test_did_invariants = DidMachine.TestCase


# --- status lists: only the issuer changes its bits ---------------------------------------------------------

TYPES = ("land_certificate", "tax_receipt")
ISSUERS = {(LAND, "land_certificate"), (FINANCE, "tax_receipt")}
status_change = st.tuples(st.sampled_from(["revoke", "unrevoke"]), st.sampled_from(["land admin", "land issuer",
                          "land clerk", "finance admin", "tax admin"]), st.sampled_from(TYPES),
                          st.one_of(st.sets(st.integers(0, 40), min_size=1, max_size=4).map(sorted),
                                    st.lists(st.integers(0, 40), min_size=1, max_size=3)))


class StatusMachine(RuleBasedStateMachine):
    @initialize()
    def start(self):
        chain = self.chain = IdChain()
        for organisation, credential_type in sorted(ISSUERS):
            sender = chain.officer if organisation == LAND else chain.admins[organisation]
            did = did_of(public(subject_key(organisation)))
            chain.block(chain.create_tx(subject_key(organisation), sender=sender))
            assert chain.block(chain.register_issuer(organisation, credential_type, did)).receipts[0].code == "ok"
        self.signers = {"land admin": chain.admins[LAND], "land issuer": chain.issuer_officer, "land clerk": chain.clerk,
                        "finance admin": chain.admins[FINANCE], "tax admin": chain.admins[TAX]}
        self.model: dict[tuple[str, str], set[int]] = {(o, t): set() for o in (LAND, FINANCE, TAX) for t in TYPES}

    @rule(changes=st.lists(status_change, min_size=1, max_size=4))
    def block(self, changes):
        txs, expected = [], []
        for action, who, credential_type, indices in changes:
            signer = self.signers[who]
            txs.append(self.chain.status_tx(signer, action, credential_type, *indices))
            expected.append(self._expect(action, who, credential_type, indices))
        run = self.chain.block(*txs)
        assert [r.code == "ok" for r in run.receipts] == expected
        for receipt in run.receipts:
            event(receipt.code)

    def _expect(self, action, who, credential_type, indices) -> bool:
        organisation = self.signers[who].account.split("/")[0]
        bits = self.model[(organisation, credential_type)]
        allowed = who != "land clerk" and (organisation, credential_type) in ISSUERS
        ordered = all(a < b for a, b in zip(indices, indices[1:]))
        fits = all((i in bits) != (action == "revoke") for i in indices)
        if not (allowed and ordered and fits):
            return False
        if action == "revoke":
            bits.update(indices)
        else:
            bits.difference_update(indices)
        return True

    @invariant()
    def the_lists_are_what_only_their_issuers_made_them(self):
        for (organisation, credential_type), revoked in self.model.items():
            listed = self.chain.status_list(organisation, credential_type)
            bits = listed.bits if listed else b""
            assert {i for i in range(8 * len(bits)) if is_revoked(bits, i)} == revoked
            assert not bits.endswith(b"\x00")


StatusMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=10, deadline=None)
test_status_lists_change_only_by_their_issuer = StatusMachine.TestCase


# --- resolution at a height, from a real ledger ---------------------------------------------------------------

step = st.one_of(st.just(("empty",)), st.tuples(st.just("add_service"), st.sampled_from(["a", "b", "c"])),
                 st.tuples(st.just("remove_service"), st.sampled_from(["a", "b", "c"])),
                 st.tuples(st.just("rotate_key"), st.integers(0, 1000)))


@settings(max_examples=15, deadline=None)
@given(steps=st.lists(step, min_size=1, max_size=12))
def test_resolution_at_a_height_is_the_document_after_its_last_change_at_or_before_it(steps):
    chain = Chain()
    current = subject_key("resolved")
    did = did_of(public(current))
    nonces = {chain.admin.account: 0, chain.clerk.account: 0}

    def send(signer, action, args) -> bytes:
        nonce, nonces[signer.account] = nonces[signer.account], nonces[signer.account] + 1
        return chain.tx(signer, nonce, "identity", action, args)

    with tempfile.TemporaryDirectory() as folder:
        ledger = open_ledger(Path(folder))
        ledger.init_chain(CHAIN, chain.genesis_bytes())
        create = sign_operation(CHAIN, "create_did", CreateDid(proof=b"", public_key=public(current)), current)
        run_block(ledger, [send(chain.admin, "create_did", create)])
        reader = LedgerReader(ledger.store)
        written = {1: ledger.store.get(document_key(did))}   # the latest value after each block that changed it
        version, rotations = 1, 0
        for kind, *detail in steps:
            txs = []
            if kind != "empty":
                fields, new_key = {}, None
                if kind == "add_service":
                    fields["service"] = Service(endpoint="https://x.example", id=detail[0], type="T")
                elif kind == "remove_service":
                    fields["service_id"] = detail[0]
                else:
                    new_key, fields["key_id"] = subject_key(f"rotation {rotations} {detail[0]}"), "key-1"
                    fields["public_key"] = public(new_key)
                schema = CHANGES[kind]
                proofs = {f: b"" for f in ("key_proof", "proof") if f in schema.__struct_fields__}
                args = schema(did=did, signer=f"{did}#key-1", version=version, **proofs, **fields)
                txs.append(send(chain.clerk, kind, sign_operation(CHAIN, kind, args, current, new_key)))
            outcome = run_block(ledger, txs)
            if txs and outcome.receipts[0].code == "ok":
                written[ledger.height] = ledger.store.get(document_key(did))
                version += 1
                if new_key is not None:
                    current, rotations = new_key, rotations + 1
        for h in range(1, ledger.height + 1):
            at, value, proof, root = reader.state_value(document_key(did), h)
            last_change = max(c for c in written if c <= h)
            assert at == h and value == written[last_change]
            verify_state_proof(root, document_key(did), value, proof)
            assert decode(value, DidDocument).updated_at == last_change
        ledger.store.close()
