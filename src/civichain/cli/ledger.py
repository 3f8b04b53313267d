"""Commands on the ledger itself: account keys, signing and submitting records, reading transactions, blocks
and checkpoints, the notary's documents, any subject's history, and the modules' published policies."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from civichain.cli.common import (EXIT_PROBLEM, EXIT_USAGE, AccountOption, JsonOption, KeyOption, NetOption,
                                  NodeOption, api_client, app, console, document_digest, err, print_history,
                                  proof_line, public_key_bytes, report_events, report_submission, send,
                                  verified)

keys_app = typer.Typer(help="Account keys: passphrase-sealed key files.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
submit_app = typer.Typer(help="Sign and submit transactions.", no_args_is_help=True)
app.add_typer(submit_app, name="submit")
query_app = typer.Typer(help="Read committed records, each with its proof, checked here.", no_args_is_help=True)
app.add_typer(query_app, name="query")
notary_app = typer.Typer(help="Notarized documents: anchor a document's digest, revoke it, look it up.",
                         no_args_is_help=True)
app.add_typer(notary_app, name="notary")


@keys_app.command("new")
def keys_new(
    account: str = typer.Argument(..., help="Account id, e.g. land-bureau/alice."),
    out: Path = typer.Option(..., "--out", "-o", help="Key file to write."),
) -> None:
    """Make a new key and seal it with a passphrase (from CIVICHAIN_PASSPHRASE, or asked).

    Example: civichain keys new land-bureau/alice --out alice.key
    """
    from civichain.crypto import ED25519_SHA256, KeyFile, encrypt_key

    if out.exists():
        err.print(f"[red]error[/red] keys.exists: {out} exists; choose another file")
        raise typer.Exit(EXIT_USAGE)
    passphrase = os.environ.get("CIVICHAIN_PASSPHRASE") or typer.prompt("Passphrase", hide_input=True,
                                                                        confirmation_prompt=True)
    suite = ED25519_SHA256
    private = suite.generate_private_key()
    public = suite.public_key(private)
    out.write_bytes(encrypt_key(KeyFile(suite.name, private, public, account), passphrase))
    out.chmod(0o600)
    console.print(f"{account}: public key {public.hex()} (sealed in {out})")


@keys_app.command("show")
def keys_show(path: Path = typer.Argument(..., help="Key file.")) -> None:
    """Print a key file's account label, suite and public key (no passphrase needed).

    Example: civichain keys show alice.key
    """
    document = json.loads(path.read_text())
    console.print(f"{document.get('label')}: {document.get('suite')} public key {document.get('public_key')}")


@submit_app.command("notarize")
def submit_notarize(
    file: Path = typer.Argument(..., help="The document; only its SHA-256 digest goes on chain."),
    title: str = typer.Option(..., help="Title of the document."),
    account: str = typer.Option(..., help="Signing account (a notary or admin)."),
    key: Optional[Path] = typer.Option(None, help="Key file (default: NET/keys/<account>.key)."),
    meta: list[str] = typer.Option([], "--meta", help="Metadata as key=value; repeatable."),
    net: Path = NetOption, node: str = NodeOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Anchor a document's digest with a title and metadata, and wait for the commit.

    Example: civichain submit notarize deed.pdf --title "Deed 42" --account land-bureau/admin
    """
    import hashlib

    from civichain.modules.notary import Anchor

    metadata = dict(item.split("=", 1) for item in meta if "=" in item)
    digest = hashlib.sha256(file.read_bytes()).digest()
    answer = send(net, node, account, key, "notary", "anchor", Anchor(digest=digest, metadata=metadata, title=title))
    if not as_json:
        console.print(f"document {file} digest {digest.hex()}")
    report_submission(answer, as_json)


@submit_app.command("register-account")
def submit_register_account(
    new_account: str = typer.Argument(..., help="New account id: <organisation>/<name>."),
    public_key: str = typer.Option(..., help="Its public key, hex (see `civichain keys new`)."),
    roles: str = typer.Option("", help="Comma-separated roles, e.g. notary,clerk."),
    account: str = typer.Option(..., help="Signing admin of the organisation."),
    key: Optional[Path] = typer.Option(None, help="Key file (default: NET/keys/<account>.key)."),
    net: Path = NetOption, node: str = NodeOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Register an account in the signing admin's organisation, and wait for the commit.

    Example: civichain submit register-account land-bureau/alice --public-key 3a… --roles notary --account land-bureau/admin
    """
    from civichain.modules.registry import AddAccount

    args = AddAccount(id=new_account, public_key=public_key_bytes(public_key, "--public-key"), roles=tuple(r for r in roles.split(",") if r))
    report_submission(send(net, node, account, key, "registry", "add_account", args), as_json)


@query_app.command("tx")
def query_tx(tx_id: str = typer.Argument(..., help="Transaction id (hex)."), net: Path = NetOption,
             node: str = NodeOption, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show a transaction with its receipt, and check its inclusion proof against the log of a checkpoint
    verified through its signed header.

    Example: civichain query tx 9f2d…
    """
    reads = verified(net, node)
    answer = reads.read(f"/v1/txs/{tx_id}")
    reads.tx(answer)
    if as_json:
        console.print_json(json.dumps(answer))
        return
    body = answer["tx"]["body"]
    console.print(f"tx {answer['tx_id']}: {answer['status']} at height {answer['height']}, position {answer['position']}")
    console.print(f"  {body['sender']} → {body['module']}.{body['action']} {json.dumps(body['args'], ensure_ascii=False)}")
    console.print(f"  receipt: {answer['receipt']['code']}")
    if "inclusion" in answer:
        inc = answer["inclusion"]
        console.print(f"  [green]inclusion proof verified[/green]: entry {inc['log_index']} of {inc['log_size']} "
                      f"(log root {inc['log_root'][:16]}…, checkpoint height {inc['checkpoint_height']}), whose "
                      f"app hash is in the signed header of height {reads.height + 1}")


@query_app.command("block")
def query_block(height: Optional[int] = typer.Argument(None, help="Height (default: the latest)."),
                net: Path = NetOption, node: str = NodeOption,
                as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show a committed block: app hash, roots and receipts.

    Example: civichain query block 12
    """
    answer = api_client(net, node).block(height)
    if as_json:
        console.print_json(json.dumps(answer))
        return
    c = answer["checkpoint"]
    console.print(f"block {answer['height']} ({len(answer['txs'])} transactions) app hash {answer['app_hash']}")
    console.print(f"  log size {c['log_size']} root {c['log_root']}\n  state root {c['state_root']}")
    for receipt in answer["txs"]:
        console.print(f"  {receipt['tx_id'][:16]}… {receipt['code']}")


@query_app.command("checkpoint")
def query_checkpoint(height: Optional[int] = typer.Option(None, min=1, help="A height (default: the latest)."),
                     net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """Show a checkpoint and check that it hashes to the app hash of the signed header of the next height.

    Example: civichain query checkpoint --height 120
    """
    from civichain.client.checkpoint import CheckpointMismatch, verify_checkpoint_answer

    answer = api_client(net, node).checkpoint(height)
    try:
        verify_checkpoint_answer(answer, height)
        problem = None
    except CheckpointMismatch as exc:
        problem = exc
    c = answer["checkpoint"]
    if as_json:
        console.print_json(json.dumps({**answer, "app_hash_matches_header": problem is None}))
    else:
        console.print(f"checkpoint of {c['chain_id']} at height {c['height']}: log size {c['log_size']}, "
                      f"log root {c['log_root']}, state root {c['state_root']}")
    if problem is not None:
        err.print("[red]the checkpoint is not what the signed header commits to[/red]: " + escape(str(problem)))
        raise typer.Exit(EXIT_PROBLEM)
    if not as_json:
        header = answer["signed_header"]["header"]
        console.print(f"  [green]its app hash {header['app_hash'].lower()[:16]}… is in the header of height "
                      f"{header['height']}[/green], signed by "
                      f"{len(answer['signed_header']['commit']['signatures'])} validators")


@query_app.command("document")
def query_document(document: str = typer.Argument(..., help="A file, or its SHA-256 digest in hex."),
                   net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """Look a notarized document up by file or digest: check its record's state proof against a verified
    checkpoint, and its anchoring transaction's inclusion proof.

    Example: civichain query document deed.pdf
    """
    from civichain.modules.notary import Notarization, document_key

    digest = document_digest(document, "DOCUMENT")
    reads = verified(net, node)
    answer = reads.read(f"/v1/notary/{digest.hex()}")
    d = reads.record(answer["document"], answer["state"], Notarization, document_key(digest))
    reads.tx(answer["anchoring_tx"])
    if as_json:
        console.print_json(json.dumps(answer))
        return
    state = "[red]revoked[/red]" if d.revoked_at is not None else "[green]in force[/green]"
    console.print(escape(d.title) + f": {state}; issued by {d.issuer} ({d.organisation}) at height {d.height}")
    if d.revoked_at is not None:
        console.print(f"  revoked at height {d.revoked_at}: " + escape(d.revoked_reason))
    console.print(f"  digest {d.digest.hex()}; anchoring tx {d.tx_id.hex()}: [green]inclusion proof verified[/green]")
    proof_line(reads)


notary_app.command("notarize")(submit_notarize)
notary_app.command("show")(query_document)


@notary_app.command("revoke")
def notary_revoke(
    document: str = typer.Argument(..., help="The document (a file), or its SHA-256 digest in hex."),
    reason: str = typer.Option(..., help="Why it is revoked (public; no personal data)."),
    account: str = AccountOption, key: Optional[Path] = KeyOption,
    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption,
) -> None:
    """Revoke a notarized document (a notary or admin of the organisation that anchored it).

    Example: civichain notary revoke deed.pdf --reason "Issued in error" --account land-bureau/admin
    """
    from civichain.modules.notary import Revoke

    args = Revoke(digest=document_digest(document, "DOCUMENT"), reason=reason)
    report_events(send(net, node, account, key, "notary", "revoke", args), as_json)


@app.command("history")
def history(module: str = typer.Argument(..., help="The module: registry, notary, identity, land, funds, governance."),
            key: str = typer.Argument(..., help="The subject's key in that module: an account id, a document digest, "
                                           "a DID, a parcel id, a programme id, ..."),
            net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """Show a subject's whole history in one module, oldest first: each event with its transaction, whose
    inclusion proof is checked against a checkpoint verified through its signed header.

    Example: civichain history notary 3f2a…  (or: civichain history land 110101-001-0042)
    """
    from urllib.parse import quote

    reads = verified(net, node)
    print_history(reads.history(f"/v1/history/{quote(module, safe='')}/{quote(key, safe='/:')}"), reads, as_json)


@app.command("policies")
def policies(module: Optional[str] = typer.Argument(None, help="A module (default: every module)."),
             as_json: bool = JsonOption) -> None:
    """List each action of a module and who may perform it: its policy exactly as execution checks it (the same
    answer as GET /v1/modules/MODULE).

    Example: civichain policies land
    """
    from civichain.api.modules import module_answer
    from civichain.modules import ALL_MODULES

    if module is not None and module not in ALL_MODULES:
        err.print("[red]error[/red] " + escape(f"cli.unknown_module: MODULE is {module!r}, expected one of "
                                               f"{', '.join(sorted(ALL_MODULES))}"))
        raise typer.Exit(EXIT_USAGE)
    shown = [ALL_MODULES[module]] if module else list(ALL_MODULES.values())
    rows = {m.name: {name: {k: a[k] for k in ("summary", "performer", "endorsement", "subjects")}
                     for name, a in module_answer(m)["actions"].items()} for m in shown}
    if as_json:
        console.print_json(json.dumps(rows[module] if module else rows))
        return
    for name, actions in rows.items():
        console.print(f"[bold underline]{name}[/bold underline]")
        for action, row in actions.items():
            console.print(f"[bold]{name}.{action}[/bold]: {row['summary']}\n  sent by: {row['performer']}\n"
                          f"  signed by: {row['endorsement']}")
            if row["subjects"]:
                console.print(f"  the subjects: {row['subjects']}")
