"""Identity invariants over random sequences of actions (a hypothesis state machine against a small model).

DIDs are created (with controllers and services), changed (keys added, rotated and removed, services added and
removed, deactivation) by signers of every kind (their own keys, controllers', strangers', keys without the
capability purpose, wrong signatures, stale versions); civil affairs registers and withdraws issuers; issuers
register schemas and revoke and unrevoke credentials. The model, written from docs/modules/identity.md,
predicts every receipt code; the machine checks after every step that:

* a refused action changed nothing but its sender's nonce;
* every DID document, key binding, issuer, schema and status list in state is the model's;
* a deactivated DID never changes again; a key rotated out or removed never verifies as a current key, and is
  never bound again;
* a revoked bit stays set, unless its issuer, still registered, unrevokes it;
* resolving a DID at any earlier height (from the versioned state, with a proof checked against that height's
  state root) gives the document as it was then.

A second test resolves documents from a real ledger on SQLite.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import event, given, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from civichain.codec import decode
from civichain.crypto import ED25519_SHA256
from civichain.ledger.reads import LedgerReader
from civichain.modules.credentials import (IssuerRecord, RegisterSchema, SchemaRecord, StatusList, WithdrawIssuer,
                                           is_revoked, schema_key)
from civichain.modules.did import (
    ASSERTION,
    AUTHENTICATION,
    CAPABILITY,
    FIRST_KEY_ID,
    MAX_KEYS,
    MAX_SERVICES,
    PURPOSES,
    DidDocument,
    KeyBinding,
    Service,
    VerificationMethod,
    did_of,
    document_key,
    sign_operation,
    verify_with_document,
)
from civichain.modules.identity import AddKey, AddService, CreateDid, DeactivateDid, RemoveKey, RemoveService, RotateKey
from civichain.state import verify_state_proof
from tests.conftest import CHAIN, Chain, open_ledger, run_block
from tests.modules.idsupport import CIVIL, FINANCE, LAND, TAX, IdChain, public, subject_key

POOL = [subject_key(f"pool {i}") for i in range(12)]       # every key a DID ever holds comes from here
PRIVATE = {public(k): k for k in POOL}
CHANGES = {"add_key": AddKey, "rotate_key": RotateKey, "remove_key": RemoveKey, "add_service": AddService,
           "remove_service": RemoveService, "deactivate_did": DeactivateDid}
# Keys come and go most often; a deactivation, which is final, seldom.
WEIGHTED_CHANGES = ["add_key"] * 4 + ["rotate_key"] * 2 + ["remove_key"] * 2 + ["add_service"] * 2 + ["remove_service",
                                                                                                  "deactivate_did"]
PURPOSE_SETS = [(AUTHENTICATION,), (ASSERTION, CAPABILITY), PURPOSES, (CAPABILITY, ASSERTION)]   # the last unsorted
KEY_IDS = [FIRST_KEY_ID, "key-2", "key-3"]
SERVICE_IDS = ["inbox", "registry"]
TYPES = ("land_certificate", "tax_receipt")
ISSUING = (LAND, FINANCE, "court")                          # court is no organisation of this chain
SCHEMAS = [hashlib.sha256(b"schema %d" % i).digest() for i in range(3)]
STAFF = ("land admin", "land issuer", "land clerk", "finance admin", "tax admin")
MESSAGE = b"is this key current?"
NOT_THE_NEW_KEY = subject_key("someone else")              # signs a key proof it should not
mostly = st.sampled_from([True, True, True, False])
rarely = st.sampled_from([False, False, False, True])


@dataclass
class ModelKey:
    id: str
    private: bytes
    purposes: tuple[str, ...]
    since: int


@dataclass
class ModelDid:
    id: str
    controllers: tuple[str, ...]
    keys: list[ModelKey]
    services: list[Service]
    registered_by: str
    created_at: int
    updated_at: int
    version: int = 1
    deactivated_at: int | None = None

    def key(self, key_id: str) -> ModelKey | None:
        return next((k for k in self.keys if k.id == key_id), None)

    def document(self) -> DidDocument:
        """The document the chain must hold for this DID."""
        keys = tuple(VerificationMethod(k.id, public(k.private), k.purposes, k.since) for k in self.keys)
        return DidDocument(self.id, self.controllers, keys, tuple(self.services), self.registered_by, self.created_at,
                           self.updated_at, self.version, self.deactivated_at)


@dataclass
class ModelIssuer:
    did: str
    registered_at: int
    withdrawn_at: int | None = None
    reason: str = ""


@dataclass
class Step:
    """What one transaction is expected to do."""

    code: str = "ok"
    label: str = ""
    unrevoked: set = field(default_factory=set)


def documents(chain: IdChain) -> dict[str, DidDocument]:
    return {d.id: d for k, v in chain.state.items() if k.startswith(b"identity/did/")
            for d in [decode(v, DidDocument)]}


def bindings(chain: IdChain) -> dict[bytes, KeyBinding]:
    return {bytes.fromhex(k.removeprefix(b"identity/key/").decode()): decode(v, KeyBinding)
            for k, v in chain.state.items() if k.startswith(b"identity/key/")}


class IdentityMachine(RuleBasedStateMachine):
    @initialize()
    def start(self):
        chain = self.chain = IdChain(versioned=True)
        self.senders = {"land admin": chain.admins[LAND], "land issuer": chain.issuer_officer,
                        "land clerk": chain.clerk, "finance admin": chain.admins[FINANCE], "tax admin": chain.admins[TAX]}
        self.dids: dict[str, ModelDid] = {}
        self.bindings: dict[bytes, KeyBinding] = {}
        self.issuers: dict[tuple[str, str], ModelIssuer] = {}
        self.schemas: dict[bytes, SchemaRecord] = {}
        self.revoked: dict[tuple[str, str], set[int]] = {}
        self.history: list[dict[str, DidDocument]] = [{} for _ in range(chain.height + 1)]   # the documents by height
        self.retired: set[bytes] = set()
        # Three DIDs to begin with, two of land-bureau and one of finance-bureau, each department an issuer.
        for subject, by in ((0, "officer"), (1, "officer"), (2, "finance admin")):
            self.create_did(subject=subject, by=by, controllers=[], services=[], signed=True)
        for subject, organisation, credential_type in ((0, LAND, TYPES[0]), (2, FINANCE, TYPES[1])):
            pick = sorted(self.dids).index(did_of(public(POOL[subject])))
            self.register_issuer(organisation=organisation, credential_type=credential_type, pick=pick,
                                 by_authority=True)

    # --- DIDs ---

    @rule(subject=st.integers(0, len(POOL) - 1), by=st.sampled_from(["officer", "finance admin", "clerk"]),
          controllers=st.lists(st.integers(0, 15), max_size=2), services=st.lists(
              st.sampled_from(SERVICE_IDS), max_size=2), signed=mostly)
    def create_did(self, subject, by, controllers, services, signed):
        key = POOL[subject]
        did = did_of(public(key))
        named = tuple(self._did(c) for c in controllers)
        chosen = tuple(Service(endpoint=f"https://{s}.example", id=s, type="T") for s in services)
        sender = {"officer": self.chain.officer, "finance admin": self.chain.admins[FINANCE],
                  "clerk": self.chain.clerk}[by]
        code = ("auth.not_permitted" if by == "clerk" else
                "identity.did_exists" if did in self.dids else
                "identity.key_in_use" if public(key) in self.bindings else
                "identity.bad_controllers" if list(named) != sorted(set(named)) or did in named else
                next((self._active_code(c) for c in named if self._active_code(c)), None) or
                ("identity.service_exists" if len(set(services)) < len(services) else
                 "identity.bad_proof" if not signed else "ok"))
        tx = self.chain.create_tx(key, sender=sender, controllers=named, services=chosen,
                                  sign_with=None if signed else POOL[(subject + 1) % len(POOL)])
        if self._run(tx, Step(code, "create_did")):
            h = self.chain.height
            self.dids[did] = ModelDid(did, named, [ModelKey(FIRST_KEY_ID, key, PURPOSES, h)], list(chosen),
                                      sender.account.split("/")[0], h, h)
            self.bindings[public(key)] = KeyBinding(did, FIRST_KEY_ID, h)

    @rule(action=st.sampled_from(WEIGHTED_CHANGES), pick=st.integers(0, 15), signer=st.integers(0, 9),
          signer_key=st.integers(0, 9), right_key=mostly, stale=rarely, key_id=st.sampled_from(KEY_IDS),
          new=st.integers(0, len(POOL) - 1), purposes=st.sampled_from(PURPOSE_SETS), key_proof=mostly,
          service=st.sampled_from(SERVICE_IDS))
    def change(self, action, pick, signer, signer_key, right_key, stale, key_id, new, purposes, key_proof, service):
        did = self._did(pick)
        model = self.dids.get(did)
        version = max(1, (model.version if model else 1) - stale)
        signer_did, signer_key_id, private = self._signer(did, signer, signer_key, right_key)
        fields, new_key = self._fields(action, model, key_id, new, purposes, service)
        step = Step(self._change_code(action, did, version, signer_did, signer_key_id, private, fields, new_key,
                                      key_proof), action)
        wrong_proof = None if key_proof or new_key is None else NOT_THE_NEW_KEY
        tx = self.chain.change_tx(action, CHANGES[action], did, private, signer=f"{signer_did}#{signer_key_id}",
                                  new_key=new_key, key_proof_key=wrong_proof, version=version, **fields)
        if self._run(tx, step):
            self._apply_change(action, model, fields, new_key)

    # --- issuers, schemas, status lists ---

    @rule(organisation=st.sampled_from(ISSUING), credential_type=st.sampled_from(TYPES), pick=st.integers(0, 15),
          by_authority=mostly)
    def register_issuer(self, organisation, credential_type, pick, by_authority):
        did = self._did(pick)
        current = self.issuers.get((organisation, credential_type))
        document = self.dids.get(did)
        code = ("auth.not_permitted" if not by_authority else
                "identity.unknown_organisation" if organisation not in (LAND, FINANCE) else
                "identity.issuer_exists" if current is not None and current.withdrawn_at is None else
                self._active_code(did) or
                ("identity.foreign_did" if document.registered_by != organisation else "ok"))
        sender = self.chain.admins[CIVIL if by_authority else LAND]
        if self._run(self.chain.register_issuer(organisation, credential_type, did, sender=sender),
                     Step(code, "register_issuer")):
            self.issuers[(organisation, credential_type)] = ModelIssuer(did, self.chain.height)

    @rule(organisation=st.sampled_from(ISSUING), credential_type=st.sampled_from(TYPES))
    def withdraw_issuer(self, organisation, credential_type):
        current = self.issuers.get((organisation, credential_type))
        code = ("identity.unknown_issuer" if current is None else
                "identity.issuer_withdrawn" if current.withdrawn_at is not None else "ok")
        args = WithdrawIssuer(credential_type=credential_type, organisation=organisation, reason="merged")
        if self._run(self.chain.tx(self.chain.admins[CIVIL], "identity", "withdraw_issuer", args),
                     Step(code, "withdraw_issuer")):
            current.withdrawn_at, current.reason = self.chain.height, "merged"

    @rule(who=st.sampled_from(STAFF), credential_type=st.sampled_from(TYPES), digest=st.sampled_from(SCHEMAS))
    def register_schema(self, who, credential_type, digest):
        sender = self.senders[who]
        organisation = sender.account.split("/")[0]
        code = self._staff_code(who, organisation, credential_type, withdrawn_ok=False) or (
            "identity.schema_exists" if digest in self.schemas else "ok")
        args = RegisterSchema(credential_type=credential_type, digest=digest, title="a schema")
        if self._run(self.chain.tx(sender, "identity", "register_schema", args), Step(code, "register_schema")):
            self.schemas[digest] = SchemaRecord(digest, credential_type, organisation, "a schema", self.chain.height,
                                                sender.account)

    @rule(revoke=mostly, who=st.sampled_from(STAFF), credential_type=st.sampled_from(TYPES),
          indices=st.one_of(st.sets(st.integers(0, 40), min_size=1, max_size=4).map(sorted),
                            st.lists(st.integers(0, 40), min_size=1, max_size=3)))
    def change_status(self, revoke, who, credential_type, indices):
        sender = self.senders[who]
        organisation = sender.account.split("/")[0]
        bits = self.revoked.setdefault((organisation, credential_type), set())
        code = self._staff_code(who, organisation, credential_type, withdrawn_ok=revoke) or (
            "identity.bad_indices" if any(b <= a for a, b in zip(indices, indices[1:])) else
            next(("identity.already_revoked" if revoke else "identity.not_revoked"
                  for i in indices if (i in bits) == revoke), "ok"))
        action = "revoke" if revoke else "unrevoke"
        step = Step(code, action, set() if revoke or code != "ok" else set(indices))
        if self._run(self.chain.status_tx(sender, action, credential_type, *indices), step):
            if revoke:
                bits.update(indices)
            else:
                bits.difference_update(indices)

    # --- resolution at an earlier height ---

    @rule(pick=st.integers(0, 15), back=st.integers(0, 30))
    def resolve_at_an_earlier_height(self, pick, back):
        self._record_height()
        did, height = self._did(pick), max(0, self.chain.height - back)
        value, _, _ = self.chain.versions.resolve(document_key(did), height)     # its proof checked there
        was = self.history[height].get(did)
        assert (None if value is None else decode(value, DidDocument)) == was, (did, height)
        event("resolved " + ("a document" if was is not None else "an absent DID"))

    # --- the model's helpers ---

    def _did(self, pick: int) -> str:
        """Mostly a DID the model knows, sometimes one never created."""
        known = sorted(self.dids)
        return known[pick % len(known)] if known and pick < 13 else did_of(public(POOL[pick % len(POOL)]))

    def _active_code(self, did: str) -> str:
        model = self.dids.get(did)
        return ("identity.unknown_did" if model is None else
                "identity.did_deactivated" if model.deactivated_at is not None else "")

    def _signer(self, did: str, signer: int, signer_key: int, right_key: bool) -> tuple[str, str, bytes]:
        """A signer of a change of `did`: the DID itself (mostly), one of its controllers, or another DID; one of the
        signer's keys (or a key id it lacks); signing with that key's private key (mostly) or another."""
        model = self.dids.get(did)
        controllers, everyone = list(model.controllers if model else ()), sorted(self.dids)
        if signer >= 8 and everyone:
            signer_did = everyone[signer % len(everyone)]
        elif signer >= 6 and controllers:
            signer_did = controllers[signer % len(controllers)]
        else:
            signer_did = did
        keys = self.dids[signer_did].keys if signer_did in self.dids else []
        if keys and signer_key < 8:
            chosen = keys[signer_key % len(keys)]
            return signer_did, chosen.id, chosen.private if right_key else POOL[signer_key % len(POOL)]
        return signer_did, "key-9", POOL[signer_key % len(POOL)]

    def _fields(self, action: str, model: ModelDid | None, key_id: str, new: int, purposes, service: str):
        """The change's own arguments, and the private key it brings in (add_key, rotate_key)."""
        if action in ("rotate_key", "remove_key") and model is not None and model.keys and key_id == FIRST_KEY_ID:
            key_id = model.keys[new % len(model.keys)].id                # mostly a key the document has
        if action == "add_key":
            return dict(key_id=key_id, purposes=purposes), POOL[new]
        if action == "rotate_key":
            return dict(key_id=key_id), POOL[new]
        if action == "remove_key":
            return dict(key_id=key_id), None
        if action == "add_service":
            return dict(service=Service(endpoint=f"https://{service}.example", id=service, type="T")), None
        if action == "remove_service":
            return dict(service_id=service), None
        return {}, None

    def _change_code(self, action, did, version, signer_did, signer_key_id, private, fields, new_key, key_proof) -> str:
        """The code of a change, in the order the module checks: the document, its version, the signature, then
        the action's own rules."""
        model = self.dids.get(did)
        code = self._active_code(did) or ("identity.stale_version" if version != model.version else "")
        if not code:
            code = self._signature_code(model, signer_did, signer_key_id, private)
        return code or self._rules_code(action, model, fields, new_key, key_proof)

    def _signature_code(self, model: ModelDid, signer_did: str, key_id: str, private: bytes) -> str:
        if signer_did != model.id and signer_did not in model.controllers:
            return "identity.not_controller"
        signer = self.dids[signer_did]
        if signer.deactivated_at is not None:
            return "identity.did_deactivated"
        method = signer.key(key_id)
        return ("identity.unknown_key" if method is None else
                "identity.not_capability_key" if CAPABILITY not in method.purposes else
                "identity.bad_proof" if private != method.private else "")

    def _rules_code(self, action: str, model: ModelDid, fields: dict, new_key: bytes | None, key_proof: bool) -> str:
        key = model.key(fields.get("key_id", ""))
        new_key_code = ("identity.key_in_use" if new_key is not None and public(new_key) in self.bindings else
                        "identity.bad_key_proof" if not key_proof else "ok")
        if action == "add_key":
            purposes = fields["purposes"]
            return ("identity.key_exists" if key is not None else
                    "identity.too_many_keys" if len(model.keys) >= MAX_KEYS else
                    "identity.bad_purposes" if list(purposes) != sorted(set(purposes)) else new_key_code)
        if action == "rotate_key":
            return "identity.unknown_key" if key is None else new_key_code
        if action == "remove_key":
            remaining = [k for k in model.keys if k is not key]
            return ("identity.unknown_key" if key is None else
                    "identity.last_key" if not any(CAPABILITY in k.purposes for k in remaining) else "ok")
        if action == "add_service":
            return ("identity.service_exists" if any(s.id == fields["service"].id for s in model.services) else
                    "identity.too_many_services" if len(model.services) >= MAX_SERVICES else "ok")
        if action == "remove_service":
            return "ok" if any(s.id == fields["service_id"] for s in model.services) else "identity.unknown_service"
        return "ok"

    def _apply_change(self, action: str, model: ModelDid, fields: dict, new_key: bytes | None) -> None:
        h = self.chain.height
        key_id = fields.get("key_id")
        if action == "add_key":
            model.keys.append(ModelKey(key_id, new_key, tuple(fields["purposes"]), h))
        elif action == "rotate_key":
            old = model.key(key_id)
            self._retire(old.private)
            model.keys[model.keys.index(old)] = ModelKey(key_id, new_key, old.purposes, h)
        elif action == "remove_key":
            old = model.key(key_id)
            self._retire(old.private)
            model.keys.remove(old)
        elif action == "add_service":
            model.services.append(fields["service"])
        elif action == "remove_service":
            model.services = [s for s in model.services if s.id != fields["service_id"]]
        else:
            for k in model.keys:
                self._retire(k.private)
            model.keys, model.services, model.deactivated_at = [], [], h
        if new_key is not None:
            self.bindings[public(new_key)] = KeyBinding(model.id, key_id, h)
        model.version, model.updated_at = model.version + 1, h

    def _retire(self, private: bytes) -> None:
        binding = self.bindings[public(private)]
        self.bindings[public(private)] = KeyBinding(binding.did, binding.key_id, binding.bound_at, self.chain.height)
        self.retired.add(public(private))

    def _staff_code(self, who: str, organisation: str, credential_type: str, *, withdrawn_ok: bool) -> str:
        """The policy (an admin or issuer of any organisation), then the sender's organisation's registration."""
        issuer = self.issuers.get((organisation, credential_type))
        return ("auth.not_permitted" if who == "land clerk" else
                "identity.not_issuer" if issuer is None else
                "identity.issuer_withdrawn" if issuer.withdrawn_at is not None and not withdrawn_ok else "")

    def _run(self, tx: bytes, step: Step) -> bool:
        """Run `tx` alone in a block; check its code, that a refusal changed nothing but the nonce, and that no
        revoked bit was cleared but those the step unrevokes."""
        self._record_height()
        before, bits_before = self.chain.snapshot_without_nonces(), self._chain_bits()
        receipt = self.chain.block(tx).receipts[0]
        assert receipt.code == step.code, (step.label, receipt.code, step.code, receipt.where, receipt.got)
        event(f"{step.label}: {step.code}")
        if step.code != "ok":
            assert self.chain.snapshot_without_nonces() == before and receipt.events == ()
        after = self._chain_bits()
        for name, bits in bits_before.items():
            cleared = bits - after.get(name, set())
            assert cleared <= step.unrevoked, f"revoked bits {sorted(cleared)} of {name} were cleared"
        return step.code == "ok"

    def _record_height(self) -> None:
        """Remember the documents as the model has them now, for every height up to the chain's (the model is
        updated after each block, so this runs before the next block and before resolving)."""
        while len(self.history) <= self.chain.height:
            self.history.append({did: model.document() for did, model in self.dids.items()})

    def _chain_bits(self) -> dict[tuple[str, str], set[int]]:
        lists = [decode(v, StatusList) for k, v in self.chain.state.items() if k.startswith(b"identity/status/")]
        return {(s.organisation, s.credential_type): {i for i in range(8 * len(s.bits)) if is_revoked(s.bits, i)}
                for s in lists}

    # --- invariants ---

    @invariant()
    def documents_and_key_bindings_are_the_models(self):
        assert documents(self.chain) == {did: model.document() for did, model in self.dids.items()}
        assert bindings(self.chain) == self.bindings

    @invariant()
    def a_retired_key_never_verifies_as_current(self):
        signatures = [ED25519_SHA256.sign(PRIVATE[key], MESSAGE) for key in sorted(self.retired)]
        for model in self.dids.values():
            document = model.document()
            assert not {k.public_key for k in document.keys} & self.retired
            for method in document.keys:
                for signature in signatures:
                    for purpose in PURPOSES:
                        assert not verify_with_document(document, method.id, purpose, MESSAGE, signature)

    @invariant()
    def issuers_schemas_and_status_lists_are_the_models(self):
        for (organisation, credential_type), issuer in self.issuers.items():
            assert self.chain.issuer(organisation, credential_type) == IssuerRecord(
                organisation, credential_type, issuer.did, issuer.registered_at, self.chain.admins[CIVIL].account,
                issuer.withdrawn_at, issuer.reason)
        for digest, schema in self.schemas.items():
            assert decode(self.chain.state[schema_key(digest)], SchemaRecord) == schema
        on_chain = self._chain_bits()          # a list whose every bit was cleared stays, empty
        assert {name: bits for name, bits in on_chain.items() if bits} == {n: b for n, b in self.revoked.items() if b}
        for name, bits in on_chain.items():
            listed = self.chain.status_list(*name)
            assert not listed.bits.endswith(b"\x00") and listed.revoked == len(bits)


IdentityMachine.TestCase.settings = settings(max_examples=120, stateful_step_count=40, deadline=None)
test_identity_invariants = IdentityMachine.TestCase


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
