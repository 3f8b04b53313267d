"""Receipts and events: what each transaction did, hashed into the app hash."""

from __future__ import annotations

from typing import Annotated

import msgspec

Text = Annotated[str, msgspec.Meta(max_length=4096)]


class Attribute(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """One named value of an event; `indexed` attributes can be searched by key."""

    key: Annotated[str, msgspec.Meta(max_length=64)]
    value: Text
    indexed: bool = False


class Event(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """Something a module did, for example `notary.anchored` with the document digest as key."""

    module: str
    type: str
    key: Text
    attributes: tuple[Attribute, ...] = ()


class Receipt(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """The outcome of one transaction in a block, or of one task of a module's end-of-block hook.

    `code` is "ok" or a stable error code (`module.reason`); `where`, `got` and `expected` are its facts.
    `log_index` is the transaction's position in the transparency log, or None when execution refused it
    (it then changed nothing and is not in the log).

    A *block receipt* (the outcome of an end-of-block task, such as executing a passed governance proposal)
    has an empty `tx_id`, names its task in `where` (`governance proposal 7`) and has no `log_index`. A
    block's block receipts follow its transaction receipts, and both are hashed into its receipts root.
    """

    tx_id: bytes
    code: str
    where: str = ""
    got: str = ""
    expected: str = ""
    events: tuple[Event, ...] = ()
    log_index: int | None = None

    @property
    def ok(self) -> bool:
        """True when the action was carried out."""
        return self.code == "ok"

    @property
    def of_block(self) -> bool:
        """True for a block receipt (an end-of-block task), False for a transaction's receipt."""
        return not self.tx_id
