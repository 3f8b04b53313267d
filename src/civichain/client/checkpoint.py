"""Check a checkpoint against the CometBFT header that commits to it, with nothing but the API's answer.

The app hash of height H, carried in the header of height H+1 that the validators sign, is the hash of the
checkpoint's log size, log root, state root and receipts root (types/checkpoint.py). A checkpoint that hashes to
that app hash, of the same chain, is what the header commits to: its state root then proves any value of state
at H, its log root any transaction of the log up to its size.
"""

from __future__ import annotations

from civichain.crypto import sha256
from civichain.errors import CivicError
from civichain.types import Checkpoint


class CheckpointMismatch(CivicError):
    """A checkpoint that is not the one the signed header commits to."""


def verify_checkpoint_answer(answer: dict, height: int | None = None) -> Checkpoint:
    """Check a GET /v1/checkpoints answer and return its checkpoint.

    Checks that the checkpoint (of `height`, when given) hashes to the app hash of the signed header, that the
    header is of the next height and of the same chain. Raises CheckpointMismatch `client.checkpoint_mismatch`.
    """
    plain, header = answer["checkpoint"], answer["signed_header"]["header"]
    checkpoint = Checkpoint(plain["chain_id"], plain["height"], plain["log_size"], bytes.fromhex(plain["log_root"]),
                            bytes.fromhex(plain["state_root"]), bytes.fromhex(plain["receipts_root"]),
                            plain["time_ns"])
    _require(height is None or checkpoint.height == height, "checkpoint height", checkpoint.height, f"{height}")
    _require(header["chain_id"] == checkpoint.chain_id, "header chain_id", header["chain_id"], checkpoint.chain_id)
    _require(int(header["height"]) == checkpoint.height + 1, "header height", header["height"],
             f"{checkpoint.height + 1}, the height after the checkpoint's")
    computed = checkpoint.app_hash(sha256).hex()
    _require(header["app_hash"].lower() == computed, "header app_hash", header["app_hash"].lower(),
             f"{computed}, the hash of the checkpoint")
    return checkpoint


def _require(condition: bool, where: str, got: object, expected: str) -> None:
    if not condition:
        raise CheckpointMismatch("client.checkpoint_mismatch", where=where, got=got, expected=expected)
