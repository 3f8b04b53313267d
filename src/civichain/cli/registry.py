"""`civichain registry`: accounts. Suspend, reinstate, rotate an account's key (`civichain submit
register-account` adds one); read an account and its history, checked against a checkpoint verified through its
signed header."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from civichain.cli.common import (AccountOption, JsonOption, KeyOption, NetOption, NodeOption, app, console,
                                  print_history, proof_line, public_key_bytes, report_events, report_submission,
                                  send, verified)

registry_app = typer.Typer(help="Accounts: suspend, reinstate, rotate an account's key, read an account and its "
                           "history.", no_args_is_help=True)
app.add_typer(registry_app, name="registry")


@registry_app.command("rotate-key")
def registry_rotate_key(
    target: str = typer.Argument(..., help="The account whose key changes, e.g. land-bureau/alice."),
    public_key: str = typer.Option(..., help="Its new public key, hex (see `civichain keys new`)."),
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Give an account a new key (the account itself, or an admin of its organisation, signs).

    Example: civichain keys new land-bureau/alice --out alice-2027.key;
    civichain registry rotate-key land-bureau/alice --public-key 7be1… --account land-bureau/alice
    """
    from civichain.modules.registry import RotateKey

    key_bytes = public_key_bytes(public_key, "--public-key")
    answer = send(net, node, account, key, "registry", "rotate_key", RotateKey(id=target, public_key=key_bytes))
    if not as_json and answer.get("status") == "committed":
        console.print(f"{target} now signs with {public_key}; sign its next transactions with the new key file")
    report_submission(answer, as_json)


@registry_app.command("history")
def registry_history(target: str = typer.Argument(..., help="The account, organisation/name."), net: Path = NetOption,
                     node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """List an account's changes (added, suspended, reinstated, key rotated), each with its transaction, whose
    inclusion proof is checked against a checkpoint verified through its signed header.

    Example: civichain registry history land-bureau/alice
    """
    reads = verified(net, node)
    print_history(reads.history(f"/v1/accounts/{target}/history"), reads, as_json)


@registry_app.command("suspend-account")
def registry_suspend_account(
    target: str = typer.Argument(..., help="The account to suspend, e.g. land-bureau/clerk."),
    reason: str = typer.Option(..., help="Why (public; no personal data)."),
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Suspend an account (an admin of its organisation, never for its own account): it can neither send nor
    endorse a transaction until reinstated.

    Example: civichain registry suspend-account land-bureau/clerk --reason "laptop lost" --account land-bureau/admin
    """
    from civichain.modules.registry import SuspendAccount

    args = SuspendAccount(id=target, reason=reason)
    report_events(send(net, node, account, key, "registry", "suspend_account", args), as_json)


@registry_app.command("reinstate-account")
def registry_reinstate_account(
    target: str = typer.Argument(..., help="The suspended account, e.g. land-bureau/clerk."),
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Reinstate a suspended account (an admin of its organisation).

    Example: civichain registry reinstate-account land-bureau/clerk --account land-bureau/admin
    """
    from civichain.modules.registry import ReinstateAccount

    report_events(send(net, node, account, key, "registry", "reinstate_account", ReinstateAccount(id=target)),
                  as_json)


@registry_app.command("account")
def registry_account(target: str = typer.Argument(..., help="The account, organisation/name."),
                     net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """Show an account (organisation, roles, key, suspended or not), checking its state proof against a
    checkpoint verified through its signed header.

    Example: civichain registry account land-bureau/alice
    """
    from civichain.modules.membership import AccountRecord, account_key

    reads = verified(net, node)
    answer = reads.read(f"/v1/accounts/{target}")
    record = reads.record(answer["account"], answer["state"], AccountRecord, account_key(target))
    if as_json:
        console.print_json(json.dumps(answer))
        return
    console.print(f"account {record.id} of {record.organisation}: roles {', '.join(record.roles) or 'none'}; "
                  f"key {record.public_key.hex()}; " + ("[red]suspended[/red]" if record.suspended
                                                         else "[green]active[/green]"))
    proof_line(reads)
