"""Execution: admission, signatures, nonces, dispatch to modules, receipts. Pure: no I/O, no clock."""

from civichain.execution.admission import (
    Admission,
    AdmissionError,
    Admitted,
    Mode,
    SignatureCache,
    SignatureWork,
    encode_nonce,
    next_nonce,
    nonce_key,
)
from civichain.execution.executor import BlockRun, execute_block
from civichain.execution.genesis import genesis_writes
from civichain.execution.overlay import Overlay, StateReader

__all__ = [
    "Admission",
    "AdmissionError",
    "Admitted",
    "BlockRun",
    "Mode",
    "Overlay",
    "SignatureCache",
    "SignatureWork",
    "StateReader",
    "encode_nonce",
    "execute_block",
    "genesis_writes",
    "next_nonce",
    "nonce_key",
]
