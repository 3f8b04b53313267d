"""A city's public records as the state holds them, for the state bench: the modules' own keys and encodings.

Each group is what one event of a city's life leaves in state, built from the modules' record types and key
functions (so the keys share the real prefixes and the values have the real sizes):

* a parcel: its record, its current title, often the title it replaced, sometimes a mortgage;
* a payment: the disbursement, the programme's payment index entry, the paid-invoice marker;
* a DID: its document and its key binding, sometimes the binding of a key rotated out;
* a notarized document;
* an account: its record and its nonce.

Payments dominate, as they do after a few fiscal years. Everything follows from the random generator given.
"""

from __future__ import annotations

import random
from typing import Iterator

from civichain.bench.city import DISTRICTS, STREETS
from civichain.codec import encode
from civichain.execution.admission import encode_nonce, nonce_key
from civichain.modules.did import PURPOSES, DidDocument, KeyBinding, Service, VerificationMethod, binding_key, did_of
from civichain.modules.did import document_key as did_key
from civichain.modules.funds_records import Disbursement, disbursement_key, invoice_key, payment_key
from civichain.modules.land import Encumbrance, Parcel, Share, Title, encumbrance_key, parcel_key, title_key
from civichain.modules.membership import AccountRecord, account_key
from civichain.modules.notary import Notarization, document_key as notary_key

Records = list[tuple[bytes, bytes]]
# (kind, weight): how often each kind of group is drawn.
KINDS = (("parcel", 20), ("payment", 40), ("did", 15), ("document", 15), ("account", 10))
TITLES = ("出生医学证明 / Birth certificate", "不动产权证书 / Real estate title certificate",
          "营业执照 / Business licence", "政府采购合同 / Public procurement contract", "审计报告 / Audit report")
PROGRAMMES, RESIDENTS = 500, 100_000


def city_records(rng: random.Random) -> Iterator[Records]:
    """Yield groups of (state key, canonical value) without end; keys never repeat."""
    city = _City(rng)
    kinds, weights = zip(*KINDS)
    while True:
        yield getattr(city, rng.choices(kinds, weights)[0])()


class _City:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.parcels = self.titles = self.encumbrances = self.payments = self.accounts = 0
        self.programme_payments = [0] * PROGRAMMES

    def parcel(self) -> Records:
        rng, self.parcels = self.rng, self.parcels + 1
        code, district_zh, district_en = rng.choice(DISTRICTS)
        (street_zh, street_en), number = rng.choice(STREETS), rng.randint(1, 300)
        parcel_id = f"{code}-{self.parcels:07d}"
        records: Records = []
        previous = ()
        if rng.random() < 0.4:                   # transferred once: the first title ended
            previous = (self._title(records, parcel_id, "first_registration", (), ended=True),)
        title = self._title(records, parcel_id, "transfer" if previous else "first_registration", previous)
        encumbrances = ()
        if rng.random() < 0.2:
            self.encumbrances += 1
            encumbrances = (self.encumbrances,)
            records.append((encumbrance_key(self.encumbrances), encode(Encumbrance(
                self.encumbrances, parcel_id, "mortgage", "finance-bureau/bank-icbc", True,
                rng.randint(50, 500) * 1_000_000, rng.randbytes(32), self._height(), rng.randbytes(32)))))
        records.append((parcel_key(parcel_id), encode(Parcel(
            parcel_id, f"{district_zh}{street_zh}{number}号 / No. {number} {street_en}, {district_en} District",
            rng.randint(4_000, 40_000) * 100, "residential", rng.randbytes(32), self._height(), rng.randbytes(32),
            title=title, encumbrances=encumbrances))))
        return records

    def _title(self, records: Records, parcel_id: str, cause: str, predecessors: tuple[int, ...],
               ended: bool = False) -> int:
        rng, self.titles = self.rng, self.titles + 1
        owners = sorted(rng.sample(range(RESIDENTS), rng.choice((1, 1, 2))))
        shares = tuple(Share(self._resident(o), 1, len(owners)) for o in owners)
        records.append((title_key(self.titles), encode(Title(
            self.titles, parcel_id, shares, rng.randbytes(32), cause, self._height(), rng.randbytes(32),
            predecessors, "ended" if ended else "current", self._height() if ended else 0,
            (self.titles + 1,) if ended else ()))))
        return self.titles

    def payment(self) -> Records:
        rng, self.payments = self.rng, self.payments + 1
        programme = rng.randrange(PROGRAMMES)
        self.programme_payments[programme] += 1
        seq, name = self.programme_payments[programme], f"p2026-{programme:03d}"
        contract = f"{name}-c{rng.randrange(4)}"
        record = Disbursement(f"{contract}-{seq:05d}", contract, f"{name}-a", f"area{programme % 5}-2026", name, 2026,
                              seq, f"finance-bureau/payee-{rng.randrange(200):03d}", rng.randint(1, 10) * 100_000,
                              rng.randbytes(32), rng.randbytes(32), self._height(), 1_780_000_000_000_000_000,
                              rng.randbytes(32))
        return [(disbursement_key(record.id), encode(record)), (payment_key(name, seq), record.id.encode()),
                (invoice_key(record.invoice), record.id.encode())]

    def did(self) -> Records:
        rng = self.rng
        key = rng.randbytes(32)
        did = did_of(key)
        height = self._height()
        records: Records = [(binding_key(key), encode(KeyBinding(did, "key-1", height)))]
        if rng.random() < 0.1:                    # its first key was rotated out
            records.append((binding_key(rng.randbytes(32)), encode(KeyBinding(did, "key-1", height - 1000, height))))
        services = (Service(endpoint="https://portal.example.gov.cn/did", id="portal", type="CivicPortal"),) \
            if rng.random() < 0.3 else ()
        document = DidDocument(did, (), (VerificationMethod("key-1", key, PURPOSES, height),), services,
                               "civil-affairs", height, height, 1)
        return records + [(did_key(did), encode(document))]

    def document(self) -> Records:
        rng = self.rng
        digest = rng.randbytes(32)
        record = Notarization(digest, f"{rng.choice(TITLES)} No. {rng.randrange(10**6)}",
                              {"lang": "zh-CN,en", "serial": f"2026-{rng.randrange(10**6):06d}"},
                              "notary-office/notary", "notary-office", self._height(), 1_780_000_000_000_000_000,
                              rng.randbytes(32))
        return [(notary_key(digest), encode(record))]

    def account(self) -> Records:
        self.accounts += 1
        account = f"civil-affairs/resident-{self.accounts:07d}"
        record = AccountRecord(account, "civil-affairs", self.rng.randbytes(32), (), created_at=self._height())
        return [(account_key(account), encode(record)), (nonce_key(account), encode_nonce(self.rng.randrange(50)))]

    def _resident(self, number: int) -> str:
        return f"civil-affairs/resident-{number:07d}"

    def _height(self) -> int:
        return self.rng.randint(1_000, 5_000_000)
