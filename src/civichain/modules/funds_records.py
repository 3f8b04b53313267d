"""The records of public funds as the chain keeps them, their state keys, and reads (pure; integer fen).

Money flows down one chain, and every record names the records above it, so any payment traces back to the
appropriation it came from:

```
fiscal year ── appropriation ── allocation ── commitment ── disbursement
                                  │ to a programme of a department        (to the commitment's payee)
```

Each record keeps the running totals of the records below it (an appropriation the sum of its allocations,
an allocation the sum of its commitments and payments, ...), so a limit is checked by reading one record.
All amounts are integer fen (0.01 yuan): rounding must never differ between nodes.

State keys (ids are lower-case `[a-z0-9._-]`, never `/`; years four digits; sequence numbers 20 digits):

```
funds/year/<year>                          FiscalYear: threshold, status, totals of the year
funds/appropriation/<id>                   Appropriation
funds/programme/<id>                       Programme: its department, budget, committed, spent, payments
funds/allocation/<id>                      Allocation
funds/commitment/<id>                      Commitment
funds/disbursement/<id>                    Disbursement
funds/payments/<programme>/<seq>           the id of the programme's payment number seq (1, 2, ...)
funds/year_programmes/<year>/<programme>   the programme's department: the programmes of a year, by id
funds/invoice/<hex digest>                 the id of the disbursement that paid this invoice (while not reversed)
```
"""

from __future__ import annotations

import msgspec

from civichain.codec import decode
from civichain.modules.base import ModuleError, StateView

OPEN, CLOSED, CANCELLED = "open", "closed", "cancelled"
REF_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"      # the ids of records: never "/", which separates key parts
MIN_YEAR, MAX_YEAR = 2000, 9999
MAX_AMOUNT_FEN = 10**15          # one movement: 10 trillion yuan
MAX_YEAR_TOTAL_FEN = 10**18      # all appropriations of a year; keeps every total a 64-bit integer
PAYMENTS_PREFIX = b"funds/payments/"
YEAR_PROGRAMMES_PREFIX = b"funds/year_programmes/"


class FiscalYear(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """A fiscal year: the approval threshold fixed when it opened, its status and the totals of its movements."""

    year: int
    threshold_fen: int           # a movement of more than this needs a second department's endorsement
    status: str                  # OPEN or CLOSED
    opened_at: int
    appropriated_fen: int = 0
    allocated_fen: int = 0
    committed_fen: int = 0
    spent_fen: int = 0
    closed_at: int = 0


class Appropriation(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """Spending authority for a year, recorded by the finance bureau from an approved budget document."""

    id: str
    year: int
    title: str
    basis: bytes                 # SHA-256 of the budget document (last adjustment's document after one)
    amount_fen: int
    allocated_fen: int
    created_at: int


class Programme(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """A department's programme for a year: what was allocated to it, committed by it and paid out."""

    id: str
    year: int
    department: str
    title: str
    budget_fen: int = 0          # sum of its allocations
    committed_fen: int = 0       # sum of its commitments (paid and unpaid)
    spent_fen: int = 0           # sum of its payments not reversed
    payments: int = 0            # payments made, reversed ones included: the last sequence number
    created_at: int = 0

    @property
    def remaining_fen(self) -> int:
        """Budget not yet committed: what the department may still contract for."""
        return self.budget_fen - self.committed_fen

    @property
    def unpaid_fen(self) -> int:
        """Committed but not yet paid."""
        return self.committed_fen - self.spent_fen


class Allocation(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """Part of an appropriation given to a programme."""

    id: str
    appropriation: str
    programme: str
    year: int
    department: str
    amount_fen: int
    committed_fen: int = 0
    spent_fen: int = 0
    created_at: int = 0


class Commitment(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """A contract charged to an allocation: who will be paid, up to how much, under which contract document."""

    id: str
    allocation: str
    appropriation: str
    programme: str
    year: int
    payee: str                   # an account id or an organisation id: never a person's name
    contract: bytes              # SHA-256 of the contract document
    amount_fen: int
    disbursed_fen: int = 0
    status: str = OPEN           # OPEN or CANCELLED (then amount_fen == what was paid before cancelling)
    amendment: bytes = b""       # SHA-256 of the last amendment's document, if any
    created_at: int = 0


class Disbursement(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """Money paid to a commitment's payee against an invoice, with the whole chain it traces back to."""

    id: str
    commitment: str
    allocation: str
    appropriation: str
    programme: str
    year: int
    seq: int                     # the programme's payment number, from 1
    payee: str
    amount_fen: int
    invoice: bytes               # SHA-256 of the invoice document
    contract: bytes              # SHA-256 of the contract document
    height: int
    time_ns: int
    tx_id: bytes
    reversed_at: int = 0
    reversal_reason: str = ""


def year_key(year: int) -> bytes:
    """Return the state key of a fiscal year."""
    return b"funds/year/%04d" % year


def appropriation_key(appropriation: str) -> bytes:
    """Return the state key of an appropriation."""
    return b"funds/appropriation/" + appropriation.encode()


def programme_key(programme: str) -> bytes:
    """Return the state key of a programme."""
    return b"funds/programme/" + programme.encode()


def allocation_key(allocation: str) -> bytes:
    """Return the state key of an allocation."""
    return b"funds/allocation/" + allocation.encode()


def commitment_key(commitment: str) -> bytes:
    """Return the state key of a commitment."""
    return b"funds/commitment/" + commitment.encode()


def disbursement_key(disbursement: str) -> bytes:
    """Return the state key of a disbursement."""
    return b"funds/disbursement/" + disbursement.encode()


def payments_prefix(programme: str) -> bytes:
    """Return the prefix of a programme's payment index (keys in payment order)."""
    return PAYMENTS_PREFIX + programme.encode() + b"/"


def payment_key(programme: str, seq: int) -> bytes:
    """Return the index key of a programme's payment number `seq`."""
    return payments_prefix(programme) + b"%020d" % seq


def year_programmes_prefix(year: int) -> bytes:
    """Return the prefix of a year's programme index (keys in programme id order)."""
    return YEAR_PROGRAMMES_PREFIX + b"%04d/" % year


def invoice_key(invoice: bytes) -> bytes:
    """Return the state key that marks an invoice as paid."""
    return b"funds/invoice/" + invoice.hex().encode()


def load_year(state: StateView, year: int) -> FiscalYear | None:
    """Return a fiscal year, or None."""
    return _load(state, year_key(year), FiscalYear, f"fiscal year {year}")


def load_programme(state: StateView, programme: str) -> Programme | None:
    """Return a programme, or None."""
    return _load(state, programme_key(programme), Programme, f"programme {programme}")


def existing_year(state: StateView, year: int, where: str) -> FiscalYear:
    """Return a fiscal year. Raises `funds.unknown_year`."""
    found = load_year(state, year)
    if found is None:
        raise ModuleError("funds.unknown_year", where=where, got=year,
                          expected="a fiscal year opened by the finance bureau")
    return found


def existing_appropriation(state: StateView, ref: str, where: str) -> Appropriation:
    """Return an appropriation. Raises `funds.unknown_appropriation`."""
    return _existing(state, appropriation_key(ref), Appropriation, "funds.unknown_appropriation", where, ref)


def existing_programme(state: StateView, ref: str, where: str) -> Programme:
    """Return a programme. Raises `funds.unknown_programme`."""
    return _existing(state, programme_key(ref), Programme, "funds.unknown_programme", where, ref)


def existing_allocation(state: StateView, ref: str, where: str) -> Allocation:
    """Return an allocation. Raises `funds.unknown_allocation`."""
    return _existing(state, allocation_key(ref), Allocation, "funds.unknown_allocation", where, ref)


def existing_commitment(state: StateView, ref: str, where: str) -> Commitment:
    """Return a commitment. Raises `funds.unknown_commitment`."""
    return _existing(state, commitment_key(ref), Commitment, "funds.unknown_commitment", where, ref)


def existing_disbursement(state: StateView, ref: str, where: str) -> Disbursement:
    """Return a disbursement. Raises `funds.unknown_disbursement`."""
    return _existing(state, disbursement_key(ref), Disbursement, "funds.unknown_disbursement", where, ref)


def _existing(state: StateView, key: bytes, kind: type, code: str, where: str, ref: str):
    found = _load(state, key, kind, ref)
    if found is None:
        raise ModuleError(code, where=where, got=ref, expected=f"the id of {_article(kind.__name__.lower())}")
    return found


def _article(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def _load(state: StateView, key: bytes, kind: type, where: str):
    raw = state.get(key)
    return None if raw is None else decode(raw, kind, where=where)
