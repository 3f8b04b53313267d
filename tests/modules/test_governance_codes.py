"""Every governance code is registered with an ABCI number, documented, and exercised by a test."""

from __future__ import annotations

import re
from pathlib import Path

from civichain.execution.codes import all_codes

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "src/civichain/modules/governance.py", ROOT / "src/civichain/modules/membership.py"]
CODE = re.compile(r'"((?:governance|genesis|p2p)\.[a-z_]+)"')


def raised_codes() -> set[str]:
    return {c for path in SOURCES for c in CODE.findall(path.read_text()) if c.startswith("governance.")}


def test_every_governance_code_is_registered_documented_and_tested():
    registered = {c for c in all_codes() if c.startswith("governance.")}
    assert raised_codes() == registered
    docs = (ROOT / "docs/modules/governance.md").read_text()
    tests = "".join(p.read_text() for p in (ROOT / "tests/modules").glob("test_governance*.py")
                    if p.name != Path(__file__).name)
    for code in sorted(registered):
        assert f"`{code}`" in docs, f"{code} is not documented"
        assert f'"{code}"' in tests, f"{code} is not tested"
