"""The land registry: parcels, titles and owners' shares, encumbrances, court freezes, subdivision and merger.

A **parcel** is surveyed land: an identifier, a location in words, an area in hundredths of a square metre
(dm², so 123.45 m² is 12345: integers only), a land use, and its boundary as the SHA-256 digest of the
survey file. A **title** names the owners (account ids, never names) and their shares: reduced integer
fractions that sum to exactly one. A parcel has at most one current title; a transfer, subdivision or merger
ends it and issues the next, so the titles of a parcel form a chain. **Encumbrances** (mortgage, easement,
lien) stay on the parcel until released; a blocking one stops transfers. A court **freezes** a parcel for a
case and lifts the freeze; a frozen parcel changes neither owners nor shape. Subdivision and merger retire
the old parcels and conserve area exactly. A registered parcel's location, land use or survey is **corrected**
only with two authorities' approval (2 of the registrar, the tax bureau and the court). Documents (deeds,
survey files, court orders) are SHA-256 digests.

Who may do what is declared as data (`Policy`, modules/policy.py) and checked by execution before an action
runs; the records a policy needs (the parcel, its current title, the encumbrance) are read first, so an
unknown parcel is reported as such. Every action emits events keyed by parcel id: the parcel's history.

State keys:

```
land/parcel/<parcel id>                 Parcel (ids are never reused, retired parcels stay)
land/title/<number, 20 digits>          Title
land/encumbrance/<number, 20 digits>    Encumbrance
land/next_title, land/next_encumbrance  the next number (absent: 1)
```

See docs/modules/land.md.
"""

from __future__ import annotations

from fractions import Fraction
from math import gcd
from typing import Annotated, Iterable, Literal, get_args

import msgspec

from civichain.codec import decode, encode
from civichain.modules.base import Action, Args, Context, Module, ModuleError, StateView
from civichain.modules.membership import load_account
from civichain.modules.policy import Facts, Party, Policy, Subjects, at_least, both
from civichain.types import ACCOUNT_PATTERN

NAME = "land"
ACTIVE, RETIRED = "active", "retired"
CURRENT, ENDED = "current", "ended"
FIRST_REGISTRATION, TRANSFER, SUBDIVISION, MERGER = "first_registration", "transfer", "subdivision", "merger"
LIEN = "lien"          # the encumbrance imposed, not granted: the owners need not sign it
MAX_OWNERS = 20        # keeps every event attribute within its 4,096 characters
MAX_PARCELS = 20       # children of a subdivision, parcels of a merger
EVENT_TYPES = ("registered", "title_issued", "transferred", "encumbered", "encumbrance_released", "frozen",
               "unfrozen", "subdivided", "merged", "corrected")
# The codes this module's actions give, in their ABCI numbering order (500, 501, ...): append only.
ERROR_CODES = (
    "land.parcel_exists", "land.unknown_parcel", "land.parcel_retired", "land.title_exists", "land.no_title",
    "land.stale_title", "land.duplicate_owner", "land.bad_share", "land.shares_not_whole", "land.unknown_account",
    "land.no_change", "land.parcel_frozen", "land.encumbered", "land.unknown_encumbrance",
    "land.encumbrance_released", "land.already_frozen", "land.not_frozen", "land.duplicate_parcel",
    "land.area_not_conserved", "land.owners_differ", "land.land_use_differs",
)

# Land-use classes: the first level of GB/T 21010 (土地利用现状分类).
LandUse = Literal["cropland", "garden", "forest", "grassland", "commercial", "industrial_storage", "residential",
                  "public_service", "special", "transport", "water", "other"]
LAND_USES: tuple[str, ...] = get_args(LandUse)
PARCEL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
ParcelId = Annotated[str, msgspec.Meta(pattern=PARCEL_ID_PATTERN)]
AccountId = Annotated[str, msgspec.Meta(pattern=ACCOUNT_PATTERN, max_length=127)]
Digest = Annotated[bytes, msgspec.Meta(min_length=32, max_length=32)]
Area = Annotated[int, msgspec.Meta(ge=1, le=10**15)]                 # dm²: up to 10 million km²
Location = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
Count = Annotated[int, msgspec.Meta(ge=1, le=10**9)]
Number = Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)]
CaseNumber = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]

PARCEL_PREFIX = b"land/parcel/"
TITLE_PREFIX = b"land/title/"
ENCUMBRANCE_PREFIX = b"land/encumbrance/"
NEXT_TITLE_KEY = b"land/next_title"
NEXT_ENCUMBRANCE_KEY = b"land/next_encumbrance"

REGISTRAR = Party(org="land-bureau", role="registrar")
TAX_BUREAU = Party(org="tax-bureau")
COURT = Party(org="court")


# --- records ----------------------------------------------------------------------------------------------

class Share(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """An owner's share of a title: the reduced fraction numerator/denominator."""

    owner: str
    numerator: int
    denominator: int


class Freeze(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """A court's freeze of a parcel for one case, with the digest of its order."""

    case: str
    order: bytes
    court: str             # the court account that froze it
    height: int
    tx_id: bytes


class Parcel(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """A parcel as the registry keeps it; a retired one was subdivided or merged into `successors`."""

    id: str
    location: str
    area_dm2: int
    land_use: str
    boundary: bytes                       # SHA-256 of the survey file
    registered_at: int
    tx_id: bytes
    origin: tuple[str, ...] = ()          # the parcel it was subdivided from, or the parcels merged into it
    title: int = 0                        # the current title (0: none yet); once retired, its last one
    encumbrances: tuple[int, ...] = ()    # unreleased, ascending
    freezes: tuple[Freeze, ...] = ()      # by case
    status: str = ACTIVE
    retired_at: int = 0
    successors: tuple[str, ...] = ()


class Title(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """Who owns a parcel and in what shares; `current` until a transfer, subdivision or merger ends it."""

    number: int
    parcel: str
    owners: tuple[Share, ...]             # sorted by owner; reduced shares summing to exactly 1
    deed: bytes                           # SHA-256 of the document the rights rest on
    cause: str                            # first_registration, transfer, subdivision or merger
    issued_at: int
    tx_id: bytes
    predecessors: tuple[int, ...] = ()    # the titles it replaced
    status: str = CURRENT
    ended_at: int = 0
    successors: tuple[int, ...] = ()      # the titles that replaced it


class Encumbrance(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """A mortgage, easement or lien on a parcel in favour of `holder`, until released."""

    number: int
    parcel: str
    kind: str
    holder: str
    blocking: bool                        # blocks transfers while unreleased
    amount_fen: int                       # the secured amount (0 when none)
    document: bytes
    registered_at: int
    tx_id: bytes
    released_at: int = 0
    release_document: bytes = b""


# --- arguments (fields in sorted order) -------------------------------------------------------------------

class OwnerShare(Args, kw_only=True):
    """One owner and share in an action's arguments: `numerator`/`denominator`, reduced, 0 < share <= 1."""

    denominator: Count
    numerator: Count
    owner: AccountId


Owners = Annotated[tuple[OwnerShare, ...], msgspec.Meta(min_length=1, max_length=MAX_OWNERS)]


class RegisterParcel(Args, kw_only=True):
    """Arguments of `land.register_parcel`."""

    area_dm2: Area
    boundary: Digest
    id: ParcelId
    land_use: LandUse
    location: Location


class IssueTitle(Args, kw_only=True):
    """Arguments of `land.issue_title` (first registration of ownership)."""

    deed: Digest
    owners: Owners
    parcel: ParcelId


class Transfer(Args, kw_only=True):
    """Arguments of `land.transfer`: `title` is the current title being transferred (guards against races)."""

    deed: Digest
    owners: Owners
    parcel: ParcelId
    title: Number


class AddEncumbrance(Args, kw_only=True):
    """Arguments of `land.add_encumbrance`."""

    amount_fen: Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)] = 0
    blocking: bool
    document: Digest
    holder: AccountId
    kind: Literal["easement", "lien", "mortgage"]
    parcel: ParcelId


class ReleaseEncumbrance(Args, kw_only=True):
    """Arguments of `land.release_encumbrance`."""

    document: Digest
    encumbrance: Number


class FreezeParcel(Args, kw_only=True):
    """Arguments of `land.freeze` and `land.unfreeze`: the court case and the digest of the court's order."""

    case: CaseNumber
    order: Digest
    parcel: ParcelId


class ChildParcel(Args, kw_only=True):
    """One new parcel of a subdivision."""

    area_dm2: Area
    boundary: Digest
    id: ParcelId
    location: Location


class Subdivide(Args, kw_only=True):
    """Arguments of `land.subdivide`: `document` is the digest of the approved subdivision plan."""

    children: Annotated[tuple[ChildParcel, ...], msgspec.Meta(min_length=2, max_length=MAX_PARCELS)]
    document: Digest
    parcel: ParcelId


class Merge(Args, kw_only=True):
    """Arguments of `land.merge`: the merged parcel (its survey and area) and the adjacent parcels it replaces."""

    area_dm2: Area
    boundary: Digest
    document: Digest
    id: ParcelId
    location: Location
    parcels: Annotated[tuple[ParcelId, ...], msgspec.Meta(min_length=2, max_length=MAX_PARCELS)]


class CorrectParcel(Args, kw_only=True):
    """Arguments of `land.correct_parcel`: the parcel's corrected location, land use and survey (boundary), and
    the digest of the document the correction rests on (a re-survey, a court judgment, a tax assessment)."""

    boundary: Digest
    document: Digest
    land_use: LandUse
    location: Location
    parcel: ParcelId


# --- queries ----------------------------------------------------------------------------------------------

def parcel_key(parcel: str) -> bytes:
    """Return the state key of a parcel."""
    return PARCEL_PREFIX + parcel.encode()


def title_key(number: int) -> bytes:
    """Return the state key of a title (numbers zero-padded, so key order is number order)."""
    return TITLE_PREFIX + b"%020d" % number


def encumbrance_key(number: int) -> bytes:
    """Return the state key of an encumbrance."""
    return ENCUMBRANCE_PREFIX + b"%020d" % number


def load_parcel(state: StateView, parcel: str) -> Parcel | None:
    """Return a parcel, or None."""
    raw = state.get(parcel_key(parcel))
    return None if raw is None else decode(raw, Parcel, where=f"parcel {parcel}")


def load_title(state: StateView, number: int) -> Title | None:
    """Return a title by number, or None."""
    raw = state.get(title_key(number))
    return None if raw is None else decode(raw, Title, where=f"title {number}")


def load_encumbrance(state: StateView, number: int) -> Encumbrance | None:
    """Return an encumbrance by number, or None."""
    raw = state.get(encumbrance_key(number))
    return None if raw is None else decode(raw, Encumbrance, where=f"encumbrance {number}")


def current_title(state: StateView, parcel: str) -> Title | None:
    """Return the current title of an active parcel, or None (no title yet, retired, or no such parcel)."""
    record = load_parcel(state, parcel)
    if record is None or record.status != ACTIVE or not record.title:
        return None
    return load_title(state, record.title)


def encumbrances_of(state: StateView, parcel: str) -> tuple[Encumbrance, ...]:
    """Return the unreleased encumbrances of a parcel, oldest first."""
    record = load_parcel(state, parcel)
    return () if record is None else tuple(_encumbrance(state, n) for n in record.encumbrances)


def record_keys(parcel: Parcel) -> list[bytes]:
    """Return the keys of a parcel's records: the parcel, the title it names (if any), its unreleased
    encumbrances. What the API proves for a parcel, and what a client checks it got, all of it."""
    return [parcel_key(parcel.id), *([title_key(parcel.title)] if parcel.title else []),
            *(encumbrance_key(n) for n in parcel.encumbrances)]


def show_owners(owners: Iterable[Share]) -> str:
    """Return owners and shares as text: `a/x=1/2,b/y=1/2`."""
    return ",".join(f"{s.owner}={s.numerator}/{s.denominator}" for s in owners)


# --- who the policies name as subjects (read before the policy is checked) --------------------------------

def transfer_subjects(state: StateView, args: Transfer) -> Facts:
    """The current owners (who give) and the new owners (who receive): a transfer is applied for jointly."""
    _, title = _current(state, args.parcel, args.title)
    return Facts(subjects=frozenset([*(s.owner for s in title.owners), *(o.owner for o in args.owners)]))


def owner_subjects(state: StateView, args: Subdivide) -> Facts:
    """The owners of the parcel's current title."""
    parcel = _titled_parcel(state, args.parcel, "args.parcel")
    return Facts(subjects=frozenset(s.owner for s in _title(state, parcel.title).owners))


def encumbrance_subjects(state: StateView, args: AddEncumbrance) -> Facts:
    """The holder, and for a mortgage or easement (granted by the owners, unlike a lien) every owner."""
    parcel = _titled_parcel(state, args.parcel, "args.parcel")
    owners = () if args.kind == LIEN else tuple(s.owner for s in _title(state, parcel.title).owners)
    return Facts(subjects=frozenset([args.holder, *owners]))


def release_subjects(state: StateView, args: ReleaseEncumbrance) -> Facts:
    """The holder of the encumbrance: only the one it favours gives it up."""
    return Facts(subjects=frozenset([_encumbrance(state, args.encumbrance, "args.encumbrance").holder]))


def merge_subjects(state: StateView, args: Merge) -> Facts:
    """Every owner of every parcel merged."""
    return Facts(subjects=frozenset(s.owner for _, title in _merge_sources(state, args) for s in title.owners))


# --- actions ----------------------------------------------------------------------------------------------

def apply_register_parcel(ctx: Context, args: RegisterParcel) -> None:
    """Register a surveyed parcel, without a title yet. Raises `land.parcel_exists`."""
    _check_new_parcel(ctx.state, args.id, "args.id")
    ctx.save(parcel_key(args.id), Parcel(args.id, args.location, args.area_dm2, args.land_use, args.boundary,
                                         ctx.block.height, ctx.tx_id))
    _emit_registered(ctx, args.id, args.area_dm2, args.land_use, args.boundary, args.location, "survey")


def apply_issue_title(ctx: Context, args: IssueTitle) -> None:
    """Issue the first title of a parcel. Raises `land.unknown_parcel`, `land.parcel_retired`,
    `land.title_exists`, `land.parcel_frozen` and the owners' codes (`land.duplicate_owner`, `land.bad_share`,
    `land.shares_not_whole`, `land.unknown_account`)."""
    parcel = _active_parcel(ctx.state, args.parcel, "args.parcel")
    if parcel.title:
        raise ModuleError("land.title_exists", where="args.parcel", got=f"{parcel.id} has title {parcel.title}",
                          expected="a parcel without a title (change owners with land.transfer)")
    _check_not_frozen(parcel, "args.parcel")
    owners = _checked_owners(ctx.state, args.owners)
    title = _new_title(ctx, parcel.id, owners, args.deed, FIRST_REGISTRATION, ())
    ctx.save(parcel_key(parcel.id), msgspec.structs.replace(parcel, title=title.number))
    _emit_title(ctx, title)


def apply_transfer(ctx: Context, args: Transfer) -> None:
    """Transfer a parcel to new owners: its current title ends and a new one is issued.

    Raises `land.unknown_parcel`, `land.parcel_retired`, `land.no_title`, `land.stale_title`,
    `land.parcel_frozen`, `land.encumbered` (an unreleased blocking encumbrance), the owners' codes, and
    `land.no_change` (the same owners and shares).
    """
    parcel, title = _current(ctx.state, args.parcel, args.title)
    _check_not_frozen(parcel, "args.parcel")
    _check_unencumbered(ctx.state, parcel, "args.parcel", blocking_only=True)
    owners = _checked_owners(ctx.state, args.owners)
    if owners == title.owners:
        raise ModuleError("land.no_change", where="args.owners", got=show_owners(owners),
                          expected="owners or shares different from those of the current title")
    new = _new_title(ctx, parcel.id, owners, args.deed, TRANSFER, (title.number,))
    _end_title(ctx, title, (new.number,))
    ctx.save(parcel_key(parcel.id), msgspec.structs.replace(parcel, title=new.number))
    ctx.emit(NAME, "transferred", parcel.id, previous_title=title.number, title=new.number,
             owners=show_owners(owners), deed=args.deed.hex())


def apply_add_encumbrance(ctx: Context, args: AddEncumbrance) -> None:
    """Register a mortgage, easement or lien on a titled parcel. A frozen parcel takes liens only.

    Raises `land.unknown_parcel`, `land.parcel_retired`, `land.no_title`, `land.parcel_frozen`.
    """
    parcel = _titled_parcel(ctx.state, args.parcel, "args.parcel")
    if args.kind != LIEN:
        _check_not_frozen(parcel, "args.parcel")
    number = _next_number(ctx.state, NEXT_ENCUMBRANCE_KEY)
    ctx.save(encumbrance_key(number), Encumbrance(number, parcel.id, args.kind, args.holder, args.blocking,
                                                  args.amount_fen, args.document, ctx.block.height, ctx.tx_id))
    ctx.save(parcel_key(parcel.id), msgspec.structs.replace(parcel, encumbrances=(*parcel.encumbrances, number)))
    ctx.emit(NAME, "encumbered", parcel.id, encumbrance=number, kind=args.kind, holder=args.holder,
             blocking=str(args.blocking).lower(), amount_fen=args.amount_fen, document=args.document.hex())


def apply_release_encumbrance(ctx: Context, args: ReleaseEncumbrance) -> None:
    """Release an encumbrance. Raises `land.unknown_encumbrance`, `land.encumbrance_released`."""
    record = _encumbrance(ctx.state, args.encumbrance, "args.encumbrance")
    if record.released_at:
        raise ModuleError("land.encumbrance_released", where="args.encumbrance",
                          got=f"released at height {record.released_at}", expected="an unreleased encumbrance")
    parcel = load_parcel(ctx.state, record.parcel)
    ctx.save(encumbrance_key(record.number), msgspec.structs.replace(
        record, released_at=ctx.block.height, release_document=args.document))
    remaining = tuple(n for n in parcel.encumbrances if n != record.number)
    ctx.save(parcel_key(parcel.id), msgspec.structs.replace(parcel, encumbrances=remaining))
    ctx.emit(NAME, "encumbrance_released", parcel.id, encumbrance=record.number, kind=record.kind,
             holder=record.holder, document=args.document.hex())


def apply_freeze(ctx: Context, args: FreezeParcel) -> None:
    """Freeze a parcel for a court case. Raises `land.unknown_parcel`, `land.parcel_retired`, `land.already_frozen`."""
    parcel = _active_parcel(ctx.state, args.parcel, "args.parcel")
    if any(f.case == args.case for f in parcel.freezes):
        raise ModuleError("land.already_frozen", where="args.case", got=f"{parcel.id} is frozen for case {args.case}",
                          expected="a case that has not frozen this parcel")
    added = Freeze(args.case, args.order, ctx.sender.id, ctx.block.height, ctx.tx_id)
    freezes = tuple(sorted((*parcel.freezes, added), key=lambda f: f.case))
    ctx.save(parcel_key(parcel.id), msgspec.structs.replace(parcel, freezes=freezes))
    ctx.emit(NAME, "frozen", parcel.id, case=args.case, court=ctx.sender.id, order=args.order.hex())


def apply_unfreeze(ctx: Context, args: FreezeParcel) -> None:
    """Lift a case's freeze of a parcel. Raises `land.unknown_parcel`, `land.parcel_retired`, `land.not_frozen`."""
    parcel = _active_parcel(ctx.state, args.parcel, "args.parcel")
    remaining = tuple(f for f in parcel.freezes if f.case != args.case)
    if len(remaining) == len(parcel.freezes):
        raise ModuleError("land.not_frozen", where="args.case", got=f"no freeze of {parcel.id} for case {args.case}",
                          expected=f"one of the cases freezing it: {[f.case for f in parcel.freezes]}")
    ctx.save(parcel_key(parcel.id), msgspec.structs.replace(parcel, freezes=remaining))
    ctx.emit(NAME, "unfrozen", parcel.id, case=args.case, court=ctx.sender.id, order=args.order.hex())


def apply_subdivide(ctx: Context, args: Subdivide) -> None:
    """Divide a parcel into new ones whose areas sum exactly to its own; each gets a title with its owners.

    Raises `land.unknown_parcel`, `land.parcel_retired`, `land.no_title`, `land.parcel_frozen`,
    `land.encumbered` (any unreleased encumbrance), `land.duplicate_parcel`, `land.parcel_exists`,
    `land.area_not_conserved`.
    """
    parent = _titled_parcel(ctx.state, args.parcel, "args.parcel")
    _check_not_frozen(parent, "args.parcel")
    _check_unencumbered(ctx.state, parent, "args.parcel", blocking_only=False)
    ids = [child.id for child in args.children]
    _check_distinct(ids, "args.children")
    for i, child in enumerate(args.children):
        _check_new_parcel(ctx.state, child.id, f"args.children[{i}].id")
    total = sum(child.area_dm2 for child in args.children)
    if total != parent.area_dm2:
        raise ModuleError("land.area_not_conserved", where="args.children", got=f"areas summing to {total} dm²",
                          expected=f"areas summing to exactly the area of {parent.id}, {parent.area_dm2} dm²")
    title = _title(ctx.state, parent.title)
    numbers = []
    for child in args.children:
        new = _new_title(ctx, child.id, title.owners, args.document, SUBDIVISION, (title.number,))
        numbers.append(new.number)
        ctx.save(parcel_key(child.id), Parcel(child.id, child.location, child.area_dm2, parent.land_use,
                                              child.boundary, ctx.block.height, ctx.tx_id, (parent.id,), new.number))
        _emit_registered(ctx, child.id, child.area_dm2, parent.land_use, child.boundary, child.location,
                         f"subdivision of {parent.id}")
        _emit_title(ctx, new)
    _retire(ctx, parent, title, tuple(ids), tuple(numbers))
    ctx.emit(NAME, "subdivided", parent.id, children=",".join(ids), titles=",".join(map(str, numbers)),
             document=args.document.hex())


def apply_merge(ctx: Context, args: Merge) -> None:
    """Merge adjacent parcels with the same owners, shares and land use into one of their summed area.

    Adjacency is shown by the merged parcel's survey (`boundary`), which the registrar checks. Raises
    `land.duplicate_parcel`, `land.unknown_parcel`, `land.parcel_retired`, `land.no_title`,
    `land.parcel_frozen`, `land.encumbered`, `land.owners_differ`, `land.land_use_differs`,
    `land.parcel_exists`, `land.area_not_conserved`.
    """
    sources = _merge_sources(ctx.state, args)
    for i, (parcel, _) in enumerate(sources):
        _check_not_frozen(parcel, f"args.parcels[{i}]")
        _check_unencumbered(ctx.state, parcel, f"args.parcels[{i}]", blocking_only=False)
    first, first_title = sources[0]
    for i, (parcel, title) in enumerate(sources[1:], start=1):
        if title.owners != first_title.owners:
            raise ModuleError("land.owners_differ", where=f"args.parcels[{i}]",
                              got=f"{parcel.id} owned {show_owners(title.owners)}",
                              expected=f"the owners and shares of {first.id}: {show_owners(first_title.owners)}")
        if parcel.land_use != first.land_use:
            raise ModuleError("land.land_use_differs", where=f"args.parcels[{i}]",
                              got=f"{parcel.id} is {parcel.land_use}", expected=f"{first.land_use}, as {first.id}")
    _check_new_parcel(ctx.state, args.id, "args.id")
    total = sum(parcel.area_dm2 for parcel, _ in sources)
    if args.area_dm2 != total:
        raise ModuleError("land.area_not_conserved", where="args.area_dm2", got=f"{args.area_dm2} dm²",
                          expected=f"the sum of the merged parcels' areas, {total} dm²")
    new = _new_title(ctx, args.id, first_title.owners, args.document, MERGER, tuple(t.number for _, t in sources))
    ctx.save(parcel_key(args.id), Parcel(args.id, args.location, args.area_dm2, first.land_use, args.boundary,
                                         ctx.block.height, ctx.tx_id, tuple(args.parcels), new.number))
    for parcel, title in sources:
        _retire(ctx, parcel, title, (args.id,), (new.number,))
        ctx.emit(NAME, "merged", parcel.id, into=args.id, title=new.number, document=args.document.hex())
    _emit_registered(ctx, args.id, args.area_dm2, first.land_use, args.boundary, args.location,
                     f"merger of {','.join(args.parcels)}")
    _emit_title(ctx, new)


def apply_correct_parcel(ctx: Context, args: CorrectParcel) -> None:
    """Correct a registered parcel's location, land use or survey; its area changes only by subdivision and merger.

    A correction is approved by two authorities (`CORRECTION`): the registrar and the tax bureau (a land use
    that was recorded wrongly changes the tax) or the court (a judgment). Raises `land.unknown_parcel`,
    `land.parcel_retired`, `land.parcel_frozen`, `land.no_change`.
    """
    parcel = _active_parcel(ctx.state, args.parcel, "args.parcel")
    _check_not_frozen(parcel, "args.parcel")
    corrected = msgspec.structs.replace(parcel, location=args.location, land_use=args.land_use, boundary=args.boundary)
    if corrected == parcel:
        raise ModuleError("land.no_change", where="args", got=f"the registered record of {parcel.id}",
                          expected="a location, land use or boundary other than the registered ones")
    ctx.save(parcel_key(parcel.id), corrected)
    ctx.emit(NAME, "corrected", parcel.id, location=args.location, land_use=args.land_use,
             boundary=args.boundary.hex(), document=args.document.hex(), previous_location=parcel.location,
             previous_land_use=parcel.land_use, previous_boundary=parcel.boundary.hex())


# --- checks -----------------------------------------------------------------------------------------------

def _active_parcel(state: StateView, parcel_id: str, where: str) -> Parcel:
    parcel = load_parcel(state, parcel_id)
    if parcel is None:
        raise ModuleError("land.unknown_parcel", where=where, got=parcel_id, expected="a registered parcel id")
    if parcel.status != ACTIVE:
        raise ModuleError("land.parcel_retired", where=where,
                          got=f"{parcel_id} retired at height {parcel.retired_at} into {','.join(parcel.successors)}",
                          expected="an active parcel (a subdivided or merged parcel is retired)")
    return parcel


def _titled_parcel(state: StateView, parcel_id: str, where: str) -> Parcel:
    parcel = _active_parcel(state, parcel_id, where)
    if not parcel.title:
        raise ModuleError("land.no_title", where=where, got=f"{parcel_id} has no title",
                          expected="a parcel with a current title (issue one with land.issue_title)")
    return parcel


def _current(state: StateView, parcel_id: str, title_number: int) -> tuple[Parcel, Title]:
    parcel = _titled_parcel(state, parcel_id, "args.parcel")
    if title_number != parcel.title:
        raise ModuleError("land.stale_title", where="args.title", got=title_number,
                          expected=f"the current title of {parcel_id}, {parcel.title}")
    return parcel, _title(state, parcel.title)


def _merge_sources(state: StateView, args: Merge) -> list[tuple[Parcel, Title]]:
    _check_distinct(list(args.parcels), "args.parcels")
    parcels = [_titled_parcel(state, p, f"args.parcels[{i}]") for i, p in enumerate(args.parcels)]
    return [(parcel, _title(state, parcel.title)) for parcel in parcels]


def _check_new_parcel(state: StateView, parcel_id: str, where: str) -> None:
    if state.get(parcel_key(parcel_id)) is not None:
        raise ModuleError("land.parcel_exists", where=where, got=parcel_id,
                          expected="a parcel id never registered (ids are not reused)")


def _check_distinct(ids: list[str], where: str) -> None:
    for i, parcel_id in enumerate(ids):
        if parcel_id in ids[:i]:
            raise ModuleError("land.duplicate_parcel", where=f"{where}[{i}]", got=parcel_id,
                              expected="each parcel id once")


def _check_not_frozen(parcel: Parcel, where: str) -> None:
    if parcel.freezes:
        raise ModuleError("land.parcel_frozen", where=where,
                          got=f"{parcel.id} frozen for case {', '.join(f.case for f in parcel.freezes)}",
                          expected="a parcel no court has frozen (the court lifts it with land.unfreeze)")


def _check_unencumbered(state: StateView, parcel: Parcel, where: str, *, blocking_only: bool) -> None:
    for number in parcel.encumbrances:
        record = _encumbrance(state, number)
        if record.blocking or not blocking_only:
            raise ModuleError("land.encumbered", where=where,
                              got=f"unreleased {'blocking ' if record.blocking else ''}{record.kind} {number} "
                                  f"held by {record.holder}",
                              expected="no unreleased blocking encumbrance" if blocking_only else
                              "no unreleased encumbrance: release it before the parcel's shape changes")


def _checked_owners(state: StateView, shares: tuple[OwnerShare, ...]) -> tuple[Share, ...]:
    """Return the owners as reduced shares sorted by owner, after checking they sum to exactly one."""
    total = Fraction(0)
    for i, share in enumerate(shares):
        where = f"args.owners[{i}]"
        if any(other.owner == share.owner for other in shares[:i]):
            raise ModuleError("land.duplicate_owner", where=where, got=share.owner,
                              expected="each owner once, with their whole share")
        n, d = share.numerator, share.denominator
        if n > d or gcd(n, d) != 1:
            raise ModuleError("land.bad_share", where=where, got=f"{n}/{d}",
                              expected="a reduced fraction n/d with 0 < n <= d, e.g. 1/2, 2/3 or 1/1")
        total += Fraction(n, d)
    if total != 1:
        raise ModuleError("land.shares_not_whole", where="args.owners",
                          got=f"shares summing to {total.numerator}/{total.denominator}",
                          expected="shares summing to exactly 1")
    for i, share in enumerate(shares):
        if load_account(state, share.owner) is None:
            raise ModuleError("land.unknown_account", where=f"args.owners[{i}].owner", got=share.owner,
                              expected="a registered account")
    return tuple(sorted((Share(s.owner, s.numerator, s.denominator) for s in shares), key=lambda s: s.owner))


# --- writes -----------------------------------------------------------------------------------------------

def _new_title(ctx: Context, parcel_id: str, owners: tuple[Share, ...], deed: bytes, cause: str,
               predecessors: tuple[int, ...]) -> Title:
    title = Title(_next_number(ctx.state, NEXT_TITLE_KEY), parcel_id, owners, deed, cause, ctx.block.height,
                  ctx.tx_id, predecessors)
    ctx.save(title_key(title.number), title)
    return title


def _end_title(ctx: Context, title: Title, successors: tuple[int, ...]) -> None:
    ctx.save(title_key(title.number), msgspec.structs.replace(title, status=ENDED, ended_at=ctx.block.height,
                                                              successors=successors))


def _retire(ctx: Context, parcel: Parcel, title: Title, parcels: tuple[str, ...], titles: tuple[int, ...]) -> None:
    _end_title(ctx, title, titles)
    ctx.save(parcel_key(parcel.id), msgspec.structs.replace(parcel, status=RETIRED, retired_at=ctx.block.height,
                                                            successors=parcels))


def _emit_registered(ctx: Context, parcel_id: str, area: int, land_use: str, boundary: bytes, location: str,
                     origin: str) -> None:
    ctx.emit(NAME, "registered", parcel_id, area_dm2=area, land_use=land_use, boundary=boundary.hex(),
             location=location, origin=origin)


def _emit_title(ctx: Context, title: Title) -> None:
    ctx.emit(NAME, "title_issued", title.parcel, title=title.number, owners=show_owners(title.owners),
             deed=title.deed.hex(), cause=title.cause)


def _next_number(state: StateView, key: bytes) -> int:
    raw = state.get(key)
    number = 1 if raw is None else decode(raw, int, where=key.decode())
    state.set(key, encode(number + 1))
    return number


def _title(state: StateView, number: int) -> Title:
    title = load_title(state, number)
    assert title is not None, f"title {number} is referenced but has no record"
    return title


def _encumbrance(state: StateView, number: int, where: str = "") -> Encumbrance:
    record = load_encumbrance(state, number)
    if record is None:
        assert where, f"encumbrance {number} is referenced but has no record"
        raise ModuleError("land.unknown_encumbrance", where=where, got=number, expected="the number of an encumbrance")
    return record


# --- the module -------------------------------------------------------------------------------------------

BY_REGISTRAR = Policy(performer=REGISTRAR)
BY_REGISTRAR_WITH_SUBJECTS = Policy(performer=REGISTRAR, endorsement=Subjects())
BY_COURT = Policy(performer=COURT)
# No single department bends a registered record: the registrar and one more authority, a different party.
CORRECTION = Policy(performer=REGISTRAR, endorsement=at_least(2, REGISTRAR, TAX_BUREAU, COURT))

MODULE = Module.of(NAME, [
    Action("register_parcel", RegisterParcel, apply_register_parcel, "Register a surveyed parcel.",
           policy=BY_REGISTRAR),
    Action("issue_title", IssueTitle, apply_issue_title, "Issue a parcel's first title: owners and shares.",
           policy=BY_REGISTRAR),
    Action("transfer", Transfer, apply_transfer, "Transfer a parcel to new owners under a new title.",
           policy=Policy(endorsement=both(Subjects(), REGISTRAR, TAX_BUREAU)), subjects=transfer_subjects),
    Action("add_encumbrance", AddEncumbrance, apply_add_encumbrance, "Register a mortgage, easement or lien.",
           policy=BY_REGISTRAR_WITH_SUBJECTS, subjects=encumbrance_subjects),
    Action("release_encumbrance", ReleaseEncumbrance, apply_release_encumbrance, "Release an encumbrance.",
           policy=BY_REGISTRAR_WITH_SUBJECTS, subjects=release_subjects),
    Action("freeze", FreezeParcel, apply_freeze, "Freeze a parcel for a court case.", policy=BY_COURT),
    Action("unfreeze", FreezeParcel, apply_unfreeze, "Lift a court case's freeze of a parcel.", policy=BY_COURT),
    Action("subdivide", Subdivide, apply_subdivide, "Divide a parcel into parcels of the same total area.",
           policy=BY_REGISTRAR_WITH_SUBJECTS, subjects=owner_subjects),
    Action("merge", Merge, apply_merge, "Merge adjacent parcels of the same owners into one.",
           policy=BY_REGISTRAR_WITH_SUBJECTS, subjects=merge_subjects),
    Action("correct_parcel", CorrectParcel, apply_correct_parcel,
           "Correct a parcel's location, land use or survey (the registrar and the tax bureau or the court).",
           policy=CORRECTION),
])
