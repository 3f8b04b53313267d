"""Land registry invariants over random sequences of actions (a hypothesis state machine against a small model).

The model (plain dicts and `Fraction`s, written from the rules in docs/modules/land.md) predicts every
receipt code, including the policy refusals; the machine checks the chain against it after every step, and
checks the invariants on the chain's own records:

* every parcel has at most one current title, and an active titled parcel exactly one, the one it names;
* every title's shares are reduced fractions between 0 and 1 that sum exactly to one;
* area is conserved: the active parcels cover exactly the area ever registered, each subdivision's parts sum
  to their parent and each merger to its parts;
* no transfer succeeds while the parcel is frozen or under an unreleased blocking encumbrance;
* a correction needs two authorities (the registrar and the tax bureau or the court), never changes the area;
* a refused action changes nothing but its sender's nonce.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from hypothesis import event, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from civichain.modules import land
from civichain.modules.land import (AddEncumbrance, ChildParcel, CorrectParcel, FreezeParcel, IssueTitle, Merge,
                                    RegisterParcel, ReleaseEncumbrance, Subdivide, Transfer)
from tests.modules.landsupport import ALICE, BANK, BOB, CAROL, CLERK, JUDGE, REGISTRAR, TAX, LandChain, digest, owners

IDS = ["P0", "P1", "P2", "P3", "C0", "C1", "C2", "C3", "C4", "C5", "C6", "C7"]
USES = ["residential", "commercial"]
CASES = ["case-1", "case-2"]
A, B, C = ALICE, BOB, CAROL
SHARE_SETS = [
    ((A, 1, 1),), ((B, 1, 1),), ((A, 1, 2), (B, 1, 2)), ((A, 1, 3), (C, 2, 3)), ((A, 1, 2), (B, 1, 3), (C, 1, 6)),
    ((A, 1, 2), (B, 1, 3)),            # 5/6: not whole
    ((A, 2, 4), (B, 1, 2)),            # not reduced
    ((A, 1, 2), (A, 1, 2)),            # an owner twice
]
random_shares = st.lists(st.tuples(st.sampled_from([A, B, C]), st.integers(1, 6), st.integers(1, 6)),
                         min_size=1, max_size=3)
mostly = st.sampled_from([True, True, True, False])      # signatures given, mostly
rarely = st.sampled_from([False, False, False, True])
shares = st.one_of(st.sampled_from(SHARE_SETS), random_shares.map(tuple))


@dataclass
class ModelParcel:
    area: int
    use: str
    location: str
    boundary: bytes
    origin: tuple[str, ...] = ()
    active: bool = True
    owners: dict[str, Fraction] | None = None        # None: no title
    title: int = 0
    freezes: set[str] = field(default_factory=set)
    encumbrances: list[int] = field(default_factory=list)


@dataclass
class ModelEncumbrance:
    parcel: str
    holder: str
    blocking: bool
    released: bool = False


def owners_code(pairs) -> str:
    """The code the owners' checks give, in the module's order: duplicate, share, sum (every owner is known)."""
    total = Fraction(0)
    for i, (owner, n, d) in enumerate(pairs):
        if any(o == owner for o, _, _ in pairs[:i]):
            return "land.duplicate_owner"
        if n > d or Fraction(n, d).denominator != d:
            return "land.bad_share"
        total += Fraction(n, d)
    return "ok" if total == 1 else "land.shares_not_whole"


def as_shares(pairs) -> dict[str, Fraction]:
    return {owner: Fraction(n, d) for owner, n, d in pairs}


class LandMachine(RuleBasedStateMachine):
    @initialize(first=st.sampled_from(SHARE_SETS[:5]), second=st.sampled_from(SHARE_SETS[:5]))
    def start(self, first, second):
        """Three titled parcels to begin with: P0 and P1 alike (they may merge), P2 another's."""
        self.chain = LandChain()
        self.parcels: dict[str, ModelParcel] = {}
        self.encumbrances: dict[int, ModelEncumbrance] = {}
        self.titles = 0
        self.registered_area = 0
        for index, (parcel, pairs) in enumerate((("P0", first), ("P1", first), ("P2", second))):
            self.register(parcel, 100_000, "residential", False)
            self.issue_title(index, pairs)       # the index-th active parcel: this one

    # --- rules: each sends one transaction in its own block and checks the predicted code ---

    @rule(parcel=st.sampled_from(IDS), area=st.integers(1_000, 10**7), use=st.sampled_from(USES),
          by_clerk=rarely)
    def register(self, parcel, area, use, by_clerk):
        code = "auth.not_permitted" if by_clerk else "land.parcel_exists" if parcel in self.parcels else "ok"
        args = RegisterParcel(area_dm2=area, boundary=digest(parcel), id=parcel, land_use=use, location="somewhere")
        if self._send(CLERK if by_clerk else REGISTRAR, "register_parcel", args, (), code):
            self.parcels[parcel] = ModelParcel(area, use, args.location, args.boundary)
            self.registered_area += area

    @rule(pick=st.integers(0, 15), pairs=shares)
    def issue_title(self, pick, pairs):
        parcel = self._parcel(pick)
        code = self._active_code(parcel)
        if code == "ok":
            p = self.parcels[parcel]
            code = ("land.title_exists" if p.owners is not None else "land.parcel_frozen" if p.freezes else
                    owners_code(pairs))
        args = IssueTitle(deed=digest("deed"), owners=owners(*pairs), parcel=parcel)
        if self._send(REGISTRAR, "issue_title", args, (), code):
            self._new_title(parcel, as_shares(pairs))

    @rule(pick=st.integers(0, 15), pairs=shares, with_tax=mostly, all_owners=mostly, stale=rarely)
    def transfer(self, pick, pairs, with_tax, all_owners, stale):
        parcel = self._parcel(pick)
        code = self._titled_code(parcel)
        p = self.parcels.get(parcel)
        title = (p.title if p else 0) + (1 if stale else 0) or 1
        subjects = sorted({o for o, _, _ in pairs} | set(p.owners if code == "ok" else ()))
        if code == "ok" and stale:
            code = "land.stale_title"
        signers = [s for s in subjects if all_owners or s not in p.owners] if code == "ok" else subjects
        if code == "ok":
            if not with_tax or len(signers) < len(subjects):
                code = "auth.missing_endorsement"
            elif p.freezes:
                code = "land.parcel_frozen"
            elif any(self.encumbrances[n].blocking for n in p.encumbrances):
                code = "land.encumbered"
            else:
                code = owners_code(pairs)
                if code == "ok" and as_shares(pairs) == p.owners:
                    code = "land.no_change"
        before = self.chain.parcel(parcel) if parcel in self.parcels else None
        args = Transfer(deed=digest("contract"), owners=owners(*pairs), parcel=parcel, title=title)
        if self._send(REGISTRAR, "transfer", args, (*signers, *([TAX] if with_tax else [])), code):
            assert not before.freezes
            assert not any(land.load_encumbrance(self.chain.reader(), n).blocking for n in before.encumbrances)
            self._new_title(parcel, as_shares(pairs))

    @rule(pick=st.integers(0, 15), kind=st.sampled_from(["mortgage", "easement", "lien"]), blocking=st.booleans(),
          holder=st.sampled_from([BANK, CAROL, TAX]), consent=mostly)
    def add_encumbrance(self, pick, kind, blocking, holder, consent):
        parcel = self._parcel(pick)
        code = self._titled_code(parcel)
        p = self.parcels.get(parcel)
        subjects = sorted({holder} | (set(p.owners) if code == "ok" and kind != "lien" else set()))
        signers = [s for s in subjects if consent or s != holder]
        if code == "ok":
            if not consent:
                code = "auth.missing_endorsement"
            elif kind != "lien" and p.freezes:
                code = "land.parcel_frozen"
        args = AddEncumbrance(amount_fen=1, blocking=blocking, document=digest(kind), holder=holder, kind=kind,
                              parcel=parcel)
        if self._send(REGISTRAR, "add_encumbrance", args, tuple(signers), code):
            number = len(self.encumbrances) + 1
            self.encumbrances[number] = ModelEncumbrance(parcel, holder, blocking)
            p.encumbrances.append(number)

    @rule(pick=st.integers(1, 8), consent=mostly)
    def release_encumbrance(self, pick, consent):
        record = self.encumbrances.get(pick)
        code = "land.unknown_encumbrance" if record is None else "ok"
        signers = [record.holder] if record is not None and consent else []
        if code == "ok":
            code = ("auth.missing_endorsement" if not consent else
                    "land.encumbrance_released" if record.released else "ok")
        args = ReleaseEncumbrance(document=digest("release"), encumbrance=pick)
        if self._send(REGISTRAR, "release_encumbrance", args, tuple(signers), code):
            record.released = True
            self.parcels[record.parcel].encumbrances.remove(pick)

    @rule(pick=st.integers(0, 15), case=st.sampled_from(CASES), lift=st.booleans(), by_court=mostly)
    def freeze_or_unfreeze(self, pick, case, lift, by_court):
        parcel = self._parcel(pick)
        code = "auth.not_permitted" if not by_court else self._active_code(parcel)
        if code == "ok":
            frozen = case in self.parcels[parcel].freezes
            code = ("land.not_frozen" if lift and not frozen else
                    "land.already_frozen" if not lift and frozen else "ok")
        args = FreezeParcel(case=case, order=digest(case), parcel=parcel)
        if self._send(JUDGE if by_court else REGISTRAR, "unfreeze" if lift else "freeze", args, (), code):
            (self.parcels[parcel].freezes.discard if lift else self.parcels[parcel].freezes.add)(case)

    @rule(pick=st.integers(0, 15), ids=st.lists(st.sampled_from(IDS), min_size=2, max_size=3),
          weights=st.lists(st.integers(1, 100), min_size=3, max_size=3), delta=st.sampled_from([0, 0, 0, 1, -1]),
          consent=mostly)
    def subdivide(self, pick, ids, weights, delta, consent):
        parcel = self._parcel(pick)
        code = self._titled_code(parcel)
        p = self.parcels.get(parcel)
        total = p.area if p is not None else 1_000
        areas = self._split(total, len(ids), weights, delta)
        subjects = sorted(p.owners) if code == "ok" else []
        signers = subjects if consent else subjects[1:]
        if code == "ok":
            code = ("auth.missing_endorsement" if not consent else self._shape_code([parcel]) or
                    self._ids_code(ids) or ("land.area_not_conserved" if sum(areas) != total else "ok"))
        parts = tuple(ChildParcel(area_dm2=a, boundary=digest(i), id=i, location="part") for i, a in zip(ids, areas))
        args = Subdivide(children=parts, document=digest("plan"), parcel=parcel)
        if self._send(REGISTRAR, "subdivide", args, tuple(signers), code):
            for part in parts:
                self.parcels[part.id] = ModelParcel(part.area_dm2, p.use, part.location, part.boundary, (parcel,))
                self._new_title(part.id, dict(p.owners))
            self._retire(parcel)

    @rule(picks=st.lists(st.integers(0, 15), min_size=2, max_size=3), new_id=st.sampled_from(IDS),
          delta=st.sampled_from([0, 0, 0, 1]), consent=mostly)
    def merge(self, picks, new_id, delta, consent):
        sources = [self._parcel(pick) for pick in picks]
        code = "land.duplicate_parcel" if len(set(sources)) < len(sources) else None
        if code is None:
            code = next((c for c in map(self._titled_code, sources) if c != "ok"), "ok")
        subjects = sorted({o for s in sources for o in self.parcels[s].owners}) if code == "ok" else []
        signers = subjects if consent else subjects[1:]
        area = sum(self.parcels[s].area if s in self.parcels else 1 for s in sources) + delta
        if code == "ok":
            first = self.parcels[sources[0]]
            others = [self.parcels[s] for s in sources[1:]]
            code = ("auth.missing_endorsement" if not consent else self._shape_code(sources) or
                    next((("land.owners_differ" if p.owners != first.owners else "land.land_use_differs")
                          for p in others if p.owners != first.owners or p.use != first.use), None) or
                    ("land.parcel_exists" if new_id in self.parcels else
                     "land.area_not_conserved" if delta else "ok"))
        args = Merge(area_dm2=area, boundary=digest(new_id), document=digest("merger"), id=new_id, location="merged",
                     parcels=tuple(sources))
        if self._send(REGISTRAR, "merge", args, tuple(signers), code):
            first = self.parcels[sources[0]]
            self.parcels[new_id] = ModelParcel(area, first.use, args.location, args.boundary, tuple(sources))
            self._new_title(new_id, dict(first.owners))
            for source in sources:
                self._retire(source)

    @rule(pick=st.integers(0, 15), use=st.sampled_from(USES), location=st.sampled_from(["somewhere", "elsewhere"]),
          resurveyed=st.booleans(), second=st.sampled_from(["tax", "court", "tax and court", "clerk", "none"]))
    def correct(self, pick, use, location, resurveyed, second):
        parcel = self._parcel(pick)
        boundary = digest("resurvey" if resurveyed else parcel)
        endorsers = {"tax": (TAX,), "court": (JUDGE,), "tax and court": (TAX, JUDGE), "clerk": (CLERK,), "none": ()}
        # 2 of {registrar, tax bureau, court}, each a different party: the registrar sends, one more must sign.
        code = "auth.missing_endorsement" if second in ("clerk", "none") else self._active_code(parcel)
        if code == "ok":
            p = self.parcels[parcel]
            code = ("land.parcel_frozen" if p.freezes else
                    "land.no_change" if (use, location, boundary) == (p.use, p.location, p.boundary) else "ok")
        args = CorrectParcel(boundary=boundary, document=digest("judgment"), land_use=use, location=location,
                             parcel=parcel)
        if self._send(REGISTRAR, "correct_parcel", args, endorsers[second], code):
            p = self.parcels[parcel]
            p.use, p.location, p.boundary = use, location, boundary

    # --- the model's helpers ---

    def _parcel(self, pick: int) -> str:
        """Mostly an active parcel, sometimes any known one, sometimes an id that may be unknown."""
        active = sorted(p for p, record in self.parcels.items() if record.active)
        if pick < 10 and active:
            return active[pick % len(active)]
        if pick < 13 and self.parcels:
            return sorted(self.parcels)[pick % len(self.parcels)]
        return IDS[pick % len(IDS)]

    def _send(self, sender, action, args, endorsers, code) -> bool:
        before = self.chain.snapshot_without_nonces()
        receipt = self.chain.run(sender, action, args, tuple(e for e in dict.fromkeys(endorsers) if e != sender))
        assert receipt.code == code, (action, receipt.code, code, receipt.where, receipt.got)
        event(f"{action}: {code}")
        if code != "ok":
            assert self.chain.snapshot_without_nonces() == before and receipt.events == ()
        return code == "ok"

    def _active_code(self, parcel) -> str:
        p = self.parcels.get(parcel)
        return "land.unknown_parcel" if p is None else "land.parcel_retired" if not p.active else "ok"

    def _titled_code(self, parcel) -> str:
        code = self._active_code(parcel)
        return "land.no_title" if code == "ok" and self.parcels[parcel].owners is None else code

    def _shape_code(self, parcels) -> str | None:
        for parcel in parcels:
            p = self.parcels[parcel]
            if p.freezes:
                return "land.parcel_frozen"
            if p.encumbrances:
                return "land.encumbered"
        return None

    def _ids_code(self, ids) -> str | None:
        if len(set(ids)) < len(ids):
            return "land.duplicate_parcel"
        return "land.parcel_exists" if any(i in self.parcels for i in ids) else None

    @staticmethod
    def _split(total, parts, weights, delta) -> list[int]:
        spare, weight = max(total - parts, 0), sum(weights[:parts])
        areas = [1 + spare * w // weight for w in weights[:parts - 1]]
        last = total - sum(areas)
        last = last + delta if last + delta >= 1 else max(last, 1) + 1
        return [*areas, last]

    def _new_title(self, parcel, shares):
        self.titles += 1
        self.parcels[parcel].owners, self.parcels[parcel].title = shares, self.titles

    def _retire(self, parcel):
        self.parcels[parcel].active = False

    # --- invariants ---

    @invariant()
    def chain_agrees_with_the_model(self):
        for parcel_id, expected in self.parcels.items():
            record = self.chain.parcel(parcel_id)
            assert (record.status == land.ACTIVE) == expected.active
            assert (record.area_dm2, record.land_use, record.location, record.boundary, record.origin) == \
                (expected.area, expected.use, expected.location, expected.boundary, expected.origin)
            assert {f.case for f in record.freezes} == expected.freezes
            assert list(record.encumbrances) == expected.encumbrances
            title = self.chain.title(parcel_id)
            if expected.active and expected.owners is not None:
                assert {s.owner: Fraction(s.numerator, s.denominator) for s in title.owners} == expected.owners
            else:
                assert title is None

    @invariant()
    def one_current_title_per_parcel_and_shares_sum_to_one(self):
        current: dict[str, list[int]] = {}
        for key, _ in sorted(self.chain.state.items()):
            if not key.startswith(land.TITLE_PREFIX):
                continue
            title = land.load_title(self.chain.reader(), int(key.removeprefix(land.TITLE_PREFIX)))
            assert [s.owner for s in title.owners] == sorted({s.owner for s in title.owners})
            assert all(0 < s.numerator <= s.denominator and Fraction(s.numerator, s.denominator).denominator ==
                       s.denominator for s in title.owners)
            assert sum(Fraction(s.numerator, s.denominator) for s in title.owners) == 1
            if title.status == land.CURRENT:
                current.setdefault(title.parcel, []).append(title.number)
        for parcel_id in self.parcels:
            record = self.chain.parcel(parcel_id)
            titled = record.status == land.ACTIVE and record.title
            assert current.get(parcel_id, []) == ([record.title] if titled else [])

    @invariant()
    def area_is_conserved(self):
        records = {p: self.chain.parcel(p) for p in self.parcels}
        assert sum(r.area_dm2 for r in records.values() if r.status == land.ACTIVE) == self.registered_area
        for record in records.values():
            if len(record.origin) == 1:
                parent = records[record.origin[0]]
                assert sum(records[s].area_dm2 for s in parent.successors) == parent.area_dm2
            elif record.origin:
                assert sum(records[o].area_dm2 for o in record.origin) == record.area_dm2

    def teardown(self):
        event(f"parcels: {len(self.parcels)}, titles: {self.titles}")


LandMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=50, deadline=None)
test_land_invariants = LandMachine.TestCase
