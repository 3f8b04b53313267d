"""What every `civichain` command shares: the app and its consoles, the exit codes, the options that name a
network, node, account and key; signing and submitting a transaction; and reading answers checked against a
checkpoint whose app hash is in a CometBFT signed header (`verified`).

Exit codes: 0 all well; 1 a check found a problem; 2 bad usage or config; 3 runtime failure.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, Optional, Sequence

import typer
from rich.console import Console
from rich.markup import escape

from civichain.errors import CivicError

if TYPE_CHECKING:
    from civichain.client.api import ApiClient
    from civichain.client.tx import Signer
    from civichain.client.verified import VerifiedReads

app = typer.Typer(help="civichain: public records that departments keep together and anyone can verify.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
console = Console()
err = Console(stderr=True)

EXIT_PROBLEM, EXIT_USAGE, EXIT_RUNTIME = 1, 2, 3
# A block's checkpoint is signed in the next header: an idle network makes one within its empty-block interval.
CHECKPOINT_PATIENCE_S = 5.0

NetOption = typer.Option(Path("net"), "--net", help="Network folder (for node addresses and dev keys).")
NodeOption = typer.Option("node0", "--node", help="Node whose API to use.")
JsonOption = typer.Option(False, "--json", help="Print JSON.")
AccountOption = typer.Option(..., "--account", help="Signing account: it sends the transaction (who may: "
                             "`civichain policies MODULE`).")
KeyOption = typer.Option(None, "--key", help="Key file of the signing account (default: NET/keys/<account>.key).")


class UsageError(CivicError):
    """A command given something it cannot use (a key file that is not there); exits 2."""


def main() -> None:
    """Run the command line, turning our errors into one line with a code and an exit status."""
    debug = "--debug" in sys.argv
    if debug:
        sys.argv.remove("--debug")
    try:
        app()
    except CivicError as exc:
        if debug:
            raise
        code = exit_code(exc)
        label = "[red]NOT VERIFIED[/red] " if code == EXIT_PROBLEM else "[red]error[/red] "
        err.print(label + escape(f"{exc.code}: {exc.where} is {exc.got!r}, expected {exc.expected}"))
        sys.exit(code)


def exit_code(exc: CivicError) -> int:
    """Return the exit status of an error: 1 for a proof or answer that does not check out, 2 for bad usage or
    config (a request the node refused as malformed or naming nothing), 3 for anything else at run time."""
    from civichain.client.api import ApiClientError
    from civichain.client.checkpoint import CheckpointMismatch
    from civichain.client.proofs import AnswerMismatch
    from civichain.log import ProofError
    from civichain.state import StateProofError

    if isinstance(exc, (AnswerMismatch, CheckpointMismatch, ProofError, StateProofError)):
        return EXIT_PROBLEM
    if exc.code.startswith(("config.", "keyfile.", "genesis.", "cli.")):
        return EXIT_USAGE
    if isinstance(exc, ApiClientError) and exc.status is not None and 400 <= exc.status < 500:
        return EXIT_USAGE
    return EXIT_RUNTIME


def api_client(net: Path, node: str) -> "ApiClient":
    """Return a client of the API of `node` in the network folder `net`. Raises ConfigError `config.invalid`."""
    from civichain.client.api import ApiClient
    from civichain.node.network import load_network

    for entry in load_network(net).nodes:
        if entry.name == node:
            return ApiClient(entry.api_url)
    from civichain.node.config import ConfigError
    raise ConfigError("config.invalid", where="--node", got=node, expected=f"a node of {net}/network.toml")


def signer_of(net: Path, account: str, key: Optional[Path]) -> "Signer":
    """Open the key file of `account` (default NET/keys/<account>.key), with the passphrase from
    CIVICHAIN_PASSPHRASE, the network's dev PASSPHRASE file, or asked."""
    from civichain.client.tx import Signer
    from civichain.crypto import ED25519_SHA256, decrypt_key

    path = key or net / "keys" / (account.replace("/", ".") + ".key")
    if not path.is_file():
        raise UsageError("cli.bad_key_file", where=str(path), got="no such file",
                         expected=f"the key file of {account or 'the key'} (see `civichain keys new`)")
    passphrase = os.environ.get("CIVICHAIN_PASSPHRASE")
    if passphrase is None and (net / "keys" / "PASSPHRASE").exists():
        passphrase = (net / "keys" / "PASSPHRASE").read_text().strip()
    if passphrase is None:
        passphrase = typer.prompt(f"Passphrase of {path}", hide_input=True)
    sealed = decrypt_key(path.read_bytes(), passphrase, where=str(path))
    return Signer(account, sealed.private_key, ED25519_SHA256)


def send(net: Path, node: str, account: str, key: Optional[Path], module: str, action: str, args,
         endorsers: Sequence[str] = ()) -> dict:
    """Sign a transaction with `account`'s key and each endorser's (`ACCOUNT` or `ACCOUNT=KEYFILE`), submit it
    and wait for its commit; return the API's answer."""
    from civichain.client.tx import build_body, sign

    api = api_client(net, node)
    signer = signer_of(net, account, key)
    endorsing = []
    for item in endorsers:
        endorser, _, path = item.partition("=")
        endorsing.append(signer_of(net, endorser, Path(path) if path else None))
    nonce = api.account(account)["next_nonce"]
    status = api.status()
    body = build_body(status["chain_id"], account, nonce, status["height"] + 1000, module, action, args)
    return api.submit(sign(body, signer, endorsing), wait=True)


def report_submission(answer: dict, as_json: bool) -> None:
    """Print what became of a submitted transaction; exit 1 when it failed or was refused."""
    if as_json:
        console.print_json(json.dumps(answer))
        return
    receipt = answer.get("receipt", {})
    if answer.get("status") == "committed":
        console.print(f"[green]committed[/green] tx {answer['tx_id']} at height {answer['height']}")
    elif answer.get("status") == "pending":
        console.print(f"[yellow]pending[/yellow] tx {answer['tx_id']} (not committed yet; query it later)")
    else:
        console.print(f"[red]{answer.get('status')}[/red] tx {answer['tx_id']}: {receipt.get('code')}: "
                      f"{receipt.get('where')} is {receipt.get('got')}, expected {receipt.get('expected')}")
        raise typer.Exit(EXIT_PROBLEM)


def report_events(answer: dict, as_json: bool, hidden: Sequence[str] = ()) -> None:
    """Print the outcome of a submission and, when committed, what the module recorded (its events)."""
    if not as_json and answer.get("status") == "committed":
        for event in answer["receipt"]["events"]:
            facts = ", ".join(f"{a['key']}={a['value']}" for a in event["attributes"] if a["key"] not in hidden)
            console.print(f"  {event['type']} {event['key']}: " + escape(facts))
    report_submission(answer, as_json)


def usage_error(option: str, got: object, expected: str) -> NoReturn:
    """Print a one-line usage error naming the option, what was given and what was expected; exit 2."""
    err.print("[red]error[/red] " + escape(f"cli.bad_option: {option} is {got!r}, expected {expected}"))
    raise typer.Exit(EXIT_USAGE)


def document_digest(text: str, option: str) -> bytes:
    """Return a file's SHA-256 digest, or the digest itself given as 64 hex digits; exit 2 for anything else."""
    path = Path(text)
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).digest()
    try:
        digest = bytes.fromhex(text)
    except ValueError:
        digest = b""
    if len(digest) != 32:
        usage_error(option, text, "a file, or its SHA-256 digest as 64 hex digits")
    return digest


def public_key_bytes(text: str, option: str) -> bytes:
    """Return a 32-byte public key written as 64 hex digits; exit 2 for anything else."""
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != 32:
        usage_error(option, text, "a public key as 64 hex digits")
    return key


def verified(net: Path, node: str, height: Optional[int] = None) -> "VerifiedReads":
    """Fetch the checkpoint of `height` (default: the latest, awaited for up to CHECKPOINT_PATIENCE_S until it
    covers the node's last block) and check it against the CometBFT header that commits to it; return the
    reads through which every answer is checked against it.

    Raises CheckpointMismatch (exit 1) when the checkpoint is not the one the header commits to.
    """
    from civichain.client.verified import VerifiedReads

    return VerifiedReads(api_client(net, node), height, patience=CHECKPOINT_PATIENCE_S)


def proof_line(reads: "VerifiedReads", what: str = "state proof verified") -> None:
    """Print that the proofs were checked, against which checkpoint, and where its app hash is signed."""
    c = reads.checkpoint
    console.print(f"  [green]{what}[/green] against checkpoint {c.height} (state root {c.state_root.hex()[:16]}…, "
                  f"log size {c.log_size}), whose app hash is in the signed header of height {c.height + 1}")


def print_history(entries: list[tuple[dict, object]], reads: "VerifiedReads", as_json: bool) -> None:
    """Print a verified history: each entry's height, event, transaction and facts, oldest first."""
    if as_json:
        from civichain.codec import to_plain

        console.print_json(json.dumps({"checkpoint": to_plain(reads.checkpoint),
                                       "entries": [entry for entry, _ in entries]}))
        return
    if not entries:
        console.print("no changes recorded")
    for entry, tx in entries:
        facts = ", ".join(f"{k}={v}" for k, v in sorted(entry["attributes"].items()))
        by = (f"tx {entry['tx_id'][:16]}… #{entry['inclusion']['log_index']} by {tx.body.sender}" if tx is not None
              else f"block task {entry['end_block']}")
        console.print(f"height {entry['height']:>8}  {entry['type']:21} {by}  " + escape(facts))
    console.print(f"{len(entries)} entries")
    proof_line(reads, f"{sum(tx is not None for _, tx in entries)} inclusion proofs verified")
