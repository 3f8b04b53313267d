"""`civichain gov`: propose changes to the network, vote on them, and follow them with verified proofs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from civichain.cli.common import (EXIT_USAGE, JsonOption, NetOption, NodeOption, app, console, err, proof_line,
                                  report_submission, send, verified)

gov_app = typer.Typer(help="Governance: propose changes to the network, vote on them, follow them.",
                      no_args_is_help=True)
app.add_typer(gov_app, name="gov")


@gov_app.command("kinds")
def gov_kinds(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the kinds of proposal and the payload fields each takes (set them with --set NAME=VALUE).

    Example: civichain gov kinds
    """
    import msgspec

    from civichain.modules.governance import KINDS

    kinds = {name: {f.name: _field_type(f.type) for f in msgspec.inspect.type_info(kind.schema).fields}
             for name, kind in KINDS.items()}
    if as_json:
        console.print_json(json.dumps(kinds))
        return
    for name, fields in kinds.items():
        console.print(f"[bold]{name}[/bold]: " + ", ".join(f"{field} ({kind})" for field, kind in fields.items()))


@gov_app.command("propose")
def gov_propose(
    kind: str = typer.Argument(..., help="Kind of change (see `civichain gov kinds`), e.g. add_validator."),
    title: str = typer.Option(..., help="What the proposal does, for the other organisations."),
    values: list[str] = typer.Option([], "--set", help="A payload field as NAME=VALUE (bytes in hex); repeatable."),
    expires_at: int = typer.Option(0, help="Last height for votes (0: now + the proposal lifetime)."),
    execute_at: int = typer.Option(0, help="Height at whose end it executes once passed (0: as soon as it passes)."),
    account: str = typer.Option(..., help="Signing account: an admin of an active organisation."),
    key: Optional[Path] = typer.Option(None, help="Key file (default: NET/keys/<account>.key)."),
    net: Path = NetOption, node: str = NodeOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Propose a change to the network; the proposing organisation's approval is counted at once.

    Examples:

      civichain gov propose add_validator --title "Tax bureau validator" --account land-bureau/admin
        --set pub_key=3f2a… --set power=10 --set organisation=tax-bureau --set node_id=9ae5…

      civichain gov propose admit_observer --title "University audit node" --account land-bureau/admin
        --set node_id=605d… --set operator="Peking University"

      civichain gov propose change_param --title "Three quarters" --account land-bureau/admin
        --set name=governance_threshold --set value=3/4
    """
    import msgspec

    from civichain.codec import encode
    from civichain.modules.governance import KINDS, Propose

    if kind not in KINDS:
        err.print(f"[red]error[/red] governance.unknown_kind: {kind!r}, expected one of {sorted(KINDS)}")
        raise typer.Exit(EXIT_USAGE)
    payload = _payload(KINDS[kind].schema, values)
    args = Propose(execute_at=execute_at, expires_at=expires_at, kind=kind, payload=msgspec.Raw(encode(payload)),
                   title=title)
    answer = send(net, node, account, key, "governance", "propose", args)
    if not as_json and answer.get("status") == "committed":
        for event in answer["receipt"]["events"]:
            if event["type"] in ("proposed", "passed", "rejected"):
                console.print(f"proposal {event['key']}: {event['type']}")
    report_submission(answer, as_json)


@gov_app.command("vote")
def gov_vote(
    proposal: int = typer.Argument(..., help="Proposal id."),
    approve: bool = typer.Option(..., "--approve/--reject", help="Approve or reject (votes are final)."),
    account: str = typer.Option(..., help="Signing account: an admin of an organisation of the electorate."),
    key: Optional[Path] = typer.Option(None, help="Key file (default: NET/keys/<account>.key)."),
    net: Path = NetOption, node: str = NodeOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Cast your organisation's vote on an open proposal, once.

    Example: civichain gov vote 7 --approve --account finance-bureau/admin
    """
    from civichain.modules.governance import Vote

    answer = send(net, node, account, key, "governance", "vote", Vote(approve=approve, proposal=proposal))
    if not as_json and answer.get("status") == "committed":
        for event in answer["receipt"]["events"]:
            if event["type"] in ("passed", "rejected"):
                console.print(f"proposal {event['key']}: {event['type']}")
    report_submission(answer, as_json)


@gov_app.command("list")
def gov_list(
    status: Optional[str] = typer.Option(None, help="Only proposals in this status (open, passed, executed, ...)."),
    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption,
) -> None:
    """List the governance proposals, oldest first, checking each one's state proof against a checkpoint
    verified through its signed header.

    Example: civichain gov list --status open
    """
    reads = verified(net, node)
    proposals = reads.pages("/v1/governance/proposals", "proposals")
    for answer in proposals:
        _check_proposal(reads, answer)
    shown = [a["proposal"] for a in proposals if status is None or a["proposal"]["status"] == status]
    if as_json:
        console.print_json(json.dumps(shown))
        return
    if not shown:
        console.print("no proposals")
    for p in shown:
        when = (f"executes at {p['executes_at']}" if p["executes_at"] else
                f"expires at {p['expires_at']}" if p["status"] == "open" else f"since {p['decided_at']}")
        console.print(f"#{p['id']} {p['kind']:22} {p['status']:9} {p['approvals']}/{len(p['electorate'])} approve, "
                      f"{when}: " + escape(p["title"]))
    proof_line(reads, f"{len(proposals)} state proofs verified")


@gov_app.command("show")
def gov_show(proposal: int = typer.Argument(..., min=1, help="Proposal id."), net: Path = NetOption,
             node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """Show a proposal: payload, ballots and status, and check its state proof against a checkpoint verified
    through its signed header.

    Example: civichain gov show 7
    """
    from civichain.modules.governance import proposal_key

    reads = verified(net, node)
    answer = reads.read(f"/v1/governance/proposals/{proposal}")
    _check_proposal(reads, answer, proposal_key(proposal))
    if as_json:
        console.print_json(json.dumps(answer))
        return
    p = answer["proposal"]
    console.print(f"proposal #{p['id']} ({p['kind']}): {p['status']}; " + escape(p["title"]))
    console.print(f"  proposed by {p['proposer']} at height {p['created_at']}; expires at {p['expires_at']}; "
                  f"threshold {p['threshold_numerator']}/{p['threshold_denominator']} of {list(p['electorate'])}")
    console.print("  payload " + escape(json.dumps(p["payload"], ensure_ascii=False)))
    for b in p["ballots"]:
        console.print(f"  {b['organisation']}: {'approve' if b['approve'] else 'reject'} by {b['account']} "
                      f"at height {b['height']}")
    if p["outcome"]:
        console.print(f"  executed at height {p['executed_at']}: {p['outcome']}")
    proof_line(reads)


def _check_proposal(reads, answer: dict, key: bytes | None = None) -> None:
    """Verify a proposal's state proof against the checkpoint, and that the proposal shown is the one proved
    (its payload, shown decoded, aside)."""
    from civichain.client.proofs import require_answer
    from civichain.codec import decode, to_plain
    from civichain.modules.governance import Proposal

    value = reads.state(answer["state"], key)
    require_answer(value is not None, answer["state"]["key"], None, "a proposal, not a proof of absence")
    proved = to_plain(decode(value, Proposal, where="proposal"))
    shown = answer["proposal"]
    require_answer(all(shown[k] == v for k, v in proved.items() if k != "payload"), answer["state"]["key"],
                   "a proposal that differs from the proved value", "the proposal the proof proves")


def _payload(schema, values: list[str]):
    """Build a proposal payload from --set NAME=VALUE pairs, by the payload's field types."""
    import msgspec

    fields = {f.name: f.type for f in msgspec.inspect.type_info(schema).fields}
    raw: dict[str, object] = {}
    for item in values:
        name, sep, text = item.partition("=")
        if not sep or name not in fields:
            err.print(f"[red]error[/red] cli.bad_payload: --set {item!r}, expected NAME=VALUE with NAME one of "
                      f"{sorted(fields)}")
            raise typer.Exit(EXIT_USAGE)
        raw[name] = _convert(fields[name], text, name)
    try:
        return msgspec.convert(raw, schema)
    except msgspec.ValidationError as exc:
        err.print(f"[red]error[/red] governance.bad_payload: {exc}")
        raise typer.Exit(EXIT_USAGE)


def _convert(kind, text: str, name: str) -> object:
    import base64
    import binascii

    import msgspec

    if isinstance(kind, msgspec.inspect.IntType):
        if not text.lstrip("-").isdigit():
            err.print(f"[red]error[/red] cli.bad_payload: --set {name}={text!r}, expected a whole number")
            raise typer.Exit(EXIT_USAGE)
        return int(text)
    if isinstance(kind, msgspec.inspect.BytesType):
        try:
            return bytes.fromhex(text)
        except ValueError:
            try:   # CometBFT's key files show keys in base64
                return base64.b64decode(text, validate=True)
            except binascii.Error:
                err.print(f"[red]error[/red] cli.bad_payload: --set {name}={text!r}, expected hex (or base64) bytes")
                raise typer.Exit(EXIT_USAGE)
    return text


def _field_type(kind) -> str:
    import msgspec

    return {msgspec.inspect.IntType: "number", msgspec.inspect.BytesType: "hex bytes"}.get(type(kind), "text")
