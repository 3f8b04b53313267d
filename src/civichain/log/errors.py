"""The one error of the log layer: a proof, or a request for one, that does not fit the log."""

from __future__ import annotations

from civichain.errors import CivicError


class ProofError(CivicError):
    """A proof that does not verify, or a request for a proof or node that does not fit the log.

    Stable codes: `log.index_out_of_range`, `log.size_out_of_range`, `log.proof_length`, `log.root_mismatch`,
    `log.bad_hash_length`.
    """
