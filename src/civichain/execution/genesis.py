"""The genesis state: what the application genesis writes before the first block."""

from __future__ import annotations

from civichain.execution.overlay import Overlay
from civichain.modules import registry
from civichain.types import AppGenesis


class _Empty:
    def get(self, key: bytes) -> bytes | None:
        return None


def genesis_writes(genesis: AppGenesis) -> dict[bytes, bytes | None]:
    """Return the state writes of the genesis, in key order."""
    overlay = Overlay(_Empty())
    registry.apply_genesis(overlay, genesis)
    return dict(sorted(overlay.writes.items()))
