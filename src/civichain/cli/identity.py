"""`civichain identity`: DIDs, credential issuers, schemas and revocation status lists. Every answer read here
is checked against a checkpoint verified through its signed header."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from civichain.cli.common import (AccountOption, JsonOption, KeyOption, NetOption, NodeOption, api_client, app,
                                  console, document_digest, print_history, proof_line, public_key_bytes,
                                  report_submission, send, signer_of, usage_error, verified)

identity_app = typer.Typer(help="Identity: DIDs (did:civic:...), credential issuers, schemas and revocation status "
                           "lists. Answers are checked against their state proofs.", no_args_is_help=True)
app.add_typer(identity_app, name="identity")
SigningKeyOption = typer.Option(..., "--signing-key", help="Key file of the DID key that signs the change.")
SignerOption = typer.Option(None, "--signer", help="DID URL of that key (default: DID#key-1), e.g. a controller's key.")


def _identity_api(net: Path, node: str):
    from civichain.client.identity import IdentityClient

    return IdentityClient(api_client(net, node).base_url)


def _key_file(net: Path, path: Path) -> bytes:
    """Return the private key sealed in a key file (passphrase from CIVICHAIN_PASSPHRASE, the network, or asked)."""
    return signer_of(net, "", path).private_key


def _service(text: str):
    from civichain.modules.did import Service

    service_id, sep, rest = text.partition("=")
    kind, sep2, endpoint = rest.partition("=")
    if not (sep and sep2):
        usage_error("--service", text, "ID=TYPE=ENDPOINT")
    return Service(endpoint=endpoint, id=service_id, type=kind)


def _change_did(net: Path, node: str, account: str, key: Optional[Path], action: str, did: str, signing_key: Path,
                signer: Optional[str], new_key: Optional[Path] = None, **fields) -> dict:
    """Sign a change of `did` at its current version with the DID key in `signing_key` and submit it."""
    from civichain.crypto import ED25519_SHA256
    from civichain.modules.did import sign_operation
    from civichain.modules.identity import MODULE

    api = _identity_api(net, node)
    schema = MODULE.actions[action].schema
    version = api.did(did)["document"]["version"]
    new_private = _key_file(net, new_key) if new_key else None
    if new_private is not None:
        fields["public_key"] = ED25519_SHA256.public_key(new_private)
    proofs = {f: b"" for f in ("key_proof", "proof") if f in schema.__struct_fields__}
    # Checked against the action's schema by the node's admission (tx.bad_arguments names the field).
    args = schema(did=did, signer=signer or f"{did}#key-1", version=version, **proofs, **fields)
    signed = sign_operation(api.status()["chain_id"], action, args, _key_file(net, signing_key), new_private)
    return send(net, node, account, key, "identity", action, signed)


@identity_app.command("create")
def identity_create(
    subject_key: Path = typer.Option(..., "--subject-key", help="Key file of the new DID's first key (its holder's)."),
    controllers: list[str] = typer.Option([], "--controller", help="Another DID that may change it; repeatable."),
    services: list[str] = typer.Option([], "--service", help="A service as ID=TYPE=ENDPOINT; repeatable."),
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Create the DID of a new key (an admin or identity_officer sends it; the key signs the request).

    Example: civichain keys new alice --out alice.key;
    civichain identity create --subject-key alice.key --account civil-affairs/admin
    """
    from civichain.crypto import ED25519_SHA256
    from civichain.modules.did import did_of, sign_operation
    from civichain.modules.identity import CreateDid

    private = _key_file(net, subject_key)
    public = ED25519_SHA256.public_key(private)
    args = CreateDid(controllers=tuple(sorted(controllers)), proof=b"", public_key=public,
                     services=tuple(_service(s) for s in services))
    signed = sign_operation(api_client(net, node).status()["chain_id"], "create_did", args, private)
    answer = send(net, node, account, key, "identity", "create_did", signed)
    if not as_json:
        console.print(f"DID {did_of(public)} (key-1 = {public.hex()})")
    report_submission(answer, as_json)


@identity_app.command("resolve")
def identity_resolve(did: str = typer.Argument(..., help="The DID, did:civic:<32 hex digits>."),
                     height: Optional[int] = typer.Option(None, help="A retained height (default: the latest)."),
                     net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """Resolve a DID at a height: check its state proof against that height's checkpoint (verified through its
    signed header) and print the keys and services of the document proved.

    Example: civichain identity resolve did:civic:4f0c… --height 120
    """
    from civichain.modules.did import DidDocument, document_key

    reads = verified(net, node, height)
    answer = reads.read(f"/v1/identity/dids/{did}")
    d = reads.record(answer["document"], answer["state"], DidDocument, document_key(did))
    if as_json:
        console.print_json(json.dumps(answer))
        return
    status = "[green]active[/green]" if d.active else f"[red]deactivated[/red] at height {d.deactivated_at}"
    console.print(f"{d.id} at height {reads.height}: {status}, version {d.version}, registered by "
                  f"{d.registered_by} at {d.created_at}, last changed at {d.updated_at}")
    for k in d.keys:
        console.print(f"  key {k.id}: {k.public_key.hex()} ({', '.join(k.purposes)}) since {k.since}")
    for service in d.services:
        console.print(f"  service {service.id}: {service.type} " + escape(service.endpoint))
    if d.controllers:
        console.print(f"  controllers: {', '.join(d.controllers)}")
    proof_line(reads)


@identity_app.command("history")
def identity_history(did: str = typer.Argument(..., help="The DID."), net: Path = NetOption, node: str = NodeOption,
                     as_json: bool = JsonOption) -> None:
    """List every change of a DID, oldest first, each with its transaction, whose inclusion proof is checked
    against a checkpoint verified through its signed header.

    Example: civichain identity history did:civic:4f0c…
    """
    reads = verified(net, node)
    print_history(reads.history(f"/v1/identity/dids/{did}/history"), reads, as_json)


@identity_app.command("key")
def identity_key(public_key: str = typer.Argument(..., help="A public key, 64 hex digits."),
                 net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """Show the DID a public key belongs to (or belonged to), checking the state proof of its binding.

    Example: civichain identity key 3a5f…
    """
    from civichain.modules.did import KeyBinding, binding_key

    key_bytes = public_key_bytes(public_key, "PUBLIC_KEY")
    reads = verified(net, node)
    answer = reads.read(f"/v1/identity/keys/{key_bytes.hex()}")
    binding = reads.record(answer["record"], answer["state"], KeyBinding, binding_key(key_bytes))
    if as_json:
        console.print_json(json.dumps(answer))
        return
    retired = f"; retired at height {binding.retired_at}" if binding.retired_at is not None else "; in use"
    console.print(f"key {key_bytes.hex()}: {binding.did}#{binding.key_id} since height {binding.bound_at}{retired}")
    proof_line(reads)


@identity_app.command("add-key")
def identity_add_key(
    did: str = typer.Argument(..., help="The DID."), key_id: str = typer.Option(..., help="Id of the new key."),
    new_key: Path = typer.Option(..., "--new-key", help="Key file of the new key (it signs the change too)."),
    purposes: list[str] = typer.Option(["authentication"], "--purpose",
                                       help="authentication, assertion_method or capability_invocation; repeatable."),
    signing_key: Path = SigningKeyOption, signer: Optional[str] = SignerOption,
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Add a key to a DID.

    Example: civichain identity add-key did:civic:4f0c… --key-id phone --new-key phone.key --purpose authentication
    --signing-key alice.key --account civil-affairs/admin
    """
    answer = _change_did(net, node, account, key, "add_key", did, signing_key, signer, new_key, key_id=key_id,
                         purposes=tuple(sorted(set(purposes))))
    report_submission(answer, as_json)


@identity_app.command("rotate-key")
def identity_rotate_key(
    did: str = typer.Argument(..., help="The DID."), key_id: str = typer.Option("key-1", help="Id of the key to rotate."),
    new_key: Path = typer.Option(..., "--new-key", help="Key file of the new key (it signs the change too)."),
    signing_key: Path = SigningKeyOption, signer: Optional[str] = SignerOption,
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Replace a DID key with a new one; the old one is retired for good.

    Example: civichain identity rotate-key did:civic:4f0c… --new-key alice-2027.key --signing-key alice.key
    --account civil-affairs/admin
    """
    answer = _change_did(net, node, account, key, "rotate_key", did, signing_key, signer, new_key, key_id=key_id)
    report_submission(answer, as_json)


@identity_app.command("remove-key")
def identity_remove_key(
    did: str = typer.Argument(..., help="The DID."), key_id: str = typer.Option(..., help="Id of the key to remove."),
    signing_key: Path = SigningKeyOption, signer: Optional[str] = SignerOption,
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Remove a key from a DID (one capability_invocation key must remain).

    Example: civichain identity remove-key did:civic:4f0c… --key-id phone --signing-key alice.key --account civil-affairs/admin
    """
    report_submission(_change_did(net, node, account, key, "remove_key", did, signing_key, signer, key_id=key_id),
                       as_json)


@identity_app.command("add-service")
def identity_add_service(
    did: str = typer.Argument(..., help="The DID."),
    service: str = typer.Option(..., "--service", help="The service as ID=TYPE=ENDPOINT."),
    signing_key: Path = SigningKeyOption, signer: Optional[str] = SignerOption,
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Add a service endpoint to a DID.

    Example: civichain identity add-service did:civic:4f0c… --service inbox=CredentialInbox=https://wallet.example/in
    --signing-key alice.key --account civil-affairs/admin
    """
    answer = _change_did(net, node, account, key, "add_service", did, signing_key, signer, service=_service(service))
    report_submission(answer, as_json)


@identity_app.command("remove-service")
def identity_remove_service(
    did: str = typer.Argument(..., help="The DID."), service_id: str = typer.Option(..., help="Id of the service."),
    signing_key: Path = SigningKeyOption, signer: Optional[str] = SignerOption,
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Remove a service endpoint from a DID.

    Example: civichain identity remove-service did:civic:4f0c… --service-id inbox --signing-key alice.key
    --account civil-affairs/admin
    """
    answer = _change_did(net, node, account, key, "remove_service", did, signing_key, signer, service_id=service_id)
    report_submission(answer, as_json)


@identity_app.command("deactivate")
def identity_deactivate(
    did: str = typer.Argument(..., help="The DID."),
    signing_key: Path = SigningKeyOption, signer: Optional[str] = SignerOption,
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Deactivate a DID for good: its keys are retired, nothing can change it again.

    Example: civichain identity deactivate did:civic:4f0c… --signing-key alice.key --account civil-affairs/admin
    """
    report_submission(_change_did(net, node, account, key, "deactivate_did", did, signing_key, signer), as_json)


@identity_app.command("register-issuer")
def identity_register_issuer(
    organisation: str = typer.Argument(..., help="The organisation that will issue."),
    credential_type: str = typer.Argument(..., help="The credential type, e.g. marriage_certificate."),
    did: str = typer.Option(..., help="The organisation's DID whose assertion keys sign its credentials."),
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Allow an organisation to issue a credential type (civil affairs admins only).

    Example: civichain identity register-issuer land-bureau land_certificate --did did:civic:9a1e…
    --account civil-affairs/admin
    """
    from civichain.modules.credentials import RegisterIssuer

    args = RegisterIssuer(credential_type=credential_type, did=did, organisation=organisation)
    report_submission(send(net, node, account, key, "identity", "register_issuer", args), as_json)


@identity_app.command("withdraw-issuer")
def identity_withdraw_issuer(
    organisation: str = typer.Argument(..., help="The issuing organisation."),
    credential_type: str = typer.Argument(..., help="The credential type."),
    reason: str = typer.Option(..., help="Why (public)."),
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Withdraw an issuer registration (civil affairs admins only); it may still revoke, never unrevoke.

    Example: civichain identity withdraw-issuer land-bureau land_certificate --reason "merged" --account civil-affairs/admin
    """
    from civichain.modules.credentials import WithdrawIssuer

    args = WithdrawIssuer(credential_type=credential_type, organisation=organisation, reason=reason)
    report_submission(send(net, node, account, key, "identity", "withdraw_issuer", args), as_json)


@identity_app.command("issuers")
def identity_issuers(net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """List the credential issuers, checking each registration's state proof against a verified checkpoint.

    Example: civichain identity issuers
    """
    from civichain.modules.credentials import IssuerRecord

    reads = verified(net, node)
    answers = reads.pages("/v1/identity/issuers", "issuers")
    issuers = [reads.record(a["issuer"], a["state"], IssuerRecord) for a in answers]
    if as_json:
        console.print_json(json.dumps(answers))
        return
    if not issuers:
        console.print("no issuers")
    for issuer in issuers:
        _print_issuer(issuer)
    proof_line(reads, f"{len(issuers)} state proofs verified")


@identity_app.command("issuer")
def identity_issuer(organisation: str = typer.Argument(..., help="The issuing organisation."),
                    credential_type: str = typer.Argument(..., help="The credential type."),
                    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """Show one issuer registration, checking its state proof against a verified checkpoint.

    Example: civichain identity issuer land-bureau land_certificate
    """
    from civichain.modules.credentials import IssuerRecord, issuer_key

    reads = verified(net, node)
    answer = reads.read(f"/v1/identity/issuers/{organisation}/{credential_type}")
    issuer = reads.record(answer["record"], answer["state"], IssuerRecord, issuer_key(organisation, credential_type))
    if as_json:
        console.print_json(json.dumps(answer))
        return
    _print_issuer(issuer)
    proof_line(reads)


def _print_issuer(issuer) -> None:
    state = (f"withdrawn at {issuer.withdrawn_at} (" + escape(issuer.withdrawn_reason) + ")"
             if issuer.withdrawn_at is not None else "registered")
    console.print(f"{issuer.organisation} issues {issuer.credential_type}, signed by {issuer.did}: {state} "
                  f"(at {issuer.registered_at} by {issuer.registered_by})")


@identity_app.command("schema")
def identity_schema(schema: str = typer.Argument(..., help="The schema file, or its SHA-256 digest in hex."),
                    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """Show a registered credential schema by its file or digest, checking its state proof.

    Example: civichain identity schema land-certificate-v1.json
    """
    from civichain.modules.credentials import SchemaRecord, schema_key

    digest = document_digest(schema, "SCHEMA")
    reads = verified(net, node)
    answer = reads.read(f"/v1/identity/schemas/{digest.hex()}")
    record = reads.record(answer["record"], answer["state"], SchemaRecord, schema_key(digest))
    if as_json:
        console.print_json(json.dumps(answer))
        return
    console.print(f"schema {digest.hex()}: " + escape(record.title) + f" for {record.credential_type} of "
                  f"{record.organisation}, registered at height {record.registered_at} by {record.registered_by}")
    proof_line(reads)


@identity_app.command("register-schema")
def identity_register_schema(
    file: Path = typer.Argument(..., help="The schema file; only its SHA-256 digest goes on chain."),
    credential_type: str = typer.Option(..., "--type", help="The credential type it describes."),
    title: str = typer.Option(..., help="Its title."),
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Register a credential schema by its digest (an admin or issuer of an organisation issuing the type).

    Example: civichain identity register-schema land-certificate-v1.json --type land_certificate
    --title "Land certificate v1" --account land-bureau/admin
    """
    from civichain.modules.credentials import RegisterSchema

    digest = document_digest(str(file), "FILE")
    args = RegisterSchema(credential_type=credential_type, digest=digest, title=title)
    if not as_json:
        console.print(f"schema {file} digest {digest.hex()}")
    report_submission(send(net, node, account, key, "identity", "register_schema", args), as_json)


def _status_change(action: str, credential_type: str, indices: list[int], account: str, key: Optional[Path],
                   net: Path, node: str, as_json: bool) -> None:
    from civichain.modules.credentials import ChangeStatus

    args = ChangeStatus(credential_type=credential_type, indices=tuple(sorted(set(indices))))
    report_submission(send(net, node, account, key, "identity", action, args), as_json)


@identity_app.command("revoke")
def identity_revoke(
    credential_type: str = typer.Argument(..., help="The credential type."),
    indices: list[int] = typer.Argument(..., help="Status list indices of the credentials to revoke."),
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Revoke credentials of your organisation: set their bits in its status list.

    Example: civichain identity revoke land_certificate 17 42 --account land-bureau/admin
    """
    _status_change("revoke", credential_type, indices, account, key, net, node, as_json)


@identity_app.command("unrevoke")
def identity_unrevoke(
    credential_type: str = typer.Argument(..., help="The credential type."),
    indices: list[int] = typer.Argument(..., help="Status list indices revoked in error."),
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Clear revocation bits set in error (not once the issuer is withdrawn).

    Example: civichain identity unrevoke land_certificate 42 --account land-bureau/admin
    """
    _status_change("unrevoke", credential_type, indices, account, key, net, node, as_json)


@identity_app.command("status")
def identity_status(
    organisation: str = typer.Argument(..., help="The issuing organisation."),
    credential_type: str = typer.Argument(..., help="The credential type."),
    index: Optional[int] = typer.Option(None, help="A credential's index: is it revoked?"),
    height: Optional[int] = typer.Option(None, help="A retained height (default: the latest)."),
    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption,
) -> None:
    """Read an issuer's status list and registration, checking both state proofs against the checkpoint of
    the height (verified through its signed header); whether a credential is revoked is read from the proved
    bits, not from the node's word.

    Example: civichain identity status land-bureau land_certificate --index 42
    """
    from civichain.client.proofs import require_answer
    from civichain.modules.credentials import IssuerRecord, StatusList, is_revoked, issuer_key, status_key

    reads = verified(net, node, height)
    answer = reads.read(f"/v1/identity/status-lists/{organisation}/{credential_type}",
                        {"index": str(index)} if index is not None else None)
    issuer = reads.record(answer["issuer"], answer["issuer_state"], IssuerRecord,
                          issuer_key(organisation, credential_type))
    if reads.state(answer["state"], status_key(organisation, credential_type)) is None:   # absence proved
        require_answer(answer["status_list"] is None, "status_list", "a list", "none: its absence is proved")
        listed = None
    else:
        listed = reads.record(answer["status_list"], answer["state"], StatusList)
    revoked = index is not None and listed is not None and is_revoked(listed.bits, index)
    if index is not None:
        answer["revoked"] = revoked     # what the proof says, whatever the node said
    if as_json:
        console.print_json(json.dumps(answer))
        return
    console.print(f"{organisation}/{credential_type} at height {reads.height}: "
                  f"{listed.revoked if listed else 0} credentials revoked; issuer DID {issuer.did}")
    if index is not None:
        console.print(f"  credential {index}: " + ("[red]revoked[/red]" if revoked else "[green]in force[/green]"))
    proof_line(reads, "state proofs verified (status list and issuer registration)")
