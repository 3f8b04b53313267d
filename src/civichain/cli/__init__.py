"""The `civichain` command: set up, run, use and audit a civichain network.

Commands are grouped by noun, one module each: `network` (init, up, status, export, verify, replay, join, node,
demo), `bench` (bench, chaos), `ledger` (keys, submit, query, notary, history, policies), `gov`, `identity`,
`registry`, `land` and `funds`; `common` holds what they share. Importing this package registers
them all on `app`.

Exit codes: 0 all well; 1 a check found a problem; 2 bad usage or config; 3 runtime failure.
"""

from civichain.cli.common import app, main

# Importing a module registers its commands; this order is the order of `civichain --help`.
from civichain.cli import network, ledger, bench, gov, identity, registry, land, funds  # noqa: F401,I001

__all__ = ["app", "main"]
