"""An in-memory chain for identity tests: four departments (civil affairs among them), officers, and DID subjects."""

from __future__ import annotations

import hashlib

from civichain.crypto import ED25519_SHA256
from civichain.modules.credentials import (
    ChangeStatus,
    IssuerRecord,
    RegisterIssuer,
    StatusList,
    load_issuer,
    load_status_list,
)
from civichain.modules.did import DidDocument, KeyBinding, did_of, load_binding, load_document, sign_operation
from civichain.modules.identity import CreateDid
from civichain.modules.registry import AddAccount
from tests.conftest import CHAIN, make_signer
from tests.modules.govsupport import GovChain

LAND, FINANCE, TAX, CIVIL = "land-bureau", "finance-bureau", "tax-bureau", "civil-affairs"
BLANK = b""


def subject_key(name: str) -> bytes:
    """A DID subject's private key (an Ed25519 seed), stable per name."""
    return hashlib.sha256(b"subject " + name.encode()).digest()


def public(private_key: bytes) -> bytes:
    return ED25519_SHA256.public_key(private_key)


class IdChain(GovChain):
    """Land, finance, tax and civil affairs, each with an admin; land-bureau also has an identity officer, a
    clerk and an issuer officer, registered by its admin in block 1."""

    def __init__(self, *, versioned: bool = False) -> None:
        super().__init__(4, versioned=versioned)
        self.officer = make_signer("land-bureau/officer")
        self.issuer_officer = make_signer("land-bureau/issuing")
        land = self.admins[LAND]
        run = self.block(
            self.tx(land, "registry", "add_account", AddAccount(id=self.officer.account, public_key=self.officer.public_key,
                                                                roles=("identity_officer",))),
            self.tx(land, "registry", "add_account", AddAccount(id=self.issuer_officer.account,
                                                                public_key=self.issuer_officer.public_key,
                                                                roles=("issuer",))),
        )
        assert [r.code for r in run.receipts] == ["ok", "ok"]

    # --- DIDs ---

    def create_tx(self, key: bytes, *, sender=None, controllers=(), services=(), sign_with: bytes | None = None):
        args = CreateDid(controllers=tuple(controllers), proof=BLANK, public_key=public(key), services=tuple(services))
        signed = sign_operation(CHAIN, "create_did", args, sign_with or key)
        return self.tx(sender or self.officer, "identity", "create_did", signed)

    def create(self, name: str, **kw) -> str:
        """Create the DID of subject `name` in a block of its own; return the DID."""
        key = subject_key(name)
        run = self.block(self.create_tx(key, **kw))
        assert run.receipts[0].code == "ok", run.receipts[0]
        return did_of(public(key))

    def change_tx(self, action: str, schema, did: str, signing_key: bytes, *, signer: str | None = None,
                  new_key: bytes | None = None, key_proof_key: bytes | None = None, version: int | None = None,
                  sender=None, **fields) -> bytes:
        """A signed change of `did` by `signer` (default: its key-1) with `signing_key`, at its current version;
        `new_key` is the key brought in, which signs `key_proof` (or `key_proof_key`, to test a bad one)."""
        if version is None:
            version = self.document(did).version
        proofs = {f: BLANK for f in ("key_proof", "proof") if f in schema.__struct_fields__}
        if new_key is not None:
            fields["public_key"] = public(new_key)
        args = schema(did=did, signer=signer or f"{did}#key-1", version=version, **proofs, **fields)
        signed = sign_operation(CHAIN, action, args, signing_key, key_proof_key or new_key)
        return self.tx(sender or self.clerk, "identity", action, signed)

    def document(self, did: str) -> DidDocument:
        found = load_document(self.reader(), did)
        assert found is not None, f"no document of {did}"
        return found

    def binding(self, key: bytes) -> KeyBinding | None:
        return load_binding(self.reader(), public(key))

    # --- issuers and status lists ---

    def register_issuer(self, organisation: str, credential_type: str, did: str, sender=None) -> bytes:
        return self.tx(sender or self.admins[CIVIL], "identity", "register_issuer",
                       RegisterIssuer(credential_type=credential_type, did=did, organisation=organisation))

    def status_tx(self, signer, action: str, credential_type: str, *indices: int) -> bytes:
        return self.tx(signer, "identity", action, ChangeStatus(credential_type=credential_type, indices=tuple(indices)))

    def issuer(self, organisation: str, credential_type: str) -> IssuerRecord | None:
        return load_issuer(self.reader(), organisation, credential_type)

    def status_list(self, organisation: str, credential_type: str) -> StatusList | None:
        return load_status_list(self.reader(), organisation, credential_type)

    def land_issuer(self, credential_type: str = "land_certificate") -> str:
        """Give land-bureau a DID and register it as an issuer of `credential_type`; return the DID."""
        did = self.create(f"land-bureau {credential_type}")
        run = self.block(self.register_issuer(LAND, credential_type, did))
        assert run.receipts[0].code == "ok", run.receipts[0]
        return did
