"""Checkpoints and the app hash: what one verified CometBFT header commits to.

The app hash of height H (carried in the header of H+1) is

    H( "civichain/apphash/v1" ‖ 0x00 ‖ u64be(log_size) ‖ log_root ‖ state_root ‖ receipts_root )

with the suite's hash H (SHA-256 for ed25519-sha256; every root is 32 bytes). The height is not in it (the
header that carries the app hash has its own height), so an empty block after an empty block leaves the app
hash unchanged and CometBFT needs no extra "proof block". See docs/architecture.md, "App hash".
"""

from __future__ import annotations

import struct
from typing import Callable

import msgspec

APP_HASH_DOMAIN = b"civichain/apphash/v1\x00"


class Checkpoint(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """The state of the ledger after a block: what a citizen or light client keeps."""

    chain_id: str
    height: int
    log_size: int
    log_root: bytes
    state_root: bytes
    receipts_root: bytes
    time_ns: int

    def app_hash(self, hash_fn: Callable[[bytes], bytes]) -> bytes:
        """Return the app hash this checkpoint stands for."""
        return app_hash_of(hash_fn, self.log_size, self.log_root, self.state_root, self.receipts_root)


def app_hash_of(hash_fn: Callable[[bytes], bytes], log_size: int, log_root: bytes, state_root: bytes,
                receipts_root: bytes) -> bytes:
    """Return the app hash of a block from its parts (layout in the module docstring)."""
    return hash_fn(APP_HASH_DOMAIN + struct.pack(">Q", log_size) + log_root + state_root + receipts_root)
