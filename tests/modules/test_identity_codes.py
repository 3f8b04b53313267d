"""Every identity code (and every registry code) is registered with an ABCI number, documented, and tested."""

from __future__ import annotations

import re
from pathlib import Path

from civichain.execution.codes import all_codes

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "src/civichain/modules"
CODE = re.compile(r'"((?:identity|registry)\.[a-z_]+)"')
TESTS = ["test_identity.py", "test_registry_keys.py"]


def raised(prefix: str, *files: str) -> set[str]:
    return {c for name in files for c in CODE.findall((MODULES / name).read_text()) if c.startswith(prefix)}


def registered(prefix: str) -> set[str]:
    return {c for c in all_codes() if c.startswith(prefix)}


def sources_of_tests() -> str:
    return "".join((ROOT / "tests/modules" / name).read_text() for name in TESTS)


def test_every_identity_code_is_registered_documented_and_tested():
    codes = registered("identity.")
    assert raised("identity.", "did.py", "identity.py", "credentials.py") == codes
    docs = (ROOT / "docs/modules/identity.md").read_text()
    for code in sorted(codes):
        assert f"`{code}`" in docs and f"| {all_codes()[code]} |" in docs, f"{code} is not documented with its number"
        assert f'"{code}"' in sources_of_tests(), f"{code} is not tested"


def test_every_registry_code_is_registered_documented_and_the_new_ones_tested():
    codes = registered("registry.")
    assert raised("registry.", "registry.py") == codes
    docs = (ROOT / "docs/modules/registry.md").read_text()
    for code in sorted(codes):
        assert f"`{code}`" in docs and f"| {all_codes()[code]} |" in docs, f"{code} is not documented with its number"
    for code in ("registry.rotation_not_permitted", "registry.same_key", "registry.unknown_account"):
        assert f'"{code}"' in sources_of_tests(), f"{code} is not tested"


def test_identity_numbers_are_in_their_block():
    assert sorted(all_codes()[c] for c in registered("identity.")) == list(range(700, 700 + len(registered("identity."))))
