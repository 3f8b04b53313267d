"""`civichain demo seed`: fill a running network with a realistic, reproducible set of public records.

What a newcomer sees after `scripts/up`: the departments of a city keeping land titles, public funds,
identities and notarized documents together. Everything is derived from the chain id and a seed, so the
same network folder and seed give the same records. Bilingual (zh-CN and English) wherever a citizen reads.

The records go in as phases (`submit.py`): each phase's transactions are pre-signed (the demo accounts' keys
are derived from the seed, never stored), sent to the nodes through CometBFT's RPC in batches, and waited
for; a phase starts only once the one before it is committed, because it builds on it (a title needs its
parcel, a transfer its title, a schema its issuer), and transactions of different senders may reach a block
in any order. Each phase reports how many transactions succeeded and the codes of any that failed.

The network must hold the ten sample departments (`civichain init --organisations 10`); the seeder checks
that first and names the missing ones (`demo.missing_departments`).
"""

from __future__ import annotations

import hashlib
import random
import time
from typing import Callable

import httpx

from civichain.client.sample import load_signer
from civichain.client.tx import Signer
from civichain.crypto import ED25519_SHA256
from civichain.demo.data import DEPARTMENTS_NEEDED  # noqa: F401 (`civichain up --seed` checks a genesis with it)
from civichain.demo.data import (
    BANKS, DISTRICTS, DOCUMENTS, FUND_AREAS, ISSUERS, LAND_USES, PAYEES, PROGRAMMES, SIDES, STREETS, THRESHOLD_FEN,
    YEAR, Plot, Scale, Step, check_departments,
)
from civichain.demo.submit import PhaseResult, PhaseSender
from civichain.modules.credentials import ChangeStatus, RegisterIssuer, RegisterSchema
from civichain.modules.did import Service, did_of, sign_operation
from civichain.modules.funds import Allocate, Appropriate, Commit, CreateProgramme, Disburse, OpenYear
from civichain.modules.identity import CreateDid, RotateKey
from civichain.modules.land import (
    AddEncumbrance, ChildParcel, FreezeParcel, IssueTitle, Merge, OwnerShare, RegisterParcel, ReleaseEncumbrance,
    Subdivide, Transfer,
)
from civichain.modules.notary import Anchor
from civichain.modules.registry import AddAccount
from civichain.node.network import Network

Report = Callable[[str], None]


class DemoSeeder:
    """Builds and submits the demo phases for one network."""

    def __init__(self, network: Network, *, seed: int = 1, scale: Scale = Scale(), report: Report = print) -> None:
        self.network, self.seed, self.scale, self.report = network, seed, scale, report
        self.rng = random.Random(f"{network.chain_id}/{seed}")
        self.api = network.nodes[0].api_url
        self.signers: dict[str, Signer] = {}
        self.plots: dict[str, Plot] = {}
        self.merged_into: dict[str, str] = {}      # the second parcel of a merger -> the first
        self.mortgaged: dict[str, str] = {}        # parcel -> the bank holding its mortgage

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
        """Build and submit every phase; return what each did. Raises DemoError `demo.missing_departments`."""
        s = self.scale
        with httpx.Client(timeout=30) as http:
            expires_at = self._wait_for_first_block(http) + 100_000
            organisations = set(self._organisations(http))
            check_departments(organisations, str(self.network.root))
            if http.get(f"{self.api}/v1/accounts/land-bureau/registrar").status_code == 200:
                self.report("  this network already holds the demo records (land-bureau/registrar exists)")
                return []
        send = PhaseSender(self.network, self.signer, expires_at, self.report).send
        residents = [f"civil-affairs/resident-{i:04d}" for i in range(s.residents)]
        results = [send("accounts", self._accounts(residents, organisations))]
        parcels = [f"{DISTRICTS[i % len(DISTRICTS)][1][:2].upper()}-{i:05d}" for i in range(s.parcels)]
        spare = parcels[s.transfers + s.mortgages + 1:]    # what transfers, mortgages and the freeze leave alone
        subdivided, pairs = spare[:s.subdivisions], _adjacent_pairs(spare[s.subdivisions:], s.mergers)
        self.merged_into = {second: first for first, second in pairs}
        owners_of: dict[str, list[OwnerShare]] = {}
        results.append(send("parcels and first titles", self._parcels(parcels, residents, owners_of)))
        results.append(send("identities, issuers' DIDs and notarized documents",
                            self._identities() + self._issuer_dids() + self._documents()))
        reshaped = self._reshape(subdivided, pairs, owners_of)
        results.append(send("transfers, mortgages, subdivisions, mergers and a court freeze",
                            self._transfers(parcels, residents, owners_of) + reshaped))
        results.append(send("mortgage releases, credential issuers and DID key rotations",
                            self._releases() + self._issuers() + self._rotations()))
        results.append(send("credential schemas and revocations", self._schemas() + self._revocations()))
        departments = sorted(organisations - {"finance-bureau"})
        programmes = [(f"p{YEAR}-{i:03d}", departments[i % len(departments)]) for i in range(s.programmes)]
        results.append(send(f"fiscal year {YEAR}: appropriations, programmes, allocations", self._budget(programmes)))
        contracts = self._contracts(programmes)
        results.append(send("contracts", [step for step, _ in contracts]))
        results.append(send("payments", self._payments(contracts)))
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
        steps += [Step(f"{org}/admin", "registry", "add_account", AddAccount(
            id=f"{org}/credentials-office", public_key=self.signer(f"{org}/credentials-office").public_key,
            roles=("issuer",))) for org, *_ in ISSUERS]
        banks = [f"finance-bureau/bank-{b}" for b in BANKS]
        payees = [f"finance-bureau/payee-{i:02d}" for i in range(PAYEES)]
        for account in residents + banks + payees:
            steps.append(Step(f"{account.split('/')[0]}/admin", "registry", "add_account",
                              AddAccount(id=account, public_key=self.signer(account).public_key)))
        return steps

    def _parcels(self, parcels: list[str], residents: list[str], owners_of: dict[str, list[OwnerShare]]) -> list[Step]:
        steps = []
        for i, parcel in enumerate(parcels):
            first = self.merged_into.get(parcel)
            if first is None:
                plot = Plot(DISTRICTS[i % len(DISTRICTS)], self.rng.choice(STREETS), self.rng.randint(1, 300),
                            self.rng.randint(4_000, 40_000) * 100, self.rng.choice(LAND_USES))   # 40 to 400 m², in dm²
                owners_of[parcel] = self._owners(residents)
            else:    # the plot next door, of the same use and owners: the two are merged later
                before = self.plots[first]
                plot = before._replace(number=before.number + 1, area_dm2=self.rng.randint(4_000, 40_000) * 100)
                owners_of[parcel] = owners_of[first]
            self.plots[parcel] = plot
            steps.append(Step("land-bureau/registrar", "land", "register_parcel", RegisterParcel(
                area_dm2=plot.area_dm2, boundary=self._digest("survey", parcel), id=parcel, land_use=plot.land_use,
                location=plot.location())))
            steps.append(Step("land-bureau/registrar", "land", "issue_title", IssueTitle(
                deed=self._digest("deed", parcel, 0), owners=tuple(owners_of[parcel]), parcel=parcel)))
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

    def _issuer_dids(self) -> list[Step]:
        """Each issuing department's DID, created by its own admin (an issuer's DID must be its own)."""
        steps = []
        for org, *_ in ISSUERS:
            private = self.key_of(f"issuer {org}")
            args = CreateDid(proof=b"", public_key=ED25519_SHA256.public_key(private), services=(Service(
                endpoint=f"https://{org}.example.gov.cn/credentials", id="credentials", type="CredentialIssuer"),))
            steps.append(Step(f"{org}/admin", "identity", "create_did",
                              sign_operation(self.network.chain_id, "create_did", args, private)))
        return steps

    def _issuers(self) -> list[Step]:
        """Civil affairs registers which department issues which credential type, signed by which DID."""
        return [Step("civil-affairs/admin", "identity", "register_issuer", RegisterIssuer(
                    credential_type=kind, did=did_of(ED25519_SHA256.public_key(self.key_of(f"issuer {org}"))),
                    organisation=org)) for org, kind, *_ in ISSUERS]

    def _rotations(self) -> list[Step]:
        """Residents who replaced their DID's first key (a lost phone): signed by the old key and the new one."""
        steps, every = [], max(1, self.scale.identities // self.scale.key_rotations)
        for i in range(0, every * self.scale.key_rotations, every):
            old, new = self.key_of(f"did {i}"), self.key_of(f"did {i} key 2")
            did = did_of(ED25519_SHA256.public_key(old))
            args = RotateKey(did=did, key_id="key-1", key_proof=b"", proof=b"",
                             public_key=ED25519_SHA256.public_key(new), signer=f"{did}#key-1", version=1)
            steps.append(Step("civil-affairs/identity-officer", "identity", "rotate_key",
                              sign_operation(self.network.chain_id, "rotate_key", args, old, new)))
        return steps

    def _schemas(self) -> list[Step]:
        """Each issuer's credential schema, pinned by the digest of its text; civil affairs has a second version."""
        return [Step(f"{org}/credentials-office", "identity", "register_schema", RegisterSchema(
                    credential_type=kind, digest=self._digest("schema", kind, version),
                    title=f"{zh}（第{version}版）/ {en}, version {version}"))
                for org, kind, zh, en in ISSUERS for version in range(1, 3 if org == "civil-affairs" else 2)]

    def _revocations(self) -> list[Step]:
        """A few credentials of each issuer revoked (in batches, as an issuer's office sends them)."""
        steps = []
        for org, kind, *_ in ISSUERS:
            indices = sorted(self.rng.sample(range(5_000), self.rng.randint(2, 9)))
            steps += [Step(f"{org}/credentials-office", "identity", "revoke", ChangeStatus(
                credential_type=kind, indices=tuple(indices[k:k + 4]))) for k in range(0, len(indices), 4)]
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
        records = self._parcel_records(parcels[: self.scale.transfers + self.scale.mortgages + 1])
        titles = {parcel: record["title"] for parcel, record in records.items() if record["title"]}
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
            bank = self.mortgaged[parcel] = f"finance-bureau/bank-{self.rng.choice(BANKS)}"
            parties = {o.owner for o in owners_of[parcel]} | {bank}
            steps.append(Step("land-bureau/registrar", "land", "add_encumbrance", AddEncumbrance(
                amount_fen=self.rng.randint(50, 500) * 1_000_000, blocking=True,
                document=self._digest("mortgage", parcel), holder=bank, kind="mortgage", parcel=parcel),
                endorsers=tuple(sorted(parties))))
        frozen = chosen[-1]
        steps.append(Step("court/judge", "land", "freeze", FreezeParcel(
            case="(2026)京0101民初1234号", order=self._digest("court order", frozen), parcel=frozen)))
        return steps

    def _reshape(self, subdivided: list[str], pairs: list[tuple[str, str]],
                 owners_of: dict[str, list[OwnerShare]]) -> list[Step]:
        """Subdivide parcels into two or three plots of exactly their area; merge pairs of plots next door."""
        steps = []
        for i, parent in enumerate(subdivided):
            plot, parts = self.plots[parent], 2 + i % 2
            cuts = sorted(self.rng.sample(range(1, plot.area_dm2 // 100), parts - 1))     # whole m², in dm² below
            edges = [0, *cuts, plot.area_dm2 // 100]
            children = tuple(ChildParcel(area_dm2=(edges[k + 1] - edges[k]) * 100,
                                         boundary=self._digest("survey", f"{parent}-{k + 1}"), id=f"{parent}-{k + 1}",
                                         location=plot.location(SIDES[k])) for k in range(parts))
            steps.append(Step("land-bureau/registrar", "land", "subdivide", Subdivide(
                children=children, document=self._digest("subdivision plan", parent), parcel=parent),
                endorsers=tuple(sorted(o.owner for o in owners_of[parent]))))
        for first, second in pairs:
            plot = self.plots[first]
            steps.append(Step("land-bureau/registrar", "land", "merge", Merge(
                area_dm2=plot.area_dm2 + self.plots[second].area_dm2, boundary=self._digest("survey", f"{first}-M"),
                document=self._digest("merger", first, second), id=f"{first}-M",
                location=plot.location(("及相邻地块", f"with No. {plot.number + 1} next door")),
                parcels=(first, second)), endorsers=tuple(sorted(o.owner for o in owners_of[first]))))
        return steps

    def _releases(self) -> list[Step]:
        """Mortgages paid off: the bank that holds each releases it (a registrar records it)."""
        paid_off = list(self.mortgaged)[: self.scale.releases]
        return [Step("land-bureau/registrar", "land", "release_encumbrance", ReleaseEncumbrance(
                    document=self._digest("mortgage release", parcel), encumbrance=number),
                    endorsers=(self.mortgaged[parcel],))
                for parcel, record in self._parcel_records(paid_off).items() for number in record["encumbrances"]]

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

    def _parcel_records(self, parcels: list[str]) -> dict[str, dict]:
        """The committed records of `parcels` (those node0 knows), as the API gives them."""
        records = {}
        with httpx.Client(timeout=30) as http:
            for parcel in parcels:
                answer = http.get(f"{self.api}/v1/land/parcels/{parcel}")
                if answer.status_code == 200:
                    records[parcel] = answer.json()["parcel"]["record"]
        return records

    def _digest(self, *parts: object) -> bytes:
        return hashlib.sha256(" ".join(map(str, (self.network.chain_id, self.seed, *parts))).encode()).digest()

def _adjacent_pairs(parcels: list[str], count: int) -> list[tuple[str, str]]:
    """`count` pairs of parcels in the same district (ids `len(DISTRICTS)` apart), no parcel twice."""
    step, pairs = len(DISTRICTS), []
    for j in range(count):
        first = (j // step) * 2 * step + j % step
        if first + step >= len(parcels):
            break
        pairs.append((parcels[first], parcels[first + step]))
    return pairs


def seed_demo(network: Network, *, seed: int = 1, scale: float = 1.0, report: Report = print) -> dict:
    """Fill `network` with the demo data set; return the figures (phases, transactions, seconds)."""
    started = time.monotonic()
    results = DemoSeeder(network, seed=seed, scale=Scale().scaled(scale), report=report).run()
    return {"phases": [{"name": r.name, "submitted": r.submitted, "ok": r.ok, "failed": dict(r.failed),
                        "seconds": round(r.seconds, 1)} for r in results],
            "transactions": sum(r.submitted for r in results), "ok": sum(r.ok for r in results),
            "seconds": round(time.monotonic() - started, 1)}
