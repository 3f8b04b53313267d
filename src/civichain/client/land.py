"""Read the land registry through a node's API, and check its answers with nothing but the answer itself.

A parcel answer carries the parcel, its title and its unreleased encumbrances, each with the state proof of
its value at one height. `check_parcel_answer` verifies every proof against that one state root (which a
client trusts through a checkpoint), checks that each record shown is the value proved, and that the title
and encumbrances are exactly those the parcel names: a node cannot leave a mortgage out.
"""

from __future__ import annotations

import msgspec

from civichain.client.api import ApiClient
from civichain.client.proofs import AnswerMismatch, check_record, require_answer
from civichain.modules.land import Encumbrance, Parcel, Title, record_keys

__all__ = ["AnswerMismatch", "check_parcel_answer", "check_record_answer", "full_history", "history", "parcel",
           "title"]


def parcel(api: ApiClient, parcel_id: str, height: int | None = None) -> dict:
    """Return a parcel with its title and encumbrances, each with its state proof (unchecked), at `height`."""
    return api.get(f"/v1/land/parcels/{parcel_id}", {"height": str(height)} if height else None)


def history(api: ApiClient, parcel_id: str, cursor: str | None = None, limit: int = 100) -> dict:
    """Return one page of a parcel's history, oldest first, and the cursor of the next page."""
    params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
    return api.get(f"/v1/land/parcels/{parcel_id}/history", params)


def full_history(api: ApiClient, parcel_id: str) -> list[dict]:
    """Return every entry of a parcel's history, oldest first, following the pages' cursors (unchecked)."""
    return api.all_pages(lambda cursor: history(api, parcel_id, cursor), "entries")


def title(api: ApiClient, number: int) -> dict:
    """Return a title (current or ended) with its state proof (unchecked)."""
    return api.get(f"/v1/land/titles/{number}")


def check_parcel_answer(answer: dict, state_root: bytes | None = None) -> Parcel:
    """Verify a parcel answer; return the parcel. `state_root`, when given, is the root the client trusts.

    Raises StateProofError (a proof that does not verify) or AnswerMismatch (`client.answer_mismatch`).
    """
    record = check_record_answer(answer["parcel"], Parcel)
    parts = [answer["parcel"], *([answer["title"]] if answer["title"] else []), *answer["encumbrances"]]
    require_answer([p["state"]["key"].encode() for p in parts] == record_keys(record), "keys",
                   [p["state"]["key"] for p in parts], "the parcel, the title it names and each encumbrance it lists")
    roots = {p["state"]["state_root"] for p in parts}
    require_answer(len(roots) == 1 and (state_root is None or roots == {state_root.hex()}), "state_root",
                   sorted(roots), "one state root" + (f": {state_root.hex()}" if state_root else ""))
    if answer["title"]:
        check_record_answer(answer["title"], Title)
    for part in answer["encumbrances"]:
        check_record_answer(part, Encumbrance)
    return record


def check_record_answer(answer: dict, kind: type[msgspec.Struct]) -> msgspec.Struct:
    """Verify one {"record", "state"} answer: its proof, and that the record shown is the value proved."""
    return check_record(answer["record"], answer["state"], kind)
