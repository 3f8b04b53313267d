"""`civichain land`: the land registry's actions and queries. Documents are given as files (only their SHA-256
goes on chain) or as 64 hex digits; areas and amounts are read exactly, in hundredths. Every answer read here
is checked against a checkpoint verified through its signed header."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from civichain.cli.common import (EXIT_USAGE, AccountOption, JsonOption, KeyOption, NetOption, NodeOption,
                                  api_client, app, console, document_digest, err, print_history, proof_line,
                                  report_events, send, usage_error, verified)

land_app = typer.Typer(help="The land registry: parcels, titles and shares, encumbrances, court freezes, "
                            "subdivision and merger. Documents are given as files (only their SHA-256 goes on chain) "
                            "or as 64 hex digits.", no_args_is_help=True)
app.add_typer(land_app, name="land")
EndorseOption = typer.Option([], "--endorse", help="An account that signs the transaction too (an owner, a buyer, a "
                                                   "bureau), as ACCOUNT or ACCOUNT=KEYFILE; repeatable.")


def _land_send(net: Path, node: str, account: str, key: Optional[Path], action: str, args,
               endorse: list[str]) -> dict:
    """Sign a land transaction with the sender's key and each endorser's, submit it and wait for the commit."""
    return send(net, node, account, key, "land", action, args, endorse)


def _land_report(answer: dict, as_json: bool) -> None:
    """Print the outcome and, when committed, what the registry recorded (its events, locations aside)."""
    report_events(answer, as_json, hidden=("location",))


def _hundredths(text: str, option: str, unit: str) -> int:
    """'123.45' as the whole number 12345 (exact: no floating point)."""
    import re

    if not re.fullmatch(r"\d{1,16}(\.\d{1,2})?", text):
        usage_error(option, text, f"a number of {unit} with at most two decimals, e.g. 123.45")
    whole, _, cents = text.partition(".")
    return int(whole) * 100 + int(cents.ljust(2, "0"))


def _owner_shares(values: list[str], option: str):
    """OwnerShares from ACCOUNT=N/D (ACCOUNT alone: the whole)."""
    import re

    from civichain.modules.land import OwnerShare

    shares = []
    for item in values:
        match = re.fullmatch(r"([^=]+?)(?:=(\d{1,10})(?:/(\d{1,10}))?)?", item)
        if match is None:
            usage_error(option, item, "ACCOUNT=NUMERATOR/DENOMINATOR, e.g. residents/alice=1/2 (ACCOUNT alone: 1/1)")
        account, numerator, denominator = match.groups()
        shares.append(OwnerShare(denominator=int(denominator or 1), numerator=int(numerator or 1), owner=account))
    if not shares:
        usage_error(option, "nothing", "at least one owner")
    return tuple(shares)


def _land_args(schema, **values):
    """Build an action's arguments, turning a value out of range into a usage error naming the field."""
    import msgspec

    try:
        return msgspec.convert(values, schema)
    except msgspec.ValidationError as exc:
        err.print("[red]error[/red] " + escape(f"tx.bad_arguments: {exc}"))
        raise typer.Exit(EXIT_USAGE)


@land_app.command("policies")
def land_policies(as_json: bool = JsonOption) -> None:
    """List the land actions and who may perform each: the policies exactly as execution checks them (the same
    as `civichain policies land`).

    Example: civichain land policies
    """
    from civichain.cli.ledger import policies

    policies("land", as_json)


@land_app.command("register-parcel")
def land_register_parcel(
    parcel: str = typer.Argument(..., help="The new parcel's id, e.g. 110101-001-0042."),
    location: str = typer.Option(..., help="Where it is, in words (no personal data)."),
    area: str = typer.Option(..., help="Area in square metres, at most two decimals, e.g. 1234.56."),
    land_use: str = typer.Option(..., help="Land use: residential, commercial, cropland, … (docs/modules/land.md)."),
    survey: str = typer.Option(..., help="The survey file (its SHA-256 is the boundary), or its digest in hex."),
    account: str = AccountOption, key: Optional[Path] = KeyOption,
    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption,
) -> None:
    """Register a surveyed parcel (a registrar of the land bureau).

    Example: civichain land register-parcel 110101-001-0042 --location "东城区 景山街道 1号" --area 1234.56
      --land-use residential --survey survey-0042.pdf --account land-bureau/registrar
    """
    from civichain.modules.land import RegisterParcel

    args = _land_args(RegisterParcel, area_dm2=_hundredths(area, "--area", "square metres"),
                      boundary=document_digest(survey, "--survey"), id=parcel, land_use=land_use, location=location)
    _land_report(_land_send(net, node, account, key, "register_parcel", args, []), as_json)


@land_app.command("issue-title")
def land_issue_title(
    parcel: str = typer.Argument(..., help="Parcel id."),
    owner: list[str] = typer.Option([], "--owner", help="An owner and share, ACCOUNT=N/D (ACCOUNT alone: the whole); "
                                                        "repeatable. Shares must sum to exactly 1."),
    deed: str = typer.Option(..., help="The document the ownership rests on (file or hex digest)."),
    account: str = AccountOption, key: Optional[Path] = KeyOption,
    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption,
) -> None:
    """Issue a parcel's first title: its owners and their shares (a registrar of the land bureau).

    Example: civichain land issue-title 110101-001-0042 --owner residents/alice=1/2 --owner residents/bob=1/2
      --deed allocation.pdf --account land-bureau/registrar
    """
    from civichain.modules.land import IssueTitle

    args = _land_args(IssueTitle, deed=document_digest(deed, "--deed"), owners=_owner_shares(owner, "--owner"), parcel=parcel)
    _land_report(_land_send(net, node, account, key, "issue_title", args, []), as_json)


@land_app.command("transfer")
def land_transfer(
    parcel: str = typer.Argument(..., help="Parcel id."),
    to: list[str] = typer.Option([], "--to", help="A new owner and share, ACCOUNT=N/D; repeatable."),
    deed: str = typer.Option(..., help="The transfer contract (file or hex digest)."),
    title: Optional[int] = typer.Option(None, help="The current title number (default: read from the node)."),
    endorse: list[str] = EndorseOption,
    account: str = AccountOption, key: Optional[Path] = KeyOption,
    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption,
) -> None:
    """Transfer a parcel under a new title. Every current owner and every new owner, a registrar of the land
    bureau and an account of the tax bureau (its clearance) must sign: the sender and the --endorse accounts.

    Example: civichain land transfer 110101-001-0042 --to residents/carol --deed contract.pdf
      --account land-bureau/registrar --endorse residents/alice --endorse residents/bob
      --endorse residents/carol --endorse tax-bureau/admin
    """
    from civichain.client.land import parcel as read_parcel
    from civichain.modules.land import Transfer

    if title is None:
        title = read_parcel(api_client(net, node), parcel)["parcel"]["record"]["title"] or 1
    args = _land_args(Transfer, deed=document_digest(deed, "--deed"), owners=_owner_shares(to, "--to"), parcel=parcel,
                      title=title)
    _land_report(_land_send(net, node, account, key, "transfer", args, endorse), as_json)


@land_app.command("add-encumbrance")
def land_add_encumbrance(
    parcel: str = typer.Argument(..., help="Parcel id."),
    kind: str = typer.Option(..., help="mortgage, easement or lien."),
    holder: str = typer.Option(..., help="The account it favours: the lender, the neighbour, the creditor."),
    blocking: bool = typer.Option(..., "--blocking/--not-blocking", help="Whether it blocks transfers until released."),
    amount: str = typer.Option("0", help="The secured amount in yuan, at most two decimals (0: none)."),
    document: str = typer.Option(..., help="The contract or order (file or hex digest)."),
    endorse: list[str] = EndorseOption,
    account: str = AccountOption, key: Optional[Path] = KeyOption,
    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption,
) -> None:
    """Register a mortgage, easement or lien (a registrar sends it; the holder signs, and for a mortgage or
    easement every owner too).

    Example: civichain land add-encumbrance 110101-001-0042 --kind mortgage --holder bank/lender --blocking
      --amount 800000.00 --document loan.pdf --account land-bureau/registrar
      --endorse residents/alice --endorse bank/lender
    """
    from civichain.modules.land import AddEncumbrance

    args = _land_args(AddEncumbrance, amount_fen=_hundredths(amount, "--amount", "yuan"), blocking=blocking,
                      document=document_digest(document, "--document"), holder=holder, kind=kind, parcel=parcel)
    _land_report(_land_send(net, node, account, key, "add_encumbrance", args, endorse), as_json)


@land_app.command("release-encumbrance")
def land_release_encumbrance(
    encumbrance: int = typer.Argument(..., help="The encumbrance number."),
    document: str = typer.Option(..., help="The release (file or hex digest)."),
    endorse: list[str] = EndorseOption,
    account: str = AccountOption, key: Optional[Path] = KeyOption,
    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption,
) -> None:
    """Release an encumbrance (a registrar sends it; its holder signs).

    Example: civichain land release-encumbrance 3 --document discharge.pdf --account land-bureau/registrar
      --endorse bank/lender
    """
    from civichain.modules.land import ReleaseEncumbrance

    args = _land_args(ReleaseEncumbrance, document=document_digest(document, "--document"), encumbrance=encumbrance)
    _land_report(_land_send(net, node, account, key, "release_encumbrance", args, endorse), as_json)


def _freeze_command(action: str, parcel: str, case: str, order: str, account: str, key: Optional[Path], net: Path,
                    node: str, as_json: bool) -> None:
    from civichain.modules.land import FreezeParcel

    args = _land_args(FreezeParcel, case=case, order=document_digest(order, "--order"), parcel=parcel)
    _land_report(_land_send(net, node, account, key, action, args, []), as_json)


@land_app.command("freeze")
def land_freeze(
    parcel: str = typer.Argument(..., help="Parcel id."),
    case: str = typer.Option(..., help="The court case, e.g. (2026)京0101民初1234号."),
    order: str = typer.Option(..., help="The court's order (file or hex digest)."),
    account: str = AccountOption, key: Optional[Path] = KeyOption,
    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption,
) -> None:
    """Freeze a parcel for a court case (an account of the court): no transfer, new title, new shape or
    mortgage until every freeze is lifted.

    Example: civichain land freeze 110101-001-0042 --case "(2026)京0101民初1234号" --order order.pdf
      --account court/admin
    """
    _freeze_command("freeze", parcel, case, order, account, key, net, node, as_json)


@land_app.command("unfreeze")
def land_unfreeze(
    parcel: str = typer.Argument(..., help="Parcel id."),
    case: str = typer.Option(..., help="The court case whose freeze is lifted."),
    order: str = typer.Option(..., help="The court's order lifting it (file or hex digest)."),
    account: str = AccountOption, key: Optional[Path] = KeyOption,
    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption,
) -> None:
    """Lift a court case's freeze of a parcel (an account of the court).

    Example: civichain land unfreeze 110101-001-0042 --case "(2026)京0101民初1234号" --order ruling.pdf
      --account court/admin
    """
    _freeze_command("unfreeze", parcel, case, order, account, key, net, node, as_json)


@land_app.command("subdivide")
def land_subdivide(
    parcel: str = typer.Argument(..., help="The parcel to divide."),
    child: list[str] = typer.Option([], "--child", help="A new parcel as 'ID;AREA_M2;SURVEY;LOCATION'; repeatable "
                                                        "(at least two; areas summing exactly to the parcel's)."),
    document: str = typer.Option(..., help="The approved subdivision plan (file or hex digest)."),
    endorse: list[str] = EndorseOption,
    account: str = AccountOption, key: Optional[Path] = KeyOption,
    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption,
) -> None:
    """Divide a parcel; each part gets a title with the same owners and shares (a registrar sends it; every
    owner signs).

    Example: civichain land subdivide 110101-001-0042 --document plan.pdf --account land-bureau/registrar
      --child "110101-001-0042-1;600.00;survey-1.pdf;north half"
      --child "110101-001-0042-2;634.56;survey-2.pdf;south half"
      --endorse residents/alice --endorse residents/bob
    """
    from civichain.modules.land import ChildParcel, Subdivide

    parts = []
    for item in child:
        fields = item.split(";", 3)
        if len(fields) != 4:
            usage_error("--child", item, "ID;AREA_M2;SURVEY;LOCATION")
        child_id, area, survey, location = fields
        parts.append(_land_args(ChildParcel, area_dm2=_hundredths(area, "--child area", "square metres"),
                                boundary=document_digest(survey, "--child survey"), id=child_id, location=location))
    args = _land_args(Subdivide, children=tuple(parts), document=document_digest(document, "--document"), parcel=parcel)
    _land_report(_land_send(net, node, account, key, "subdivide", args, endorse), as_json)


@land_app.command("merge")
def land_merge(
    new_parcel: str = typer.Argument(..., help="The merged parcel's new id."),
    parcel: list[str] = typer.Option([], "--parcel", help="A parcel to merge; repeatable (at least two, adjacent, "
                                                          "with the same owners, shares and land use)."),
    area: str = typer.Option(..., help="The merged area in square metres: exactly the sum of the parcels'."),
    location: str = typer.Option(..., help="Where it is, in words."),
    survey: str = typer.Option(..., help="The merged parcel's survey (file or hex digest)."),
    document: str = typer.Option(..., help="The approved merger (file or hex digest)."),
    endorse: list[str] = EndorseOption,
    account: str = AccountOption, key: Optional[Path] = KeyOption,
    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption,
) -> None:
    """Merge adjacent parcels of the same owners into one (a registrar sends it; every owner signs).

    Example: civichain land merge 110101-001-0050 --parcel 110101-001-0042 --parcel 110101-001-0043
      --area 2469.12 --location "东城区 景山街道 1-3号" --survey survey-0050.pdf --document merger.pdf
      --account land-bureau/registrar --endorse residents/alice
    """
    from civichain.modules.land import Merge

    args = _land_args(Merge, area_dm2=_hundredths(area, "--area", "square metres"),
                      boundary=document_digest(survey, "--survey"), document=document_digest(document, "--document"),
                      id=new_parcel, location=location, parcels=tuple(parcel))
    _land_report(_land_send(net, node, account, key, "merge", args, endorse), as_json)


@land_app.command("correct-parcel")
def land_correct_parcel(
    parcel: str = typer.Argument(..., help="Parcel id."),
    location: str = typer.Option(..., help="Its corrected location, in words."),
    land_use: str = typer.Option(..., help="Its corrected land use (docs/modules/land.md)."),
    survey: str = typer.Option(..., help="Its corrected survey (file or hex digest): the boundary."),
    document: str = typer.Option(..., help="What the correction rests on: a re-survey, a judgment, an assessment "
                                           "(file or hex digest)."),
    endorse: list[str] = EndorseOption,
    account: str = AccountOption, key: Optional[Path] = KeyOption,
    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption,
) -> None:
    """Correct a parcel's location, land use or survey; its area changes only by subdivision and merger (a
    registrar, with the tax bureau or the court signing too).

    Example: civichain land correct-parcel 110101-001-0042 --location "东城区 景山街道 2号" --land-use residential
      --survey resurvey.pdf --document resurvey-report.pdf --account land-bureau/registrar --endorse tax-bureau/admin
    """
    from civichain.modules.land import CorrectParcel

    args = _land_args(CorrectParcel, boundary=document_digest(survey, "--survey"),
                      document=document_digest(document, "--document"), land_use=land_use, location=location,
                      parcel=parcel)
    _land_report(_land_send(net, node, account, key, "correct_parcel", args, endorse), as_json)


@land_app.command("show")
def land_show(parcel: str = typer.Argument(..., help="Parcel id."), net: Path = NetOption, node: str = NodeOption,
              as_json: bool = JsonOption) -> None:
    """Show a parcel, its title and encumbrances, and check every state proof against the state root of a
    checkpoint verified through its signed header.

    Example: civichain land show 110101-001-0042
    """
    from urllib.parse import quote

    from civichain.client.land import check_parcel_answer
    from civichain.modules.land import parcel_key

    reads = verified(net, node)
    answer = reads.read(f"/v1/land/parcels/{quote(parcel, safe='')}")
    reads.state(answer["parcel"]["state"], parcel_key(parcel))
    check_parcel_answer(answer, reads.checkpoint.state_root)
    if as_json:
        console.print_json(json.dumps(answer))
        return
    p = answer["parcel"]["record"]
    console.print(f"parcel {p['id']} ({p['status']}): {_hundredths_text(p['area_dm2'])} m², "
                  f"{p['land_use']}; " + escape(p["location"]))
    console.print(f"  survey {p['boundary']}; registered at height {p['registered_at']}"
                  + (f" from {', '.join(p['origin'])}" if p["origin"] else ""))
    if p["status"] == "retired":
        console.print(f"  retired at height {p['retired_at']} into {', '.join(p['successors'])}")
    if answer["title"]:
        _print_title(answer["title"]["record"])
    else:
        console.print("  no title")
    for f in p["freezes"]:
        console.print("  [red]frozen[/red] for case " + escape(f["case"]) + f" by {f['court']} at height {f['height']}")
    for e in answer["encumbrances"]:
        _print_encumbrance(e["record"])
    proof_line(reads, "state proofs verified")


@land_app.command("title")
def land_title(number: int = typer.Argument(..., min=1, help="The title number."), net: Path = NetOption,
               node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """Show a title (current or ended): its parcel, owners and shares, and what ended it; check its state proof
    against a checkpoint verified through its signed header.

    Example: civichain land title 2
    """
    from civichain.modules.land import Title, title_key

    reads = verified(net, node)
    answer = reads.read(f"/v1/land/titles/{number}")
    reads.record(answer["record"], answer["state"], Title, title_key(number))
    if as_json:
        console.print_json(json.dumps(answer))
        return
    t = answer["record"]
    console.print(f"parcel {t['parcel']}:")
    _print_title(t)
    proof_line(reads)


@land_app.command("encumbrance")
def land_encumbrance(number: int = typer.Argument(..., min=1, help="The encumbrance number."), net: Path = NetOption,
                     node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """Show an encumbrance (unreleased or released) and check its state proof against a checkpoint verified
    through its signed header.

    Example: civichain land encumbrance 3
    """
    from civichain.modules.land import Encumbrance, encumbrance_key

    reads = verified(net, node)
    answer = reads.read(f"/v1/land/encumbrances/{number}")
    reads.record(answer["record"], answer["state"], Encumbrance, encumbrance_key(number))
    if as_json:
        console.print_json(json.dumps(answer))
        return
    r = answer["record"]
    console.print(f"parcel {r['parcel']}:")
    _print_encumbrance(r)
    proof_line(reads)


@land_app.command("history")
def land_history(parcel: str = typer.Argument(..., help="Parcel id."), net: Path = NetOption, node: str = NodeOption,
                 as_json: bool = JsonOption) -> None:
    """Show a parcel's whole history in order: each event with its height and transaction, whose inclusion
    proof is checked against a checkpoint verified through its signed header.

    Example: civichain land history 110101-001-0042
    """
    from urllib.parse import quote

    reads = verified(net, node)
    print_history(reads.history(f"/v1/land/parcels/{quote(parcel, safe='')}/history"), reads, as_json)


def _print_title(t: dict) -> None:
    owners = ", ".join(f"{s['owner']} {s['numerator']}/{s['denominator']}" for s in t["owners"])
    ended = f"; ended at height {t['ended_at']}" if t["ended_at"] else ""
    console.print(f"  title {t['number']} ({t['status']}, {t['cause']} at height {t['issued_at']}{ended}): {owners}")


def _print_encumbrance(r: dict) -> None:
    released = f"; released at height {r['released_at']}" if r["released_at"] else ""
    console.print(f"  {r['kind']} {r['number']} for {r['holder']}" + (" (blocking)" if r["blocking"] else "")
                  + (f", {_hundredths_text(r['amount_fen'])} yuan" if r["amount_fen"] else "") + released)


def _hundredths_text(number: int) -> str:
    return f"{number // 100}.{number % 100:02d}"
