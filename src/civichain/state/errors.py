"""The two errors of the state layer: one for bad input to the tree, one for proofs that do not hold."""

from __future__ import annotations

from civichain.errors import CivicError


class StateError(CivicError):
    """A key, value, version or node that the state tree cannot accept or find.

    Codes: `state.bad_key_type`, `state.key_too_long`, `state.bad_value_type`, `state.value_too_long`,
    `state.bad_version`, `state.version_not_increasing`, `state.bad_node_key`, `state.bad_root_key`,
    `state.node_missing`, `state.malformed_node`, `state.node_conflict`.
    """


class StateProofError(CivicError):
    """A state proof that is malformed or does not prove what was asked.

    Codes: `state.malformed_proof`, `state.bad_root_hash`, `state.bad_key_type`, `state.key_too_long`,
    `state.bad_value_type`, `state.value_too_long`, `state.key_mismatch`, `state.key_absent`,
    `state.key_present`, `state.value_mismatch`, `state.root_mismatch`.
    """
