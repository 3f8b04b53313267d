"""What the demo data set is made of: its names and texts (zh-CN and English), its size, and the departments
it needs. `seed.py` builds the records from these; nothing here talks to a network."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import msgspec

from civichain.errors import CivicError

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
# (organisation, credential type, name in Chinese, in English): who issues what; civil affairs registers them.
ISSUERS = [("civil-affairs", "marriage_certificate", "结婚证", "Marriage certificate"),
           ("education-bureau", "teacher_qualification", "教师资格证书", "Teacher qualification certificate"),
           ("health-commission", "physician_licence", "医师执业证书", "Physician practising certificate"),
           ("public-security", "residence_permit", "居住证", "Residence permit"),
           ("housing-bureau", "construction_permit", "建筑工程施工许可证", "Construction works permit")]
SIDES = [("东侧地块", "east plot"), ("西侧地块", "west plot"), ("北侧地块", "north plot")]
# Every department the data set names: the ten of `civichain init --organisations 10`.
DEPARTMENTS_NEEDED = frozenset({"land-bureau", "finance-bureau", "civil-affairs", "notary-office", "tax-bureau",
                                "court", *(org for org, *_ in ISSUERS)})


class DemoError(CivicError):
    """The network cannot take the demo data set as it is (e.g. departments missing from its genesis)."""


def check_departments(organisations: set[str], net: str) -> None:
    """Raise DemoError `demo.missing_departments` unless every department of the data set is in the genesis."""
    missing = sorted(DEPARTMENTS_NEEDED - organisations)
    if missing:
        raise DemoError("demo.missing_departments", where=f"the organisations in the genesis of network {net}",
                        got=f"missing {', '.join(missing)}",
                        expected=f"the {len(DEPARTMENTS_NEEDED)} departments the demo data set names: make the "
                                 "network with `civichain init --organisations 10`")


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
    subdivisions: int = 10
    mergers: int = 5
    releases: int = 30         # mortgages paid off and released
    key_rotations: int = 10    # residents' DIDs whose first key is rotated

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


class Plot(NamedTuple):
    """Where a parcel lies and what it is, as registered."""

    district: tuple[str, str]
    street: tuple[str, str]
    number: int
    area_dm2: int
    land_use: str

    def location(self, side: tuple[str, str] | None = None) -> str:
        """The location in Chinese and English, of the whole plot or of one side of it."""
        (district_zh, district_en), (street_zh, street_en) = self.district, self.street
        zh, en = f"{district_zh}{street_zh}{self.number}号", f"No. {self.number} {street_en}, {district_en} District"
        return f"{zh}{side[0]} / {en}, {side[1]}" if side else f"{zh} / {en}"
