"""The books always balance: random sequences of funds actions (many refused) over the in-memory chain.

After every step: no allocation exceeds its appropriation, no commitment its allocation, no payment what was
committed; every payment traces to a commitment, an allocation and an appropriation of the same programme and
year; every total equals the sum of the records below it and the sum of the movements the events report;
and a refused transaction changed nothing but the sender's nonce.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import msgspec
from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from civichain.codec import decode
from civichain.modules.funds import (
    AdjustAllocation,
    AdjustAppropriation,
    AdjustCommitment,
    Allocate,
    CancelCommitment,
    CloseYear,
    CreateProgramme,
    OpenYear,
    ReverseDisbursement,
)
from civichain.modules.funds_records import (
    CANCELLED,
    Allocation,
    Appropriation,
    Commitment,
    Disbursement,
    FiscalYear,
    Programme,
    invoice_key,
    payment_key,
    year_programmes_prefix,
)
from tests.modules.fundsupport import FundsChain, digest

YEARS = (2026, 2027)
THRESHOLD = 1_000
DEPARTMENTS = ("land-bureau", "tax-bureau")
ENDORSEMENTS = st.sampled_from(["none", "auditor", "civil", "officer"])
RARELY = st.sampled_from([False] * 9 + [True])
# The outcomes that come after every other check: an amount within bounds gives "ok", one beyond gives the
# limit's code (checked on allocate, commit and disburse, against the records read before the transaction).
WITHIN_BOUNDS = ("ok", "funds.exceeds_appropriation", "funds.exceeds_allocation", "funds.exceeds_commitment")
# Each step draws one action; the ones that move money come first and more often (a year is closed rarely,
# since it refuses everything afterwards).
ACTIONS = ("disburse", "commit", "allocate", "disburse", "commit", "allocate", "reverse_disbursement",
           "adjust_commitment", "cancel_commitment", "adjust_allocation", "appropriate", "adjust_appropriation",
           "create_programme", "close_year")
KINDS = {b"funds/year/": FiscalYear, b"funds/appropriation/": Appropriation, b"funds/programme/": Programme,
         b"funds/allocation/": Allocation, b"funds/commitment/": Commitment, b"funds/disbursement/": Disbursement}


class Books:
    """Every funds record in the state, by kind and id."""

    def __init__(self, state: dict[bytes, bytes]) -> None:
        self.records: dict[type, dict] = {kind: {} for kind in KINDS.values()}
        for key, value in state.items():
            for prefix, kind in KINDS.items():
                if key.startswith(prefix):
                    record = decode(value, kind)
                    self.records[kind][getattr(record, "year" if kind is FiscalYear else "id")] = record

    def of(self, kind: type) -> dict:
        return self.records[kind]


class Movements:
    """The amounts the events of successful transactions report, replayed on their own."""

    def __init__(self) -> None:
        self.appropriated: dict[str, int] = defaultdict(int)
        self.allocated: dict[str, int] = defaultdict(int)
        self.committed: dict[str, int] = defaultdict(int)
        self.paid: dict[str, int] = defaultdict(int)

    def replay(self, events) -> None:
        for event in events:
            a = {attr.key: attr.value for attr in event.attributes}
            change = int(a["amount_fen"]) - int(a.get("from_fen", "0")) if "amount_fen" in a else 0
            if event.type in ("appropriated", "appropriation_adjusted"):
                self.appropriated[a["appropriation"]] += change
            elif event.type in ("allocated", "allocation_adjusted"):
                self.allocated[a["allocation"]] += change
            elif event.type in ("committed", "commitment_adjusted"):
                self.committed[a["commitment"]] += change
            elif event.type == "commitment_cancelled":
                self.committed[a["commitment"]] -= int(a["released_fen"])
            elif event.type == "disbursed":
                self.paid[a["disbursement"]] += int(a["amount_fen"])
            elif event.type == "disbursement_reversed":
                self.paid[a["disbursement"]] -= int(a["amount_fen"])
                self.committed[a["commitment"]] -= int(a["released_fen"])


class FundsMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.chain = FundsChain()
        self.movements = Movements()
        self.ids: dict[str, list[str]] = defaultdict(list)
        self.invoices: list[bytes] = []
        self.counter = 0

    # --- helpers ---

    def run(self, signer, action: str, args, endorsement: str = "none") -> str:
        """Run one transaction; return its code, having checked that a refusal changed nothing."""
        endorsers = {"none": (), "auditor": (self.chain.auditor,), "civil": (self.chain.civil,),
                     "officer": (self.chain.officer,)}[endorsement]
        before = self.chain.snapshot_without_nonces()
        receipt = self.chain.do(signer, action, args, *endorsers)
        if receipt.code == "ok":
            self.movements.replay(receipt.events)
        else:
            assert receipt.code.startswith(("funds.", "auth.")), receipt.code
            assert self.chain.snapshot_without_nonces() == before, f"{action} refused with {receipt.code} changed state"
        return receipt.code

    def new_id(self, kind: str, data) -> str:
        if self.ids[kind] and data.draw(RARELY, label=f"a {kind} id used before"):
            return data.draw(st.sampled_from(self.ids[kind]))
        self.counter += 1
        return f"{kind[0]}{self.counter}"

    def pick(self, kind: str, data) -> str:
        return data.draw(st.sampled_from(self.ids[kind]))

    def department_signer(self, department: str, data):
        """The department's admin; now and then another department's."""
        if data.draw(RARELY, label="another department signs"):
            department = next(d for d in DEPARTMENTS if d != department)
        return self.chain.admins[department]

    # --- the set-up, then one random action per step ---

    @initialize()
    def open_years(self):
        """Both years open, each with an appropriation and a programme of each department."""
        for year in YEARS:
            assert self.run(self.chain.finance, "open_year",
                            OpenYear(approval_threshold_fen=THRESHOLD, year=year)) == "ok"
            ref = f"budget{year}"
            assert self.run(self.chain.finance, "appropriate", FundsChain.appropriate_args(ref, 4 * THRESHOLD, year),
                            "auditor") == "ok"
            self.ids["appropriation"].append(ref)
            for department in DEPARTMENTS:
                ref = f"{department}{year}"
                assert self.run(self.chain.finance, "create_programme",
                                CreateProgramme(department=department, programme=ref, title="Works", year=year)) == "ok"
                self.ids["programme"].append(ref)

    @rule(data=st.data(), action=st.sampled_from(ACTIONS))
    def step(self, data, action):
        # One rule that draws the action, rather than a rule per action: hypothesis enables a random subset of
        # a machine's rules in each example, which starved the actions that need several others before them.
        getattr(self, action)(data)

    def disburse(self, data):
        if not self.ids["commitment"]:
            return
        commitment = self.chain.commitment(self.pick("commitment", data))
        ref = self.new_id("disbursement", data)
        args = FundsChain.disburse_args(ref, data.draw(st.integers(1, 400), label="amount"), commitment=commitment.id)
        if self.invoices and data.draw(RARELY, label="an invoice used before"):
            args = msgspec.structs.replace(args, invoice=data.draw(st.sampled_from(self.invoices)))
        signer = self.department_signer(self.chain.programme(commitment.programme).department, data)
        code = self.run(signer, "disburse", args, data.draw(ENDORSEMENTS, label="endorsement"))
        unpaid = commitment.amount_fen - commitment.disbursed_fen
        assert (args.amount_fen > unpaid) == (code == "funds.exceeds_commitment") or code not in WITHIN_BOUNDS
        if code == "ok":
            self.ids["disbursement"].append(ref)
            self.invoices.append(args.invoice)

    def reverse_disbursement(self, data):
        if not self.ids["disbursement"]:
            return
        disbursement = self.chain.disbursement(self.pick("disbursement", data))
        self.run(self.department_signer(self.chain.programme(disbursement.programme).department, data),
                 "reverse_disbursement", ReverseDisbursement(disbursement=disbursement.id, reason="returned"))

    def commit(self, data):
        if not self.ids["allocation"]:
            return
        allocation = self.chain.allocation(self.pick("allocation", data))
        ref = self.new_id("commitment", data)
        args = FundsChain.commit_args(ref, data.draw(st.integers(1, 600), label="amount"), allocation=allocation.id)
        signer = self.department_signer(allocation.department, data)
        code = self.run(signer, "commit", args, data.draw(ENDORSEMENTS, label="endorsement"))
        uncommitted = allocation.amount_fen - allocation.committed_fen
        assert (args.amount_fen > uncommitted) == (code == "funds.exceeds_allocation") or code not in WITHIN_BOUNDS
        if code == "ok":
            self.ids["commitment"].append(ref)

    def adjust_commitment(self, data):
        if not self.ids["commitment"]:
            return
        commitment = self.chain.commitment(self.pick("commitment", data))
        args = AdjustCommitment(amendment=digest("amendment"), amount_fen=data.draw(st.integers(0, 1_000)),
                                commitment=commitment.id, reason="amendment")
        self.run(self.department_signer(self.chain.programme(commitment.programme).department, data),
                 "adjust_commitment", args, data.draw(ENDORSEMENTS, label="endorsement"))

    def cancel_commitment(self, data):
        if not self.ids["commitment"]:
            return
        commitment = self.chain.commitment(self.pick("commitment", data))
        self.run(self.department_signer(self.chain.programme(commitment.programme).department, data),
                 "cancel_commitment", CancelCommitment(commitment=commitment.id, reason="cancelled"))

    def allocate(self, data):
        ref = self.new_id("allocation", data)
        programme = self.chain.programme(self.pick("programme", data))
        same_year = [a for a in self.ids["appropriation"] if self.chain.appropriation(a).year == programme.year]
        if not same_year or data.draw(RARELY, label="another year's appropriation"):
            appropriation = self.pick("appropriation", data)
        else:
            appropriation = data.draw(st.sampled_from(same_year))
        args = Allocate(allocation=ref, amount_fen=data.draw(st.integers(1, 1_500), label="amount"),
                        appropriation=appropriation, programme=programme.id)
        source = self.chain.appropriation(appropriation)
        code = self.run(self.chain.finance, "allocate", args, data.draw(ENDORSEMENTS, label="endorsement"))
        unallocated = source.amount_fen - source.allocated_fen
        assert (args.amount_fen > unallocated) == (code == "funds.exceeds_appropriation") or code not in WITHIN_BOUNDS
        if code == "ok":
            self.ids["allocation"].append(ref)

    def adjust_allocation(self, data):
        if not self.ids["allocation"]:
            return
        args = AdjustAllocation(allocation=self.pick("allocation", data), amount_fen=data.draw(st.integers(0, 3_000)),
                                reason="adjustment")
        self.run(self.chain.finance, "adjust_allocation", args, data.draw(ENDORSEMENTS, label="endorsement"))

    def appropriate(self, data):
        ref = self.new_id("appropriation", data)
        args = FundsChain.appropriate_args(ref, data.draw(st.integers(1, 5_000), label="amount"),
                                           data.draw(st.sampled_from(YEARS), label="year"))
        if self.run(self.chain.finance, "appropriate", args, data.draw(ENDORSEMENTS, label="endorsement")) == "ok":
            self.ids["appropriation"].append(ref)

    def adjust_appropriation(self, data):
        args = AdjustAppropriation(amount_fen=data.draw(st.integers(0, 5_000)),
                                   appropriation=self.pick("appropriation", data), basis=digest("adjustment"),
                                   reason="adjustment")
        self.run(self.chain.finance, "adjust_appropriation", args, data.draw(ENDORSEMENTS, label="endorsement"))

    def create_programme(self, data):
        if not data.draw(RARELY, label="create a programme"):     # too many spread the money too thin
            return
        ref = self.new_id("programme", data)
        args = CreateProgramme(department=data.draw(st.sampled_from(DEPARTMENTS)), programme=ref, title="Works",
                               year=data.draw(st.sampled_from(YEARS), label="year"))
        if self.run(self.chain.finance, "create_programme", args) == "ok":
            self.ids["programme"].append(ref)

    def close_year(self, data):
        if not data.draw(RARELY, label="close a year"):
            return
        self.run(self.chain.finance, "close_year", CloseYear(year=data.draw(st.sampled_from(YEARS), label="year")))

    # --- invariants, after every step ---

    @invariant()
    def the_books_balance(self):
        books = Books(self.chain.state)
        self.no_level_exceeds_the_one_above_and_totals_are_sums(books)
        self.every_payment_traces_back_to_an_appropriation(books)
        self.every_total_equals_the_movements_its_events_report(books)

    @staticmethod
    def no_level_exceeds_the_one_above_and_totals_are_sums(books: Books) -> None:
        appropriations, programmes = books.of(Appropriation).values(), books.of(Programme).values()
        allocations, commitments = books.of(Allocation).values(), books.of(Commitment).values()
        payments = [d for d in books.of(Disbursement).values() if not d.reversed_at]
        allocated, committed, paid = sums(allocations), sums(commitments), sums(payments)
        for a in appropriations:
            assert a.allocated_fen == allocated["appropriation"].get(a.id, 0)
            assert 0 <= a.allocated_fen <= a.amount_fen
        for x in allocations:
            assert x.committed_fen == committed["allocation"].get(x.id, 0)
            assert x.spent_fen == paid["allocation"].get(x.id, 0)
            assert 0 <= x.spent_fen <= x.committed_fen <= x.amount_fen
        for c in commitments:
            assert c.disbursed_fen == paid["commitment"].get(c.id, 0)
            assert 0 <= c.disbursed_fen <= c.amount_fen
            assert c.status != CANCELLED or c.amount_fen == c.disbursed_fen
        for p in programmes:
            assert p.budget_fen == allocated["programme"].get(p.id, 0)
            assert p.committed_fen == committed["programme"].get(p.id, 0)
            assert p.spent_fen == paid["programme"].get(p.id, 0)
            assert 0 <= p.spent_fen <= p.committed_fen <= p.budget_fen
        appropriated = sums(appropriations)
        for y in books.of(FiscalYear).values():
            assert y.appropriated_fen == appropriated["year"].get(y.year, 0)
            assert y.allocated_fen == allocated["year"].get(y.year, 0)
            assert y.committed_fen == committed["year"].get(y.year, 0)
            assert y.spent_fen == paid["year"].get(y.year, 0)
            assert y.status == "open" or y.committed_fen == y.spent_fen

    def every_payment_traces_back_to_an_appropriation(self, books: Books) -> None:
        appropriations, programmes = books.of(Appropriation), books.of(Programme)
        allocations, commitments = books.of(Allocation), books.of(Commitment)
        state = self.chain.state
        for d in books.of(Disbursement).values():
            c = commitments[d.commitment]
            assert (c.allocation, c.appropriation, c.programme, c.year, c.payee, c.contract) == \
                (d.allocation, d.appropriation, d.programme, d.year, d.payee, d.contract)
            x = allocations[c.allocation]
            assert (x.appropriation, x.programme, x.year) == (c.appropriation, c.programme, c.year)
            assert appropriations[x.appropriation].year == programmes[x.programme].year == x.year
            assert x.department == programmes[x.programme].department
            assert state[payment_key(d.programme, d.seq)] == d.id.encode()
            # An invoice marks its payment while it stands; once reversed, it may pay another one.
            paid_by = state.get(invoice_key(d.invoice))
            assert paid_by != d.id.encode() if d.reversed_at else paid_by == d.id.encode()
        marked = [k for k in state if k.startswith(b"funds/invoice/")]
        assert len(marked) == sum(1 for d in books.of(Disbursement).values() if not d.reversed_at)
        payments = Counter(d.programme for d in books.of(Disbursement).values())
        for p in programmes.values():
            assert payments[p.id] == p.payments
            assert state[year_programmes_prefix(p.year) + p.id.encode()] == p.department.encode()

    def every_total_equals_the_movements_its_events_report(self, books: Books) -> None:
        moved = self.movements
        assert {k: a.amount_fen for k, a in books.of(Appropriation).items()} == dict(moved.appropriated)
        assert {k: x.amount_fen for k, x in books.of(Allocation).items()} == dict(moved.allocated)
        assert {k: c.amount_fen for k, c in books.of(Commitment).items()} == dict(moved.committed)
        paid = {k: 0 if d.reversed_at else d.amount_fen for k, d in books.of(Disbursement).items()}
        assert paid == dict(moved.paid)


def sums(records) -> dict[str, dict]:
    """The sums of `amount_fen` of `records`, grouped by each field that names a record above them."""
    found: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for record in records:
        for by in ("year", "appropriation", "programme", "allocation", "commitment"):
            if hasattr(record, by):
                found[by][getattr(record, by)] += record.amount_fen
    return found


FundsMachine.TestCase.settings = settings(max_examples=100, stateful_step_count=60, deadline=None)
test_the_books_always_balance = FundsMachine.TestCase
