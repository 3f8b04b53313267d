"""Test only: a node's app built wrong, whose app hash differs from everyone's from a given height on.

Run as `python tests/network/faulty_app.py --home NODE` in place of `civichain node app --home NODE`, with
CIVICHAIN_FAULTY_FROM_HEIGHT set: it patches civichain's app-hash computation for the blocks it executes from that
height on, then runs the normal app entry point. The hash of blocks before that height, and the check at start-up
that the stored app hash matches its parts, use the real computation, so the node first catches up like any other.
Production code has no switch for this: the fault exists only in this launcher.
"""

from __future__ import annotations

import os
import sys

import civichain.ledger.ledger as ledger_module
from civichain.cli import main

FAULTY_FROM_HEIGHT = int(os.environ["CIVICHAIN_FAULTY_FROM_HEIGHT"])
_real_app_hash_of = ledger_module.app_hash_of
_real_seal = ledger_module.Ledger._seal


def _wrong_app_hash_of(hash_function, *parts) -> bytes:
    return hash_function(b"a faulty build\x00" + _real_app_hash_of(hash_function, *parts))


def _seal(self, height: int, *args, **kwargs):
    """Execute the block as usual, with the wrong app-hash computation from FAULTY_FROM_HEIGHT on."""
    if height < FAULTY_FROM_HEIGHT:
        return _real_seal(self, height, *args, **kwargs)
    ledger_module.app_hash_of = _wrong_app_hash_of   # the app is single-threaded: no one else sees the swap
    try:
        return _real_seal(self, height, *args, **kwargs)
    finally:
        ledger_module.app_hash_of = _real_app_hash_of


ledger_module.Ledger._seal = _seal

if __name__ == "__main__":
    sys.argv = ["civichain", "node", "app", *sys.argv[1:]]
    main()
