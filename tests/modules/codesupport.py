"""The checks every module's table of error codes goes through (tests/modules/test_*_codes.py).

A module declares the codes its actions give, once (`ERROR_CODES`, in ABCI numbering order). A table test
then checks, for that module:

* the declaration is exactly the set of `"<prefix>.<reason>"` literals its sources raise (read from the
  syntax tree, outside the declaration itself: a code in a comment or a docstring does not count);
* every declared code is documented in docs/modules/ with its ABCI number;
* every declared code has a scenario, and only those: a function that sets up a chain and returns it with a
  transaction that, run alone in a block, really gets that code in its receipt and changes nothing
  (`chainsupport.refused`).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Callable

from civichain.execution.codes import number_of
from tests.modules.chainsupport import MemoryChain, refused

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "src/civichain/modules"
DOCS = ROOT / "docs/modules"
DECLARATION = "ERROR_CODES"

Scenario = Callable[[], tuple[MemoryChain, bytes]]


class Scenarios(dict):
    """Scenarios by the code they produce; `@SCENARIOS.of("module.reason")` registers one (once per code)."""

    def of(self, code: str) -> Callable[[Scenario], Scenario]:
        def register(build: Scenario) -> Scenario:
            assert code not in self, f"two scenarios for {code}"
            self[code] = build
            return build
        return register


def raised_codes(prefix: str, *sources: str) -> set[str]:
    """The string literals `<prefix>.<reason>` in the module sources, outside their `ERROR_CODES` declaration."""
    pattern = re.compile(rf"^{re.escape(prefix)}\.[a-z_]+$")
    found: set[str] = set()
    for source in sources:
        tree = ast.parse((MODULES / source).read_text())
        declared = {id(node) for stmt in ast.walk(tree) if _declares_codes(stmt) for node in ast.walk(stmt.value)}
        found |= {node.value for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in declared
                  and pattern.match(node.value)}
    return found


def check_declaration(declared: tuple[str, ...], prefix: str, *sources: str) -> None:
    """The declared codes are distinct and exactly those the sources raise."""
    assert len(set(declared)) == len(declared), f"a {prefix} code is declared twice"
    assert set(declared) == raised_codes(prefix, *sources)


def check_documented(declared: tuple[str, ...], doc: str) -> None:
    """Each code has a row `| `code` | number |` in docs/modules/<doc>."""
    text = (DOCS / doc).read_text()
    for code in declared:
        assert f"| `{code}` | {number_of(code)} |" in text, f"{code} is not documented with its number in {doc}"


def check_scenarios(declared: tuple[str, ...], scenarios: dict[str, Scenario]) -> None:
    """There is a scenario for every declared code, and for nothing else."""
    assert sorted(scenarios) == sorted(declared)


def check_scenario(scenarios: dict[str, Scenario], code: str) -> None:
    """The scenario's transaction gets `code` in its receipt and changes nothing but its sender's nonce."""
    chain, tx = scenarios[code]()
    refused(chain, tx, code)


def _declares_codes(node: ast.AST) -> bool:
    return isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == DECLARATION for t in node.targets)
