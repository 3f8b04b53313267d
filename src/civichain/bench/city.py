"""The records behind `bench/block.py`: a city's land registry and budget, as signed transactions.

`City` names the departments and accounts (in the genesis), writes the setup the measured blocks build on
(parcels with titles, mortgages to be released, a fiscal year with appropriations, programmes, allocations
and contracts), then the measured blocks themselves: each a shuffled mix of land transfers, mortgages,
mortgage releases, new contracts and payments, in the proportions of `MIX`, signed by whom each action's
policy asks (the old and new owners, a registrar and the tax bureau for a transfer; the owners and the bank
for a mortgage; the bank for a release; a department's finance officer for contracts and payments).

Everything follows from the seed. Every transaction is meant to succeed: parcels, contracts and invoices of
one block are used by no other block, and amounts stay within what is allocated and committed.
"""

from __future__ import annotations

import hashlib
import random
from typing import NamedTuple

import msgspec

from civichain.client.tx import Signer, build_body, sign
from civichain.crypto import ED25519_SHA256
from civichain.modules.funds import Allocate, Appropriate, Commit, CreateProgramme, Disburse, OpenYear
from civichain.modules.land import (
    AddEncumbrance, IssueTitle, OwnerShare, ReleaseEncumbrance, RegisterParcel, Transfer, load_parcel,
)
from civichain.modules.base import StateView
from civichain.types import AccountGenesis, AppGenesis, OrganisationGenesis

CHAIN_ID = "bench-city"
EXPIRES_AT = 10_000          # every bench transaction stays valid for the whole run
# Transactions per 1,000 of a measured block; payments take what rounding leaves.
MIX = (("land.transfer", 300), ("land.add_encumbrance", 125), ("land.release_encumbrance", 125),
       ("funds.commit", 100), ("funds.disburse", 350))
PAYMENTS_PER_CONTRACT = 10   # a setup contract is paid this many times in its measured block
ORGANISATIONS = (("land-bureau", "自然资源局", "Land and Resources Bureau"), ("finance-bureau", "财政局", "Finance Bureau"),
                 ("tax-bureau", "税务局", "Tax Bureau"), ("civil-affairs", "民政局", "Civil Affairs Bureau"),
                 ("education-bureau", "教育局", "Education Bureau"), ("health-commission", "卫生健康委员会", "Health Commission"),
                 ("housing-bureau", "住房和城乡建设局", "Housing and Urban-Rural Development Bureau"))
SPENDING_DEPARTMENTS = ("education-bureau", "health-commission", "housing-bureau", "civil-affairs")
DISTRICTS = (("HD", "海淀区", "Haidian"), ("CY", "朝阳区", "Chaoyang"), ("XC", "西城区", "Xicheng"), ("FT", "丰台区", "Fengtai"))
STREETS = (("学院路", "Xueyuan Road"), ("建设街", "Jianshe Street"), ("人民大道", "Renmin Avenue"), ("长安街", "Chang'an Avenue"))
REGISTRARS, RESIDENTS, PAYEES, PROGRAMMES = 8, 1_000, 20, 50
BANKS = ("finance-bureau/bank-icbc", "finance-bureau/bank-ccb", "finance-bureau/bank-boc")
BUDGET_OFFICER, TAX_CLERK, TAX_ADMIN = "finance-bureau/budget-officer", "tax-bureau/clerk", "tax-bureau/admin"
YEAR, THRESHOLD_FEN = 2026, 2_000_000_000      # movements above 20 million yuan need a second department
CONTRACT_FEN = 10_000_000                      # a setup contract: 100,000 yuan, paid in ten instalments
NEW_CONTRACT_FEN = 50_000_000                  # the largest contract signed in a measured block


class Step(NamedTuple):
    """One transaction to sign: who sends it, the action, its arguments, who endorses it."""

    sender: str
    module: str
    action: str
    args: msgspec.Struct
    endorsers: tuple[str, ...] = ()


class BlockPlan(NamedTuple):
    """A measured block: its signed transactions, how many of each action, and how many signatures they carry."""

    txs: list[bytes]
    mix: dict[str, int]
    signatures: int


class City:
    """The accounts, setup and measured blocks of one bench run of `blocks` blocks of `block_txs` transactions."""

    def __init__(self, *, blocks: int, block_txs: int, seed: int = 11) -> None:
        self.blocks, self.block_txs = blocks, block_txs
        self.rng = random.Random(f"bench city {seed}")
        self.counts = _mix_counts(block_txs)
        self.registrars = [f"land-bureau/registrar-{i}" for i in range(REGISTRARS)]
        self.residents = [f"civil-affairs/resident-{i:04d}" for i in range(RESIDENTS)]
        self.payees = [f"finance-bureau/payee-{i:02d}" for i in range(PAYEES)]
        self.officers = {d: f"{d}/finance-officer" for d in SPENDING_DEPARTMENTS}
        self.programmes = [(f"p{YEAR}-{i:03d}", SPENDING_DEPARTMENTS[i % len(SPENDING_DEPARTMENTS)])
                           for i in range(PROGRAMMES)]
        self.signers: dict[str, Signer] = {}
        self.nonces: dict[str, int] = {}
        self.owners: dict[str, tuple[OwnerShare, ...]] = {}     # parcel -> owners of its current title
        self.mortgagee: dict[str, str] = {}                      # parcel mortgaged at setup -> the bank
        self.parcels = [self._parcel_sets(b) for b in range(blocks)]
        self.contracts = [[(f"{p}-b{b}-s{j}", p, d) for j, (p, d) in enumerate(self._spread(self._setup_contracts()))]
                          for b in range(blocks)]                 # (contract, programme, department) paid in block b

    # --- genesis and setup -----------------------------------------------------------------------------------

    def genesis(self) -> AppGenesis:
        """The departments and every account the bench signs with, with the roles the policies ask for."""
        roles = {BUDGET_OFFICER: ("budget_officer",), TAX_ADMIN: ("admin",),
                 **{r: ("registrar",) for r in self.registrars},
                 **{o: ("finance_officer",) for o in self.officers.values()}}
        accounts = [*roles, TAX_CLERK, *BANKS, *self.payees, *self.residents]
        return AppGenesis(
            suite=ED25519_SHA256.name, organisations=tuple(OrganisationGenesis(*o) for o in ORGANISATIONS),
            accounts=tuple(AccountGenesis(a, a.split("/")[0], self._signer(a).public_key.hex(), roles.get(a, ()))
                           for a in accounts))

    def setup(self) -> list[bytes]:
        """The transactions the measured blocks build on, in an order that satisfies every dependency."""
        steps = self._budget()
        for sets in self.parcels:
            for parcel in [*sets["transfer"], *sets["mortgage"], *sets["release"]]:
                steps.extend(self._register(parcel))
        for sets in self.parcels:
            for parcel in sets["release"]:
                bank = self.mortgagee[parcel] = self.rng.choice(BANKS)
                steps.append(self._mortgage(parcel, bank))
        for b in range(self.blocks):
            for contract, programme, department in self.contracts[b]:
                steps.append(Step(self.officers[department], "funds", "commit", Commit(
                    allocation=f"{programme}-a", amount_fen=CONTRACT_FEN, commitment=contract,
                    contract=self._digest("contract", contract), payee=self.rng.choice(self.payees))))
        return [self._sign(step) for step in steps]

    def block(self, b: int, state: StateView) -> BlockPlan:
        """Measured block `b`, signed, over the state the setup left (`state` gives title and mortgage numbers)."""
        sets = self.parcels[b]
        steps = [self._transfer(parcel, load_parcel(state, parcel).title) for parcel in sets["transfer"]]
        steps += [self._mortgage(parcel, self.rng.choice(BANKS)) for parcel in sets["mortgage"]]
        steps += [Step(self.rng.choice(self.registrars), "land", "release_encumbrance", ReleaseEncumbrance(
            document=self._digest("release", parcel), encumbrance=load_parcel(state, parcel).encumbrances[0]),
            (self.mortgagee[parcel],)) for parcel in sets["release"]]
        for j, (programme, department) in enumerate(self._spread(self.counts["funds.commit"])):
            commitment = f"{programme}-b{b}-n{j}"
            steps.append(Step(self.officers[department], "funds", "commit", Commit(
                allocation=f"{programme}-a", amount_fen=self.rng.randint(1, 5) * NEW_CONTRACT_FEN // 5,
                commitment=commitment, contract=self._digest("contract", commitment),
                payee=self.rng.choice(self.payees))))
        contracts = self.contracts[b]
        for n in range(self.counts["funds.disburse"]):
            contract, _, department = contracts[n % len(contracts)]
            payment = f"{contract}-{n // len(contracts):03d}"
            steps.append(Step(self.officers[department], "funds", "disburse", Disburse(
                amount_fen=self.rng.randint(1, 10) * CONTRACT_FEN // PAYMENTS_PER_CONTRACT // 10,
                commitment=contract, contract=self._digest("contract", contract), disbursement=payment,
                invoice=self._digest("invoice", payment))))
        self.rng.shuffle(steps)       # a mempool delivers the kinds mixed; each sender's nonces follow block order
        return BlockPlan([self._sign(step) for step in steps], dict(self.counts),
                         sum(1 + len(step.endorsers) for step in steps))

    # --- the records -----------------------------------------------------------------------------------------

    def _parcel_sets(self, b: int) -> dict[str, list[str]]:
        """The parcels block `b` transfers, mortgages and releases: disjoint from every other block's."""
        sets, first = {}, 0
        for kind, action in (("transfer", "land.transfer"), ("mortgage", "land.add_encumbrance"),
                             ("release", "land.release_encumbrance")):
            count = self.counts[action]
            sets[kind] = [f"{DISTRICTS[(first + i) % len(DISTRICTS)][0]}-{b:03d}-{first + i:05d}" for i in range(count)]
            first += count
        return sets

    def _register(self, parcel: str) -> list[Step]:
        _, district_zh, district_en = next(d for d in DISTRICTS if d[0] == parcel[:2])
        (street_zh, street_en), number = self.rng.choice(STREETS), self.rng.randint(1, 300)
        owners = self.owners[parcel] = self._owners(frozenset())
        registrar = self.rng.choice(self.registrars)
        return [Step(registrar, "land", "register_parcel", RegisterParcel(
                    area_dm2=self.rng.randint(4_000, 40_000) * 100, boundary=self._digest("survey", parcel), id=parcel,
                    land_use="residential", location=f"{district_zh}{street_zh}{number}号 / No. {number} {street_en}, "
                                                     f"{district_en} District")),
                Step(registrar, "land", "issue_title", IssueTitle(deed=self._digest("deed", parcel, 0), owners=owners,
                                                                  parcel=parcel))]

    def _mortgage(self, parcel: str, bank: str) -> Step:
        return Step(self.rng.choice(self.registrars), "land", "add_encumbrance", AddEncumbrance(
            amount_fen=self.rng.randint(50, 500) * 1_000_000, blocking=True, document=self._digest("mortgage", parcel),
            holder=bank, kind="mortgage", parcel=parcel), (*(o.owner for o in self.owners[parcel]), bank))

    def _transfer(self, parcel: str, title: int) -> Step:
        old = self.owners[parcel]
        new = self._owners(frozenset(o.owner for o in old))
        parties = {o.owner for o in old} | {o.owner for o in new} | {TAX_CLERK}
        return Step(self.rng.choice(self.registrars), "land", "transfer", Transfer(
            deed=self._digest("deed", parcel, 1), owners=new, parcel=parcel, title=title), tuple(parties))

    def _owners(self, exclude: frozenset[str]) -> tuple[OwnerShare, ...]:
        """One owner with the whole share (7 parcels in 10), or two halves; none of `exclude`."""
        pool = [r for r in self.rng.sample(self.residents, 4) if r not in exclude]
        if self.rng.random() < 0.7:
            return (OwnerShare(denominator=1, numerator=1, owner=pool[0]),)
        return tuple(OwnerShare(denominator=2, numerator=1, owner=o) for o in sorted(pool[:2]))

    def _budget(self) -> list[Step]:
        """Fiscal year, one appropriation per spending department, a programme and its allocation each."""
        contracts = self.blocks * (self._setup_contracts() + self.counts["funds.commit"])
        allocation = (contracts // len(self.programmes) + 2) * NEW_CONTRACT_FEN
        steps = [Step(BUDGET_OFFICER, "funds", "open_year", OpenYear(approval_threshold_fen=THRESHOLD_FEN, year=YEAR))]
        for department in SPENDING_DEPARTMENTS:
            amount = allocation * sum(1 for _, d in self.programmes if d == department)
            steps.append(Step(BUDGET_OFFICER, "funds", "appropriate", Appropriate(
                amount_fen=amount, appropriation=f"{department}-{YEAR}", basis=self._digest("budget", department),
                title=f"{YEAR}年{department}预算 / {YEAR} budget of {department}", year=YEAR),
                _second_department(amount)))
        for programme, department in self.programmes:
            steps.append(Step(BUDGET_OFFICER, "funds", "create_programme", CreateProgramme(
                department=department, programme=programme, title=f"项目 Programme {programme}", year=YEAR)))
            steps.append(Step(BUDGET_OFFICER, "funds", "allocate", Allocate(
                allocation=f"{programme}-a", amount_fen=allocation, appropriation=f"{department}-{YEAR}",
                programme=programme), _second_department(allocation)))
        return steps

    def _setup_contracts(self) -> int:
        return -(-self.counts["funds.disburse"] // PAYMENTS_PER_CONTRACT)

    def _spread(self, count: int) -> list[tuple[str, str]]:
        """`count` (programme, department) pairs, round robin over the programmes."""
        return [self.programmes[i % len(self.programmes)] for i in range(count)]

    # --- signing ---------------------------------------------------------------------------------------------

    def _signer(self, account: str) -> Signer:
        if account not in self.signers:
            self.signers[account] = Signer(account, hashlib.sha256(f"bench city {account}".encode()).digest(),
                                           ED25519_SHA256)
        return self.signers[account]

    def _sign(self, step: Step) -> bytes:
        nonce = self.nonces.get(step.sender, 0)
        self.nonces[step.sender] = nonce + 1
        body = build_body(CHAIN_ID, step.sender, nonce, EXPIRES_AT, step.module, step.action, step.args)
        return sign(body, self._signer(step.sender), [self._signer(e) for e in sorted(set(step.endorsers))])

    def _digest(self, *parts: object) -> bytes:
        return hashlib.sha256(" ".join(map(str, ("bench city", *parts))).encode()).digest()


def _mix_counts(block_txs: int) -> dict[str, int]:
    counts = {action: block_txs * share // 1000 for action, share in MIX}
    counts["funds.disburse"] += block_txs - sum(counts.values())
    return counts


def _second_department(amount: int) -> tuple[str, ...]:
    """Above the year's threshold an admin of a department other than the finance bureau endorses."""
    return (TAX_ADMIN,) if amount > THRESHOLD_FEN else ()
