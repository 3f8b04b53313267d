"""Every funds code is registered with an ABCI number, documented, and exercised by a test."""

from __future__ import annotations

import re
from pathlib import Path

from civichain.execution.codes import all_codes, number_of

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "src/civichain/modules/funds.py", ROOT / "src/civichain/modules/funds_records.py"]
CODE = re.compile(r'"((?:funds|auth)\.[a-z_]+)"')


def raised_codes() -> set[str]:
    return {c for path in SOURCES for c in CODE.findall(path.read_text())}


def test_every_funds_code_is_registered_documented_and_tested():
    registered = {c for c in all_codes() if c.startswith("funds.")}
    raised = raised_codes()
    assert {c for c in raised if c.startswith("funds.")} == registered
    assert {c for c in raised if c.startswith("auth.")} == {"auth.not_permitted", "auth.missing_endorsement"}
    docs = (ROOT / "docs/modules/funds.md").read_text()
    tests = (ROOT / "tests/modules/test_funds.py").read_text()
    for code in sorted(raised):
        assert f"`{code}`" in docs and str(number_of(code)) in docs, f"{code} is not documented with its number"
        assert f'"{code}"' in tests, f"{code} is not tested"


def test_funds_codes_are_numbered_from_600():
    numbers = sorted(n for c, n in all_codes().items() if c.startswith("funds."))
    assert numbers == list(range(600, 600 + len(numbers)))
