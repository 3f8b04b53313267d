"""Every land code is registered with an ABCI number, documented with that number, and exercised by a test."""

from __future__ import annotations

import re
from pathlib import Path

from civichain.execution.codes import all_codes

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r'"(land\.[a-z_]+)"')


def test_every_land_code_is_registered_documented_and_tested():
    raised = set(CODE.findall((ROOT / "src/civichain/modules/land.py").read_text()))
    registered = {code: number for code, number in all_codes().items() if code.startswith("land.")}
    assert raised == set(registered)
    docs = (ROOT / "docs/modules/land.md").read_text()
    tests = "".join(p.read_text() for p in (ROOT / "tests/modules").glob("test_land*.py")
                    if p.name != Path(__file__).name)
    for code, number in sorted(registered.items()):
        assert f"| `{code}` | {number} |" in docs, f"{code} is not documented with its number {number}"
        assert f'"{code}"' in tests, f"{code} is not tested"
