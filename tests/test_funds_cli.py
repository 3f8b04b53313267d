"""Every `civichain funds` command on one real network, as a finance officer would type it: each of the twelve
actions run at least once, a refusal of each kind asserted, and every read (programme, payments, year, history,
each record by id) checked against a checkpoint verified through its signed header."""

from __future__ import annotations

import json
import re

import pytest

from tests.network.netutil import running_network
from tests.test_cli import assert_usage_error, assert_verified, cli

pytestmark = pytest.mark.network

FINANCE, LAND, TAX = "finance-bureau/admin", "land-bureau/admin", "tax-bureau/admin"


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    """One validator; land-bureau runs the programme, finance-bureau holds the budget, tax-bureau endorses large
    movements and is paid."""
    with running_network(tmp_path_factory.mktemp("funds-cli") / "net", validators=1, organisations=6) as (network, _):
        yield network


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("funds-documents")
    for name in ("budget", "supplementary", "contract-17", "amendment", "contract-18", "invoice-1", "invoice-2",
                 "invoice-3"):
        (folder / f"{name}.pdf").write_text(f"{name} of rural roads 2026")
    return folder


def funds(net, *args: str, account: str | None = None, check: bool = True):
    signing = ("--account", account) if account else ()
    return cli("funds", *args, *signing, "--net", str(net.root), check=check)


def committed(run) -> str:
    assert "committed" in run.stdout, run.stdout + run.stderr
    return run.stdout


def test_a_year_from_budget_to_payments(net, docs):
    committed(funds(net, "open-year", "2026", "--threshold", "1000000", account=FINANCE))
    alone = funds(net, "appropriate", "infra-2026", "--year", "2026", "--amount", "5000000", "--title",
                  "Rural infrastructure", "--basis", str(docs / "budget.pdf"), account=FINANCE, check=False)
    assert alone.returncode == 1 and "auth.missing_endorsement" in alone.stdout
    out = committed(funds(net, "appropriate", "infra-2026", "--year", "2026", "--amount", "5000000", "--title",
                          "Rural infrastructure", "--basis", str(docs / "budget.pdf"), "--endorser", TAX,
                          account=FINANCE))
    assert "appropriated" in out and "amount 5,000,000.00 yuan" in out
    committed(funds(net, "adjust-appropriation", "infra-2026", "--amount", "5500000", "--basis",
                    str(docs / "supplementary.pdf"), "--reason", "Supplementary budget", "--endorser", TAX,
                    account=FINANCE))
    committed(funds(net, "create-programme", "roads-2026", "--year", "2026", "--department", "land-bureau",
                    "--title", "Rural roads", account=FINANCE))
    committed(funds(net, "allocate", "roads-q1", "--appropriation", "infra-2026", "--programme", "roads-2026",
                    "--amount", "800000", account=FINANCE))
    committed(funds(net, "adjust-allocation", "roads-q1", "--amount", "700000", "--reason", "Re-planned",
                    account=FINANCE))
    committed(funds(net, "commit", "contract-17", "--allocation", "roads-q1", "--payee", "tax-bureau", "--amount",
                    "300000", "--contract", str(docs / "contract-17.pdf"), account=LAND))
    committed(funds(net, "adjust-commitment", "contract-17", "--amount", "320000", "--amendment",
                    str(docs / "amendment.pdf"), "--reason", "Extra drainage works", account=LAND))
    paid = committed(funds(net, "disburse", "pay-1", "--commitment", "contract-17", "--amount", "120000",
                           "--invoice", str(docs / "invoice-1.pdf"), "--contract", str(docs / "contract-17.pdf"),
                           account=LAND))
    assert "disbursed" in paid and "seq 1" in paid
    committed(funds(net, "disburse", "pay-2", "--commitment", "contract-17", "--amount", "100000", "--invoice",
                    str(docs / "invoice-2.pdf"), "--contract", str(docs / "contract-17.pdf"), account=LAND))
    beyond = funds(net, "disburse", "pay-3", "--commitment", "contract-17", "--amount", "100000.01", "--invoice",
                   str(docs / "invoice-3.pdf"), "--contract", str(docs / "contract-17.pdf"), account=LAND, check=False)
    assert beyond.returncode == 1 and "funds.exceeds_commitment" in beyond.stdout
    committed(funds(net, "reverse-disbursement", "pay-2", "--reason", "Returned by the bank", account=LAND))
    committed(funds(net, "commit", "contract-18", "--allocation", "roads-q1", "--payee", "tax-bureau", "--amount",
                    "50000", "--contract", str(docs / "contract-18.pdf"), account=LAND))
    cancelled = committed(funds(net, "cancel-commitment", "contract-18", "--reason", "Contractor withdrew",
                                account=LAND))
    assert "commitment_cancelled" in cancelled


def test_the_programme_its_payments_and_the_year_are_read_as_proved(net):
    programme = funds(net, "programme", "roads-2026").stdout
    said = " ".join(programme.split())
    assert "budget 700,000.00 yuan" in said and "committed 320,000.00 yuan" in said
    assert "spent 120,000.00 yuan" in said and "remaining 380,000.00 yuan" in said and "payments 2" in said
    assert_verified(programme)
    payments = funds(net, "payments", "roads-2026").stdout
    assert "#1 pay-1: 120,000.00 yuan to tax-bureau" in payments and "#2 pay-2: 100,000.00 yuan" in payments
    assert "reversed at height" in payments
    assert_verified(payments, "2 state proofs verified")
    year = funds(net, "year", "2026").stdout
    assert "appropriated 5,500,000.00 yuan" in " ".join(year.split())
    assert "roads-2026 (land-bureau): budget 700,000.00" in year
    assert_verified(year, r"state proof verified \(and 1 programme proofs\)")


@pytest.mark.parametrize("args, facts", [
    (("appropriation", "infra-2026"), ["amount 5,500,000.00 yuan", "allocated 700,000.00 yuan"]),
    (("allocation", "roads-q1"), ["amount 700,000.00 yuan", "committed 320,000.00 yuan", "programme roads-2026"]),
    (("commitment", "contract-17"), ["amount 320,000.00 yuan", "disbursed 120,000.00 yuan", "payee tax-bureau"]),
    (("commitment", "contract-18"), ["status cancelled"]),
    (("disbursement", "pay-2"), ["reversal_reason Returned by the bank", "appropriation infra-2026"]),
])
def test_each_record_by_id_is_read_as_proved(net, args, facts):
    out = funds(net, *args).stdout
    said = " ".join(out.split())
    assert all(fact in said for fact in facts), out
    assert_verified(out)
    answer = json.loads(funds(net, *args, "--json").stdout)
    assert answer["state"]["key"] == f"funds/{args[0]}/{args[1]}"


def test_the_programmes_history_has_every_movement_with_verified_inclusion_proofs(net):
    out = funds(net, "history", "roads-2026").stdout
    assert re.findall(r"^height\s+\d+\s+(\w+)", out, re.M) == [
        "programme_created", "allocated", "allocation_adjusted", "committed", "commitment_adjusted", "disbursed",
        "disbursed", "disbursement_reversed", "committed", "commitment_cancelled"]
    assert "by finance-bureau/admin" in out and "by land-bureau/admin" in out
    assert_verified(out, "10 inclusion proofs verified")


def test_closing_the_year_needs_every_contract_settled_then_nothing_moves(net, docs):
    unsettled = funds(net, "close-year", "2026", account=FINANCE, check=False)
    assert unsettled.returncode == 1 and "funds.unsettled_commitments" in unsettled.stdout
    committed(funds(net, "cancel-commitment", "contract-17", "--reason", "Works finished under budget",
                    account=LAND))
    closed = committed(funds(net, "close-year", "2026", account=FINANCE))
    assert "year_closed" in closed
    late = funds(net, "commit", "contract-19", "--allocation", "roads-q1", "--payee", "tax-bureau", "--amount", "1",
                 "--contract", str(docs / "contract-18.pdf"), account=LAND, check=False)
    assert late.returncode == 1 and "funds.year_closed" in late.stdout
    assert "closed" in funds(net, "year", "2026").stdout


@pytest.mark.parametrize("args, code, words", [
    (("disburse", "pay-9", "--commitment", "contract-17", "--amount", "12.345", "--invoice", "ab" * 32,
      "--contract", "ab" * 32, "--account", LAND), "cli.bad_amount", ("12.345", "two decimals")),
    (("commit", "c-9", "--allocation", "roads-q1", "--payee", "tax-bureau", "--amount", "1", "--contract",
      "no-such-file", "--account", LAND), "cli.bad_option", ("--contract", "64 hex digits")),
    (("programme", "nope"), "funds.unknown_programme", ("nope",)),
    (("history", "nope"), "funds.unknown_programme", ("nope",)),
    (("appropriation", "Bad Id"), "api.bad_request", ("appropriation",)),
    (("disbursement", "pay-404"), "funds.unknown_disbursement", ("pay-404",)),
    (("year", "1999"), "api.bad_request", ("year",)),
])
def test_bad_funds_input_is_one_line_naming_what_was_wrong(net, args, code, words):
    assert_usage_error(funds(net, *args, check=False), code, *words)
