"""The `civichain land` commands without a network: the published policies, and bad input refused with exit 2
before anything is signed or sent. (tests/network/test_land_network.py runs them against a real network.)"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from civichain.cli import _hundredths, _owner_shares, app

runner = CliRunner()
DIGEST = "ab" * 32


def test_the_policies_are_listed_as_execution_checks_them():
    result = runner.invoke(app, ["land", "policies", "--json"])
    assert result.exit_code == 0
    policies = json.loads(result.stdout)
    assert len(policies) == 9
    assert policies["transfer"]["endorsement"] == ("every subject (e.g. every owner) AND a registrar of land-bureau "
                                                   "AND an account of tax-bureau")
    assert policies["freeze"]["performer"] == "an account of court"
    assert policies["add_encumbrance"]["subjects"].startswith("The holder")


def test_areas_and_amounts_are_read_exactly_in_hundredths():
    assert [_hundredths(text, "--area", "m²") for text in ("1234.56", "1234.5", "1234", "0.07")] == [
        123456, 123450, 123400, 7]
    shares = _owner_shares(["residents/alice=1/3", "residents/bob=2/3", "residents/carol"], "--owner")
    assert [(s.owner, s.numerator, s.denominator) for s in shares] == [
        ("residents/alice", 1, 3), ("residents/bob", 2, 3), ("residents/carol", 1, 1)]


@pytest.mark.parametrize("args, message", [
    (["register-parcel", "P-1", "--location", "x", "--area", "12.345", "--land-use", "forest", "--survey", DIGEST],
     "cli.bad_option: --area"),
    (["register-parcel", "P-1", "--location", "x", "--area", "1e3", "--land-use", "forest", "--survey", DIGEST],
     "cli.bad_option: --area"),
    (["register-parcel", "P-1", "--location", "x", "--area", "12", "--land-use", "swamp", "--survey", DIGEST],
     "tx.bad_arguments"),
    (["register-parcel", "P-1", "--location", "x", "--area", "12", "--land-use", "forest", "--survey", "no-such-file"],
     "cli.bad_option: --survey"),
    (["issue-title", "P-1", "--owner", "residents/alice=1/2/3", "--deed", DIGEST], "cli.bad_option: --owner"),
    (["issue-title", "P-1", "--deed", DIGEST], "cli.bad_option: --owner"),
    (["subdivide", "P-1", "--child", "P-1-1;10.00", "--document", DIGEST], "cli.bad_option: --child"),
])
def test_bad_input_exits_2_with_one_line_before_anything_is_sent(args, message):
    result = runner.invoke(app, ["land", *args, "--account", "land-bureau/registrar"])
    assert result.exit_code == 2, result.output
    assert message in result.output.replace("\n", "")
