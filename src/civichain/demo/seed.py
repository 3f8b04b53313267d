"""`civichain demo seed`: fill a running network with a realistic, reproducible set of public records.

What a newcomer sees after `scripts/up`: the departments of a city keeping land titles, public funds,
identities and notarized documents together. Everything is derived from the chain id and a seed, so the
same network folder and seed give the same records. Bilingual (zh-CN and English) wherever a citizen reads.

The records go in as phases: each phase's transactions are pre-signed (the demo accounts' keys are derived
from the seed, never stored), sent to the nodes through CometBFT's RPC in batches, and waited for; a phase
starts only once the one before it is committed, because it builds on it (a title needs its parcel, a
transfer its title). Each phase reports how many transactions succeeded and the codes of any that failed.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Callable

import httpx
import msgspec

from civichain.bench.load import Observation, submit, tx_hash, wait_all_committed, watch_commits
from civichain.client.sample import load_signer
from civichain.client.tx import Signer, build_body, sign
from civichain.crypto import ED25519_SHA256
from civichain.modules.did import sign_operation
from civichain.modules.funds import Allocate, Appropriate, Commit, CreateProgramme, Disburse, OpenYear
from civichain.modules.identity import CreateDid
from civichain.modules.land import AddEncumbrance, FreezeParcel, IssueTitle, OwnerShare, RegisterParcel, Transfer
from civichain.modules.notary import Anchor
from civichain.modules.registry import AddAccount
from civichain.node.network import Network

Report = Callable[[str], None]

DISTRICTS = [("东城区", "Dongcheng"), ("西城区", "Xicheng"), ("朝阳区", "Chaoyang"), ("海淀区", "Haidian"),
             ("丰台区", "Fengtai"), ("石景山区", "Shijingshan"), ("通州区", "Tongzhou"), ("昌平区", "Changping")]
STREETS = [("和平路", "Heping Road"), ("建设街", "Jianshe Street"), ("人民大道", "Renmin Avenue"),
           ("长安街", "Chang'an Avenue"), ("学院路", "Xueyuan Road"), ("新华街", "Xinhua Street")]
LAND_USES = ["residential"] * 6 + ["commercial", "garden", "public_service", "industrial_storage"]
DOCUMENTS = [("出生医学证明", "Birth certificate"), ("婚姻登记证明", "Marriage registration record"),
             ("不动产权证书", "Real estate title certificate"), ("营业执照", "Business licence"),
             ("学历证明", "Diploma"), ("公证书（委托）", "Notarial certificate (power of attorney)"),
             ("政府采购合同", "Public procurement contract"), ("审计报告", "Audit report")]
BANKS = ["icbc", "ccb", "boc"]
PAYEES = 20            # registered suppliers that contracts pay
YEAR = 2026
THRESHOLD_FEN = 2_000_000_000      # 20 million yuan: larger amounts need a second department's endorsement
FUND_AREAS = [("education", "教育", "Education"), ("health", "卫生健康", "Health"), ("housing", "住房保障", "Housing"),
              ("transport", "交通", "Transport"), ("civil", "民生服务", "Civil services")]
PROGRAMMES = ["校舍改造 School renovation", "社区卫生站 Community clinics", "保障性住房 Affordable housing",
              "道路养护 Road maintenance", "养老服务 Elderly care", "公共图书馆 Public libraries",
              "排水改造 Drainage upgrade", "公园绿化 Park greening", "政务服务中心 Service centre",
              "老旧小区改造 Old housing estates"]
DEPARTMENTS_NEEDED = frozenset({"land-bureau", "finance-bureau", "civil-affairs", "notary-office", "tax-bureau",
                                "court"})


@dataclass(frozen=True)
class Scale:
    """How much the demo writes (the defaults are issue 4's data set)."""

    residents: int = 400
    parcels: int = 1_000
    transfers: int = 300
    mortgages: int = 150
    identities: int = 500
    documents: int = 300
    programmes: int = 50
    payments: int = 10_000

    def scaled(self, factor: float) -> "Scale":
        """The same data set, `factor` times as large (at least 2 of everything)."""
        return Scale(**{name: max(2, int(getattr(self, name) * factor)) for name in self.__dataclass_fields__})


@dataclass
class Step:
    """One transaction to make: who sends it, what it does, who endorses it."""

    sender: str
    module: str
    action: str
    args: msgspec.Struct
    endorsers: tuple[str, ...] = ()


@dataclass
class PhaseResult:
    name: str
    submitted: int = 0
    ok: int = 0
    failed: Counter = field(default_factory=Counter)
    seconds: float = 0.0


class DemoSeeder:
    """Builds and submits the demo phases for one network."""

    def __init__(self, network: Network, *, seed: int = 1, scale: Scale = Scale(), report: Report = print) -> None:
        self.network, self.seed, self.scale, self.report = network, seed, scale, report
        self.rng = random.Random(f"{network.chain_id}/{seed}")
        self.api = network.nodes[0].api_url
        self.signers: dict[str, Signer] = {}
        self.nonces: dict[str, int] = {}
        self.expires = 0

    # --- accounts and keys -----------------------------------------------------------------------------------

    def signer(self, account: str) -> Signer:
        """The key of `account`: a genesis admin's from the network folder, a demo account's from the seed."""
        if account not in self.signers:
            if account.endswith("/admin"):
                self.signers[account] = load_signer(self.network.root, account)
            else:
                private = hashlib.sha256(f"civichain demo {self.network.chain_id} {self.seed} {account}".encode()).digest()
                self.signers[account] = Signer(account, private, ED25519_SHA256)
        return self.signers[account]

    def key_of(self, label: str) -> bytes:
        """A demo private key that is not an account's (e.g. a DID's first key)."""
        return hashlib.sha256(f"civichain demo key {self.network.chain_id} {self.seed} {label}".encode()).digest()

    # --- the data set --------------------------------------------------------------------------------------

    def run(self) -> list[PhaseResult]:
        """Build and submit every phase; return what each did."""
        s = self.scale
        with httpx.Client(timeout=30) as http:
            self.expires = self._wait_for_first_block(http) + 100_000
            if http.get(f"{self.api}/v1/accounts/land-bureau/registrar").status_code == 200:
                self.report("  this network already holds the demo records (land-bureau/registrar exists)")
                return []
            organisations = {o for o in self._organisations(http)}
        residents = [f"civil-affairs/resident-{i:04d}" for i in range(s.residents)]
        results = [self._phase("accounts", self._accounts(residents, organisations))]
        parcels = [f"{DISTRICTS[i % len(DISTRICTS)][1][:2].upper()}-{i:05d}" for i in range(s.parcels)]
        owners_of: dict[str, list[OwnerShare]] = {}
        results.append(self._phase("parcels and first titles", self._parcels(parcels, residents, owners_of)))
        results.append(self._phase("identities and notarized documents", self._identities() + self._documents()))
        results.append(self._phase("transfers, mortgages and a court freeze",
                                   self._transfers(parcels, residents, owners_of)))
        departments = sorted(organisations - {"finance-bureau"})
        programmes = [(f"p{YEAR}-{i:03d}", departments[i % len(departments)]) for i in range(s.programmes)]
        results.append(self._phase(f"fiscal year {YEAR}: appropriations, programmes, allocations",
                                   self._budget(programmes)))
        contracts = self._contracts(programmes)
        results.append(self._phase("contracts", [step for step, _ in contracts]))
        results.append(self._phase("payments", self._payments(contracts)))
        return results

    def _wait_for_first_block(self, http: httpx.Client, timeout: float = 60) -> int:
        """Return the height node0's API reports once it has a committed block (a network just started has none)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                answer = http.get(f"{self.api}/v1/status").json()
                if answer.get("height"):
                    return answer["height"]
            except (httpx.HTTPError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.api}: no committed block within {timeout:.0f} s")
            time.sleep(0.3)

    def _organisations(self, http: httpx.Client) -> list[str]:
        genesis = http.get(f"{self.api}/v1/network").json()["genesis"]
        return [o["id"] for o in genesis["app_state"]["organisations"]]

    def _accounts(self, residents: list[str], organisations: set[str]) -> list[Step]:
        officers = [("land-bureau", "registrar", ("registrar",)), ("civil-affairs", "identity-officer", ("identity_officer",)),
                    ("tax-bureau", "clerk", ("clerk",)), ("court", "judge", ("judge",)),
                    ("notary-office", "notary", ("notary",)), ("finance-bureau", "budget-officer", ("budget_officer",))]
        steps = [Step(f"{org}/admin", "registry", "add_account",
                      AddAccount(id=f"{org}/{name}", public_key=self.signer(f"{org}/{name}").public_key, roles=roles))
                 for org, name, roles in officers if org in organisations]
        banks = [f"finance-bureau/bank-{b}" for b in BANKS]
        payees = [f"finance-bureau/payee-{i:02d}" for i in range(PAYEES)]
        for account in residents + banks + payees:
            steps.append(Step(f"{account.split('/')[0]}/admin", "registry", "add_account",
                              AddAccount(id=account, public_key=self.signer(account).public_key)))
        return steps

    def _parcels(self, parcels: list[str], residents: list[str], owners_of: dict[str, list[OwnerShare]]) -> list[Step]:
        steps = []
        for i, parcel in enumerate(parcels):
            (district_zh, district_en), (street_zh, street_en) = DISTRICTS[i % len(DISTRICTS)], self.rng.choice(STREETS)
            number = self.rng.randint(1, 300)
            location = f"{district_zh}{street_zh}{number}号 / No. {number} {street_en}, {district_en} District"
            area = self.rng.randint(4_000, 40_000) * 100          # 40 to 400 m², in dm²
            steps.append(Step("land-bureau/registrar", "land", "register_parcel", RegisterParcel(
                area_dm2=area, boundary=self._digest("survey", parcel), id=parcel,
                land_use=self.rng.choice(LAND_USES), location=location)))
            owners = self._owners(residents)
            owners_of[parcel] = owners
            steps.append(Step("land-bureau/registrar", "land", "issue_title", IssueTitle(
                deed=self._digest("deed", parcel, 0), owners=tuple(owners), parcel=parcel)))
        return steps

    def _owners(self, residents: list[str]) -> list[OwnerShare]:
        if self.rng.random() < 0.7:
            return [OwnerShare(denominator=1, numerator=1, owner=self.rng.choice(residents))]
        a, b = self.rng.sample(residents, 2)
        return sorted([OwnerShare(denominator=2, numerator=1, owner=a), OwnerShare(denominator=2, numerator=1, owner=b)],
                      key=lambda share: share.owner)

    def _identities(self) -> list[Step]:
        steps = []
        for i in range(self.scale.identities):
            private = self.key_of(f"did {i}")
            args = CreateDid(proof=b"", public_key=ED25519_SHA256.public_key(private))
            signed = sign_operation(self.network.chain_id, "create_did", args, private)
            steps.append(Step("civil-affairs/identity-officer", "identity", "create_did", signed))
        return steps

    def _documents(self) -> list[Step]:
        steps = []
        for i in range(self.scale.documents):
            title_zh, title_en = DOCUMENTS[i % len(DOCUMENTS)]
            issuer = "notary-office/notary" if i % 3 else "notary-office/admin"
            steps.append(Step(issuer, "notary", "anchor", Anchor(
                digest=self._digest("document", i), metadata={"lang": "zh-CN,en", "serial": f"{2026}-{i:05d}"},
                title=f"{title_zh} / {title_en} No. {i + 1}")))
        return steps

    def _transfers(self, parcels: list[str], residents: list[str], owners_of: dict[str, list[OwnerShare]]) -> list[Step]:
        titles = self._current_titles(parcels[: self.scale.transfers + self.scale.mortgages + 1])
        chosen = [p for p in parcels if p in titles]
        steps = []
        for parcel in chosen[: self.scale.transfers]:
            old = owners_of[parcel]
            new = self._owners([r for r in residents if r not in {o.owner for o in old}])
            parties = {o.owner for o in old} | {o.owner for o in new} | {"tax-bureau/clerk"}
            steps.append(Step("land-bureau/registrar", "land", "transfer", Transfer(
                deed=self._digest("deed", parcel, 1), owners=tuple(new), parcel=parcel, title=titles[parcel]),
                endorsers=tuple(sorted(parties))))
            owners_of[parcel] = new
        for parcel in chosen[self.scale.transfers: self.scale.transfers + self.scale.mortgages]:
            bank = f"finance-bureau/bank-{self.rng.choice(BANKS)}"
            parties = {o.owner for o in owners_of[parcel]} | {bank}
            steps.append(Step("land-bureau/registrar", "land", "add_encumbrance", AddEncumbrance(
                amount_fen=self.rng.randint(50, 500) * 1_000_000, blocking=True,
                document=self._digest("mortgage", parcel), holder=bank, kind="mortgage", parcel=parcel),
                endorsers=tuple(sorted(parties))))
        frozen = chosen[-1]
        steps.append(Step("court/judge", "land", "freeze", FreezeParcel(
            case="(2026)京0101民初1234号", order=self._digest("court order", frozen), parcel=frozen)))
        return steps

    def _budget(self, programmes: list[tuple[str, str]]) -> list[Step]:
        officer = "finance-bureau/budget-officer"
        steps = [Step(officer, "funds", "open_year", OpenYear(approval_threshold_fen=THRESHOLD_FEN, year=YEAR))]
        per_area = len(programmes) // len(FUND_AREAS) + 1
        for area, zh, en in FUND_AREAS:
            steps.append(Step(officer, "funds", "appropriate", Appropriate(
                amount_fen=per_area * 3_000_000_000, appropriation=f"{area}-{YEAR}",
                basis=self._digest("budget law", YEAR, area), title=f"{YEAR}年{zh}预算 / {YEAR} {en} budget", year=YEAR),
                endorsers=("tax-bureau/admin",)))      # above the threshold: a second department endorses
        for i, (programme, department) in enumerate(programmes):
            steps.append(Step(officer, "funds", "create_programme", CreateProgramme(
                department=department, programme=programme, title=f"{PROGRAMMES[i % len(PROGRAMMES)]} #{i + 1}",
                year=YEAR)))
            area = FUND_AREAS[i % len(FUND_AREAS)][0]
            steps.append(Step(officer, "funds", "allocate", Allocate(
                allocation=f"{programme}-a", amount_fen=self.rng.randint(5, 19) * 100_000_000,
                appropriation=f"{area}-{YEAR}", programme=programme)))
        return steps

    def _contracts(self, programmes: list[tuple[str, str]]) -> list[tuple[Step, int]]:
        """Four contracts per programme; each with how many payments it will take."""
        per_contract = max(1, self.scale.payments // max(1, len(programmes) * 4))
        contracts = []
        for programme, department in programmes:
            for c in range(4):
                commitment = f"{programme}-c{c}"
                contracts.append((Step(f"{department}/admin", "funds", "commit", Commit(
                    allocation=f"{programme}-a", amount_fen=per_contract * 1_000_000, commitment=commitment,
                    contract=self._digest("contract", commitment),
                    payee=f"finance-bureau/payee-{self.rng.randrange(PAYEES):02d}")), per_contract))
        return contracts

    def _payments(self, contracts: list[tuple[Step, int]]) -> list[Step]:
        steps = []
        for step, count in contracts:
            commit = step.args
            for n in range(count):
                steps.append(Step(step.sender, "funds", "disburse", Disburse(
                    amount_fen=self.rng.randint(1, 10) * 100_000, commitment=commit.commitment, contract=commit.contract,
                    disbursement=f"{commit.commitment}-{n:03d}", invoice=self._digest("invoice", commit.commitment, n))))
        return steps

    def _current_titles(self, parcels: list[str]) -> dict[str, int]:
        titles = {}
        with httpx.Client(timeout=30) as http:
            for parcel in parcels:
                answer = http.get(f"{self.api}/v1/land/parcels/{parcel}")
                if answer.status_code == 200 and answer.json().get("title"):
                    titles[parcel] = answer.json()["title"]["record"]["number"]
        return titles

    def _digest(self, *parts: object) -> bytes:
        return hashlib.sha256(" ".join(map(str, (self.network.chain_id, self.seed, *parts))).encode()).digest()

    # --- submission ----------------------------------------------------------------------------------------

    def _phase(self, name: str, steps: list[Step]) -> PhaseResult:
        started = time.monotonic()
        by_sender: dict[str, list[bytes]] = defaultdict(list)
        with httpx.Client(timeout=30) as http:
            for step in steps:
                if step.sender not in self.nonces:
                    self.nonces[step.sender] = http.get(f"{self.api}/v1/accounts/{step.sender}").json()["next_nonce"]
                nonce = self.nonces[step.sender]
                self.nonces[step.sender] += 1
                body = build_body(self.network.chain_id, step.sender, nonce, self.expires, step.module, step.action,
                                  step.args)
                raw = sign(body, self.signer(step.sender), [self.signer(e) for e in step.endorsers])
                by_sender[step.sender].append(raw)
        streams: list[list[bytes]] = [[] for _ in self.network.nodes]
        for i, sender in enumerate(sorted(by_sender)):
            streams[i % len(streams)].extend(by_sender[sender])
        observation = asyncio.run(self._submit(streams, len(steps)))
        result = PhaseResult(name, len(steps), len(observation.ok), seconds=time.monotonic() - started)
        failed = [h for h in observation.committed if h not in observation.ok]
        if failed:
            result.failed = Counter(self._codes(failed))
        self.report(f"  {name}: {result.ok} of {result.submitted} committed ok in {result.seconds:.1f} s"
                    + (f"; failed: {dict(result.failed)}" if result.failed else ""))
        return result

    async def _submit(self, streams: list[list[bytes]], expected: int) -> Observation:
        observation = Observation()
        stop = asyncio.Event()
        async with httpx.AsyncClient(timeout=10) as http:
            start = int((await http.get(f"{self.network.nodes[0].rpc_url}/status")).json()["result"]["sync_info"]["latest_block_height"])
        watcher = asyncio.create_task(watch_commits(self.network.nodes[0].rpc_url, observation, stop, start))
        await asyncio.gather(*(submit(node.rpc_url, txs, observation, max_in_flight=3000)
                               for node, txs in zip(self.network.nodes, streams) if txs))
        await wait_all_committed(observation, expected, timeout=max(120.0, expected / 50))
        stop.set()
        await watcher
        return observation

    def _codes(self, tx_ids: list[str]) -> list[str]:
        codes = []
        with httpx.Client(timeout=30) as http:
            for tx_id in tx_ids[:200]:
                answer = http.get(f"{self.api}/v1/txs/{tx_id.lower()}").json()
                codes.append(answer.get("receipt", {}).get("code", "unknown"))
        return codes


def seed_demo(network: Network, *, seed: int = 1, scale: float = 1.0, report: Report = print) -> dict:
    """Fill `network` with the demo data set; return the figures (phases, transactions, seconds)."""
    started = time.monotonic()
    results = DemoSeeder(network, seed=seed, scale=Scale().scaled(scale), report=report).run()
    return {"phases": [{"name": r.name, "submitted": r.submitted, "ok": r.ok, "failed": dict(r.failed),
                        "seconds": round(r.seconds, 1)} for r in results],
            "transactions": sum(r.submitted for r in results), "ok": sum(r.ok for r in results),
            "seconds": round(time.monotonic() - started, 1)}
