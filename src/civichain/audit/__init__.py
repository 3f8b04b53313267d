"""Offline audit of a downloaded chain: check every block header and commit against the validators, no node needed.

The auditor saves the consensus engine's answers (CometBFT's `/block`, `/commit` and `/validators`) and runs these
pure checks over them: each header hashes to the block id that was signed, more than two thirds of the voting
power signed it, and each header links to the one before. Failures are `AuditError`s naming the height and object.
"""

from civichain.audit.cometbft import (
    AuditError,
    commit_sign_bytes,
    header_hash,
    validators_hash,
    verify_chain_link,
    verify_commit,
)

__all__ = [
    "AuditError",
    "commit_sign_bytes",
    "header_hash",
    "validators_hash",
    "verify_chain_link",
    "verify_commit",
]
