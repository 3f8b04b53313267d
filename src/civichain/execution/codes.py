"""Stable numbers for error codes, as CometBFT's `code` field carries them.

The string code (`module.reason`) is the contract; the number is its ABCI form. Each module declares the codes
its actions give (`ERROR_CODES`, in numbering order) and this table numbers them from the module's base;
admission's codes are listed here. Numbers are never reused: add new codes at the end of their list.
"""

from __future__ import annotations

from civichain.modules import funds, governance, identity, land, notary, policy, registry

OK = 0
UNKNOWN = 1

_CODES: dict[str, int] = {}


def _register(base: int, codes: tuple[str, ...] | list[str]) -> None:
    for offset, code in enumerate(codes):
        number = base + offset
        # A list grown into the next block would give two codes one number: refuse to build the table.
        assert code not in _CODES and number not in _CODES.values(), f"{code} or number {number} given twice"
        _CODES[code] = number


# Admission (codec, transaction and account checks), then the policies' two codes.
_register(100, [
    "codec.malformed", "codec.not_canonical", "tx.oversize", "tx.wrong_chain", "tx.bad_signature",
    "tx.stale_nonce", "tx.duplicate_nonce", "tx.nonce_too_far", "tx.nonce_gap", "tx.expired",
    "tx.expiry_too_far", "tx.unknown_module", "tx.unknown_action", "tx.bad_arguments",
    "auth.unknown_account", "auth.account_suspended", "auth.bad_endorsement", "auth.duplicate_endorsement",
    "tx.mempool_full", "auth.organisation_suspended",
])
_register(120, policy.ERROR_CODES)
_register(200, registry.ERROR_CODES)
_register(300, notary.ERROR_CODES)
_register(400, governance.ERROR_CODES)
_register(700, identity.ERROR_CODES)
_register(500, land.ERROR_CODES)
_register(600, funds.ERROR_CODES)
# Answers to CometBFT's peer-filter queries (ABCI Query `/p2p/filter/...`), not transaction receipts.
_register(900, [
    "p2p.unknown_node", "p2p.bad_node_id", "p2p.bad_address", "p2p.not_ready", "query.unknown_path",
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
