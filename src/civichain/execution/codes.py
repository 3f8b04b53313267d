"""Stable numbers for error codes, as CometBFT's `code` field carries them.

The string code (`module.reason`) is the contract; the number is its ABCI form. Numbers are never reused:
add new codes at the end of their module's list.
"""

from __future__ import annotations

OK = 0
UNKNOWN = 1

_CODES: dict[str, int] = {}


def _register(base: int, codes: list[str]) -> None:
    for offset, code in enumerate(codes):
        _CODES[code] = base + offset


_register(100, [
    "codec.malformed", "codec.not_canonical", "tx.oversize", "tx.wrong_chain", "tx.bad_signature",
    "tx.stale_nonce", "tx.duplicate_nonce", "tx.nonce_too_far", "tx.nonce_gap", "tx.expired",
    "tx.expiry_too_far", "tx.unknown_module", "tx.unknown_action", "tx.bad_arguments",
    "auth.unknown_account", "auth.account_suspended", "auth.bad_endorsement", "auth.duplicate_endorsement",
    "tx.mempool_full",
])
_register(200, [
    "registry.not_admin", "registry.bad_account_id", "registry.account_exists", "registry.unknown_account",
    "registry.cannot_suspend_self", "registry.already_suspended", "registry.not_suspended",
])
_register(300, [
    "notary.not_permitted", "notary.already_anchored", "notary.not_found", "notary.already_revoked",
])


def number_of(code: str) -> int:
    """Return the ABCI number of a code: 0 for "ok", 1 for a code that has no number yet."""
    if code == "ok":
        return OK
    return _CODES.get(code, UNKNOWN)


def codespace_of(code: str) -> str:
    """Return the ABCI codespace of a code: the part before the dot."""
    return "" if code == "ok" else code.split(".", 1)[0]


def all_codes() -> dict[str, int]:
    """Return every registered code and its number."""
    return dict(_CODES)
