"""`civichain funds`: fiscal years, appropriations, allocations, contracts and payments. Amounts are typed and
shown in yuan and sent as integer fen; every answer read here is checked against a checkpoint verified through
its signed header, and what is printed is what the proofs prove."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from civichain.cli.common import (EXIT_USAGE, AccountOption, JsonOption, KeyOption, NetOption, NodeOption, app,
                                  console, document_digest, err, print_history, proof_line, report_submission, send,
                                  verified)

funds_app = typer.Typer(help="Public funds: fiscal years, appropriations, allocations, contracts and payments.",
                        no_args_is_help=True)
app.add_typer(funds_app, name="funds")
FundsEndorsers = typer.Option([], "--endorser", help="An account of another department that endorses the "
                              "transaction (needed above the year's threshold); repeatable.")
FundsReason = typer.Option(..., help="Why (public; no personal data).")


@funds_app.command("open-year")
def funds_open_year(year: int = typer.Argument(..., help="Fiscal year, e.g. 2026."),
                    threshold: str = typer.Option(..., help="Approval threshold in yuan: larger movements need a "
                                                  "second department's endorsement."),
                    account: str = AccountOption, key: Optional[Path] = KeyOption, endorser: list[str] = FundsEndorsers,
                    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """Open a fiscal year (the finance bureau); its threshold is fixed for the year.

    Example: civichain funds open-year 2026 --threshold 1000000 --account finance-bureau/admin
    """
    from civichain.modules.funds import OpenYear

    _funds_submit(net, node, account, key, endorser, "open_year",
                  OpenYear(approval_threshold_fen=_fen(threshold), year=year), as_json)


@funds_app.command("close-year")
def funds_close_year(year: int = typer.Argument(..., help="Fiscal year."), account: str = AccountOption,
                     key: Optional[Path] = KeyOption, endorser: list[str] = FundsEndorsers, net: Path = NetOption,
                     node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """Close a fiscal year whose commitments are all paid or cancelled; nothing of it moves afterwards.

    Example: civichain funds close-year 2026 --account finance-bureau/admin
    """
    from civichain.modules.funds import CloseYear

    _funds_submit(net, node, account, key, endorser, "close_year", CloseYear(year=year), as_json)


@funds_app.command("appropriate")
def funds_appropriate(appropriation: str = typer.Argument(..., help="New appropriation id, e.g. edu-2026."),
                      year: int = typer.Option(..., help="Fiscal year (open)."),
                      amount: str = typer.Option(..., help="Amount in yuan, e.g. 5000000 or 1250.50."),
                      title: str = typer.Option(..., help="Budget line, e.g. \"Compulsory education\"."),
                      basis: str = typer.Option(..., help="The approved budget document: a file, or its SHA-256."),
                      account: str = AccountOption, key: Optional[Path] = KeyOption,
                      endorser: list[str] = FundsEndorsers, net: Path = NetOption, node: str = NodeOption,
                      as_json: bool = JsonOption) -> None:
    """Record an appropriation from the approved budget (the finance bureau).

    Example: civichain funds appropriate edu-2026 --year 2026 --amount 5000000 --title "Education"
      --basis budget-2026.pdf --account finance-bureau/admin --endorser land-bureau/admin
    """
    from civichain.modules.funds import Appropriate

    args = Appropriate(amount_fen=_fen(amount), appropriation=appropriation, basis=document_digest(basis, "--basis"),
                       title=title, year=year)
    _funds_submit(net, node, account, key, endorser, "appropriate", args, as_json)


@funds_app.command("adjust-appropriation")
def funds_adjust_appropriation(appropriation: str = typer.Argument(..., help="Appropriation id."),
                               amount: str = typer.Option(..., help="The new amount in yuan."),
                               basis: str = typer.Option(..., help="The budget adjustment document: a file, or its "
                                                         "SHA-256."),
                               reason: str = FundsReason, account: str = AccountOption, key: Optional[Path] = KeyOption,
                               endorser: list[str] = FundsEndorsers, net: Path = NetOption, node: str = NodeOption,
                               as_json: bool = JsonOption) -> None:
    """Raise or cut an appropriation (never below what is allocated from it).

    Example: civichain funds adjust-appropriation edu-2026 --amount 5500000 --basis supplementary.pdf
      --reason "Supplementary budget" --account finance-bureau/admin --endorser land-bureau/admin
    """
    from civichain.modules.funds import AdjustAppropriation

    args = AdjustAppropriation(amount_fen=_fen(amount), appropriation=appropriation,
                               basis=document_digest(basis, "--basis"), reason=reason)
    _funds_submit(net, node, account, key, endorser, "adjust_appropriation", args, as_json)


@funds_app.command("create-programme")
def funds_create_programme(programme: str = typer.Argument(..., help="New programme id, e.g. rural-roads-2026."),
                           year: int = typer.Option(..., help="Fiscal year (open)."),
                           department: str = typer.Option(..., help="The organisation that runs it."),
                           title: str = typer.Option(..., help="What the programme is for."),
                           account: str = AccountOption, key: Optional[Path] = KeyOption,
                           endorser: list[str] = FundsEndorsers, net: Path = NetOption, node: str = NodeOption,
                           as_json: bool = JsonOption) -> None:
    """Create a department's programme for a year (the finance bureau).

    Example: civichain funds create-programme rural-roads-2026 --year 2026 --department land-bureau
      --title "Rural roads" --account finance-bureau/admin
    """
    from civichain.modules.funds import CreateProgramme

    args = CreateProgramme(department=department, programme=programme, title=title, year=year)
    _funds_submit(net, node, account, key, endorser, "create_programme", args, as_json)


@funds_app.command("allocate")
def funds_allocate(allocation: str = typer.Argument(..., help="New allocation id."),
                   appropriation: str = typer.Option(..., help="Appropriation to allocate from."),
                   programme: str = typer.Option(..., help="Programme to allocate to (same year)."),
                   amount: str = typer.Option(..., help="Amount in yuan."),
                   account: str = AccountOption, key: Optional[Path] = KeyOption, endorser: list[str] = FundsEndorsers,
                   net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """Allocate part of an appropriation to a programme (the finance bureau).

    Example: civichain funds allocate roads-q1 --appropriation edu-2026 --programme rural-roads-2026
      --amount 300000 --account finance-bureau/admin
    """
    from civichain.modules.funds import Allocate

    args = Allocate(allocation=allocation, amount_fen=_fen(amount), appropriation=appropriation, programme=programme)
    _funds_submit(net, node, account, key, endorser, "allocate", args, as_json)


@funds_app.command("adjust-allocation")
def funds_adjust_allocation(allocation: str = typer.Argument(..., help="Allocation id."),
                            amount: str = typer.Option(..., help="The new amount in yuan."),
                            reason: str = FundsReason, account: str = AccountOption, key: Optional[Path] = KeyOption,
                            endorser: list[str] = FundsEndorsers, net: Path = NetOption, node: str = NodeOption,
                            as_json: bool = JsonOption) -> None:
    """Change an allocation: up within its appropriation, down never below what is committed.

    Example: civichain funds adjust-allocation roads-q1 --amount 250000 --reason "Re-planned"
      --account finance-bureau/admin
    """
    from civichain.modules.funds import AdjustAllocation

    args = AdjustAllocation(allocation=allocation, amount_fen=_fen(amount), reason=reason)
    _funds_submit(net, node, account, key, endorser, "adjust_allocation", args, as_json)


@funds_app.command("commit")
def funds_commit(commitment: str = typer.Argument(..., help="New commitment (contract) id."),
                 allocation: str = typer.Option(..., help="Allocation to charge."),
                 payee: str = typer.Option(..., help="Who will be paid: an account or organisation id."),
                 amount: str = typer.Option(..., help="Contract amount in yuan."),
                 contract: str = typer.Option(..., help="The contract document: a file, or its SHA-256."),
                 account: str = AccountOption, key: Optional[Path] = KeyOption, endorser: list[str] = FundsEndorsers,
                 net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """Commit part of an allocation to a contract (the programme's department).

    Example: civichain funds commit contract-17 --allocation roads-q1 --payee civil-affairs --amount 120000
      --contract contract-17.pdf --account land-bureau/admin
    """
    from civichain.modules.funds import Commit

    args = Commit(allocation=allocation, amount_fen=_fen(amount), commitment=commitment,
                  contract=document_digest(contract, "--contract"), payee=payee)
    _funds_submit(net, node, account, key, endorser, "commit", args, as_json)


@funds_app.command("adjust-commitment")
def funds_adjust_commitment(commitment: str = typer.Argument(..., help="Commitment id."),
                            amount: str = typer.Option(..., help="The new contract amount in yuan."),
                            amendment: str = typer.Option(..., help="The amendment document: a file, or its "
                                                          "SHA-256."),
                            reason: str = FundsReason, account: str = AccountOption, key: Optional[Path] = KeyOption,
                            endorser: list[str] = FundsEndorsers, net: Path = NetOption, node: str = NodeOption,
                            as_json: bool = JsonOption) -> None:
    """Amend a contract's amount: up within its allocation, down never below what is paid.

    Example: civichain funds adjust-commitment contract-17 --amount 130000 --amendment amendment-1.pdf
      --reason "Extra drainage works" --account land-bureau/admin
    """
    from civichain.modules.funds import AdjustCommitment

    args = AdjustCommitment(amendment=document_digest(amendment, "--amendment"), amount_fen=_fen(amount),
                            commitment=commitment, reason=reason)
    _funds_submit(net, node, account, key, endorser, "adjust_commitment", args, as_json)


@funds_app.command("cancel-commitment")
def funds_cancel_commitment(commitment: str = typer.Argument(..., help="Commitment id."), reason: str = FundsReason,
                            account: str = AccountOption, key: Optional[Path] = KeyOption,
                            endorser: list[str] = FundsEndorsers, net: Path = NetOption, node: str = NodeOption,
                            as_json: bool = JsonOption) -> None:
    """Cancel a contract: its unpaid part returns to the allocation.

    Example: civichain funds cancel-commitment contract-17 --reason "Contractor withdrew" --account land-bureau/admin
    """
    from civichain.modules.funds import CancelCommitment

    _funds_submit(net, node, account, key, endorser, "cancel_commitment",
                  CancelCommitment(commitment=commitment, reason=reason), as_json)


@funds_app.command("disburse")
def funds_disburse(disbursement: str = typer.Argument(..., help="New payment id."),
                   commitment: str = typer.Option(..., help="Commitment (contract) to pay under."),
                   amount: str = typer.Option(..., help="Amount in yuan."),
                   invoice: str = typer.Option(..., help="The invoice document: a file, or its SHA-256."),
                   contract: str = typer.Option(..., help="The contract document: a file, or its SHA-256."),
                   account: str = AccountOption, key: Optional[Path] = KeyOption, endorser: list[str] = FundsEndorsers,
                   net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """Pay a contract's payee against an invoice (the programme's department).

    Example: civichain funds disburse pay-1 --commitment contract-17 --amount 40000 --invoice invoice-1.pdf
      --contract contract-17.pdf --account land-bureau/admin
    """
    from civichain.modules.funds import Disburse

    args = Disburse(amount_fen=_fen(amount), commitment=commitment, contract=document_digest(contract, "--contract"),
                    disbursement=disbursement, invoice=document_digest(invoice, "--invoice"))
    _funds_submit(net, node, account, key, endorser, "disburse", args, as_json)


@funds_app.command("reverse-disbursement")
def funds_reverse_disbursement(disbursement: str = typer.Argument(..., help="Payment id."), reason: str = FundsReason,
                               account: str = AccountOption, key: Optional[Path] = KeyOption,
                               endorser: list[str] = FundsEndorsers, net: Path = NetOption, node: str = NodeOption,
                               as_json: bool = JsonOption) -> None:
    """Record that a payment came back: it no longer counts as spent.

    Example: civichain funds reverse-disbursement pay-1 --reason "Returned by the bank" --account land-bureau/admin
    """
    from civichain.modules.funds import ReverseDisbursement

    _funds_submit(net, node, account, key, endorser, "reverse_disbursement",
                  ReverseDisbursement(disbursement=disbursement, reason=reason), as_json)


@funds_app.command("programme")
def funds_programme(programme: str = typer.Argument(..., help="Programme id."), net: Path = NetOption,
                    node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """Show a programme's budget, committed, spent and remaining, as its state proof proves them against a
    checkpoint verified through its signed header.

    Example: civichain funds programme rural-roads-2026
    """
    from civichain.client.funds import yuan

    reads = verified(net, node)
    answer = reads.read(f"/v1/funds/programmes/{programme}")
    p = _checked_programme(reads, answer, programme)
    if as_json:
        console.print_json(json.dumps(answer))
        return
    console.print(f"programme {p.id} of {p.department}, fiscal year {p.year}: " + escape(p.title))
    for label in SUMMARY:
        console.print(f"  {label:10} {yuan(getattr(p, label + '_fen')):>22} yuan")
    console.print(f"  payments   {p.payments:>22}")
    proof_line(reads)


@funds_app.command("payments")
def funds_payments(programme: str = typer.Argument(..., help="Programme id."), net: Path = NetOption,
                   node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """List a programme's payments in order, each traced to its contract, allocation and appropriation, each
    as its state proof proves it against a checkpoint verified through its signed header.

    Example: civichain funds payments rural-roads-2026
    """
    from civichain.client.funds import yuan
    from civichain.modules.funds_records import Disbursement

    reads = verified(net, node)
    pages = reads.pages(f"/v1/funds/programmes/{programme}/payments", "payments")
    payments = [reads.record(a["payment"], a["state"], Disbursement) for a in pages]
    if as_json:
        console.print_json(json.dumps([a["payment"] for a in pages]))
        return
    if not payments:
        console.print("no payments")
    for d in payments:
        note = f" [yellow]reversed at height {d.reversed_at}[/yellow]" if d.reversed_at else ""
        console.print(f"#{d.seq} {d.id}: {yuan(d.amount_fen)} yuan to {d.payee} at height {d.height} "
                      f"(contract {d.commitment}, allocation {d.allocation}, appropriation "
                      f"{d.appropriation}; invoice {d.invoice.hex()[:16]}…){note}")
    proof_line(reads, f"{len(payments)} state proofs verified")


@funds_app.command("year")
def funds_year(year: int = typer.Argument(..., help="Fiscal year."), net: Path = NetOption, node: str = NodeOption,
               as_json: bool = JsonOption) -> None:
    """Show a fiscal year's threshold, status and totals, and its programmes, each as its state proof proves it
    against a checkpoint verified through its signed header.

    Example: civichain funds year 2026
    """
    from civichain.client.funds import yuan
    from civichain.modules.funds_records import FiscalYear, year_key

    reads = verified(net, node)
    answer = reads.read(f"/v1/funds/years/{year}")
    y = reads.record(answer["year"], answer["state"], FiscalYear, year_key(year))
    pages = list(answer["programmes"])
    if answer["next_cursor"] is not None:
        pages.extend(reads.pages(f"/v1/funds/years/{year}", "programmes", {"cursor": answer["next_cursor"]}))
    programmes = [_checked_programme(reads, p) for p in pages]
    if as_json:
        console.print_json(json.dumps({**answer, "programmes": pages, "next_cursor": None}))
        return
    console.print(f"fiscal year {y.year}: {y.status}; threshold {yuan(y.threshold_fen)} yuan")
    for label in ("appropriated", "allocated", "committed", "spent"):
        console.print(f"  {label:12} {yuan(getattr(y, label + '_fen')):>22} yuan")
    for p in programmes:
        console.print(f"  {p.id} ({p.department}): budget {yuan(p.budget_fen)}, spent {yuan(p.spent_fen)}, "
                      f"remaining {yuan(p.remaining_fen)} yuan")
    proof_line(reads, f"state proof verified (and {len(programmes)} programme proofs)")


@funds_app.command("history")
def funds_history(programme: str = typer.Argument(..., help="Programme id."), net: Path = NetOption,
                  node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """Show a programme's whole history in order (created, allocated, committed, paid, ...), each event with its
    transaction, whose inclusion proof is checked against a checkpoint verified through its signed header.

    Example: civichain funds history rural-roads-2026
    """
    reads = verified(net, node)
    print_history(reads.history(f"/v1/funds/programmes/{programme}/history"), reads, as_json)


@funds_app.command("appropriation")
def funds_appropriation(appropriation: str = typer.Argument(..., help="Appropriation id."), net: Path = NetOption,
                        node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """Show an appropriation, as its state proof proves it against a verified checkpoint.

    Example: civichain funds appropriation infra-2026
    """
    from civichain.modules.funds_records import Appropriation, appropriation_key

    _show_record(net, node, as_json, f"/v1/funds/appropriations/{appropriation}", Appropriation,
                 appropriation_key(appropriation))


@funds_app.command("allocation")
def funds_allocation(allocation: str = typer.Argument(..., help="Allocation id."), net: Path = NetOption,
                     node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """Show an allocation, as its state proof proves it against a verified checkpoint.

    Example: civichain funds allocation roads-q1
    """
    from civichain.modules.funds_records import Allocation, allocation_key

    _show_record(net, node, as_json, f"/v1/funds/allocations/{allocation}", Allocation, allocation_key(allocation))


@funds_app.command("commitment")
def funds_commitment(commitment: str = typer.Argument(..., help="Commitment (contract) id."), net: Path = NetOption,
                     node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """Show a commitment (contract), as its state proof proves it against a verified checkpoint.

    Example: civichain funds commitment contract-17
    """
    from civichain.modules.funds_records import Commitment, commitment_key

    _show_record(net, node, as_json, f"/v1/funds/commitments/{commitment}", Commitment, commitment_key(commitment))


@funds_app.command("disbursement")
def funds_disbursement(disbursement: str = typer.Argument(..., help="Payment id."), net: Path = NetOption,
                       node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """Show a disbursement (payment) and the chain it traces to, as its state proof proves it against a
    verified checkpoint.

    Example: civichain funds disbursement pay-1
    """
    from civichain.modules.funds_records import Disbursement, disbursement_key

    _show_record(net, node, as_json, f"/v1/funds/disbursements/{disbursement}", Disbursement,
                 disbursement_key(disbursement))


SUMMARY = ("budget", "committed", "spent", "remaining", "unpaid")


def _checked_programme(reads, answer: dict, programme: str | None = None):
    """Verify a programme answer against the checkpoint and that its summary is what the proved record says;
    return the proved Programme."""
    from civichain.client.proofs import require_answer
    from civichain.modules.funds_records import Programme, programme_key

    p = reads.record(answer["programme"], answer["state"], Programme,
                     programme_key(programme) if programme else None)
    summary = answer["summary"]
    require_answer(all(summary[f"{label}_fen"] == getattr(p, f"{label}_fen") for label in SUMMARY)
                   and summary["payments"] == p.payments, f"programme {p.id} summary", summary,
                   "the figures of the proved programme record")
    return p


def _show_record(net: Path, node: str, as_json: bool, path: str, kind, key: bytes) -> None:
    """Read a funds record at a verified checkpoint, check its proof and print it field by field (fen in yuan)."""
    from civichain.client.funds import yuan
    from civichain.codec import to_plain

    reads = verified(net, node)
    answer = reads.read(path)
    record = to_plain(reads.record(answer["record"], answer["state"], kind, key))
    if as_json:
        console.print_json(json.dumps(answer))
        return
    console.print(f"{kind.__name__.lower()} {record.pop('id')}:")
    for name, value in record.items():
        shown = f"{yuan(value)} yuan" if name.endswith("_fen") else value
        console.print(f"  {name.removesuffix('_fen'):16} " + escape(str(shown)))
    proof_line(reads)


def _funds_submit(net: Path, node: str, account: str, key: Optional[Path], endorsers: list[str], action: str,
                  args, as_json: bool) -> None:
    """Sign a funds transaction with the account and each endorser's key, submit it, wait and report it."""
    from civichain.client.funds import yuan

    answer = send(net, node, account, key, "funds", action, args, endorsers)
    if not as_json and answer.get("status") == "committed":
        for event in answer["receipt"]["events"]:
            facts = [f"{a['key'].removesuffix('_fen')} {yuan(int(a['value']))} yuan" if a["key"].endswith("_fen")
                     else f"{a['key']} {a['value']}" for a in event["attributes"]
                     if a["key"] not in ("basis", "contract", "invoice", "amendment")]
            console.print(f"{event['key']}: {event['type']}; " + escape(", ".join(facts)))
    report_submission(answer, as_json)


def _fen(text: str) -> int:
    from civichain.client.funds import AmountError, fen_of_yuan

    try:
        return fen_of_yuan(text)
    except AmountError as exc:
        err.print(f"[red]error[/red] {exc.code}: {escape(text)!r}, expected {exc.expected}")
        raise typer.Exit(EXIT_USAGE)
