"""The genesis state: what the application genesis writes before the first block."""

from __future__ import annotations

from civichain.execution.overlay import Overlay
from civichain.modules import ALL_MODULES
from civichain.types import AppGenesis


class _Empty:
    def get(self, key: bytes) -> bytes | None:
        return None


def genesis_writes(genesis: AppGenesis) -> dict[bytes, bytes | None]:
    """Return the state writes of the genesis, in key order: each module's genesis hook, in name order.

    Raises ModuleError with a `genesis.*` code for a genesis a module cannot accept.
    """
    overlay = Overlay(_Empty())
    for name in sorted(ALL_MODULES):
        hook = ALL_MODULES[name].init_genesis
        if hook is not None:
            hook(overlay, genesis)
    return dict(sorted(overlay.writes.items()))
