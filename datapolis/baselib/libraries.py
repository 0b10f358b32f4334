"""The base libraries (人口库, 法人库, 电子证照库): their fields, survivorship rules and sources.

Each library reads std tables (standardised department data). A source maps base fields to
its columns (or to a constant, e.g. the kind of a licence); `where` keeps only rows of one
kind (a water account held by a person, not a firm). Records link on the library's key after
standardisation; for ID numbers and credit codes the key is the 17-character body without the
check character, so a mistyped check digit still links (a checksum is a function of the body:
two real identifiers never share one) — see docs/governance-std-base.md for the measurement.

Rules per field: `source_priority` (the first source in `sources` that has a value, then the
most recent), `most_recent` (the latest `updated` value, then priority), `most_frequent` (the
value most records agree on, then priority).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from datapolis.standardise.transforms import SpecError

RULES = ("source_priority", "most_recent", "most_frequent")


@dataclass(frozen=True)
class Const:
    value: str


@dataclass(frozen=True)
class Field:
    name: str
    rule: str = "source_priority"
    sql_type: str = "VARCHAR"  # DATE for dates


@dataclass(frozen=True)
class Source:
    table: str  # std.<table>
    fields: dict[str, str | Const]  # base field -> std column or a constant
    updated: str | None = None  # last-update column, for most_recent
    where: tuple[str, str] | None = None  # (column, value) rows must have


@dataclass(frozen=True)
class Library:
    name: str  # base.<name>
    title: str
    key: tuple[str, ...]  # base fields the records link on
    body_key: bool  # link on the identifier without its check character
    fields: tuple[Field, ...]
    sources: tuple[Source, ...] = field(default=())

    @property
    def table(self) -> str:
        return f"base.{self.name}"

    def rule(self, name: str) -> str:
        return next(f.rule for f in self.fields if f.name == name)


PERSON = Library(
    "person", "人口基础信息库", key=("id_number",), body_key=True,
    fields=(Field("id_number", "most_frequent"), Field("name"), Field("sex"),
            Field("birth_date", sql_type="DATE"), Field("ethnicity"), Field("address"),
            Field("mobile", "most_recent")),
    sources=(
        Source("std.gaj_czrk", {"id_number": "gmsfhm", "name": "xm", "sex": "xb",
                                "birth_date": "csrq", "ethnicity": "mz", "address": "hjdz",
                                "mobile": "lxdh"}, updated="gxsj"),
        Source("std.jyj_xlxx", {"id_number": "sfzh", "name": "xm", "sex": "xb",
                                "birth_date": "csrq"}, updated="gxsj"),
        Source("std.bdcdj_qlr", {"id_number": "zjh", "name": "qlrmc", "mobile": "lxdh",
                                 "address": "txdz"}, updated="gxsj", where=("zjzl", "身份证")),
        Source("std.swjt_yhda", {"id_number": "zjhm", "name": "hm", "mobile": "lxdh",
                                 "address": "ysdz"}, updated="gxsj",
               where=("zjlx", "居民身份证")),
        Source("std.mzj_dibao", {"id_number": "身份证号码", "name": "户主姓名",
                                 "mobile": "联系电话", "address": "家庭住址"}),
        Source("std.scjgj_qy_tzr", {"id_number": "zjhm", "name": "tzrmc"}, updated="gxsj",
               where=("zjlx", "居民身份证")),
    ),
)

LEGAL_ENTITY = Library(
    "legal_entity", "法人基础信息库", key=("credit_code",), body_key=True,
    fields=(Field("credit_code", "most_frequent"), Field("name"), Field("legal_rep"),
            Field("legal_rep_id"), Field("founded", sql_type="DATE"), Field("status"),
            Field("address")),
    sources=(
        Source("std.scjgj_qyjbxx", {"credit_code": "tyshxydm", "name": "qymc",
                                    "legal_rep": "fddbr", "legal_rep_id": "fddbr_zjhm",
                                    "founded": "clrq", "status": "djzt", "address": "zs"},
               updated="gxsj"),
        Source("std.swjt_yhda", {"credit_code": "zjhm", "name": "hm", "address": "ysdz"},
               updated="gxsj", where=("zjlx", "统一社会信用代码")),
        Source("std.scjgj_qy_tzr", {"credit_code": "tyshxydm"}, updated="gxsj"),
    ),
)

LICENSE = Library(
    "license", "电子证照库", key=("license_type", "license_no"), body_key=False,
    fields=(Field("license_type"), Field("license_no"), Field("holder_name"),
            Field("holder_id"), Field("issued", sql_type="DATE"), Field("issuer")),
    sources=(
        Source("std.jyj_xlxx", {"license_type": Const("学历证书"), "license_no": "zsbh",
                                "holder_name": "xm", "holder_id": "sfzh", "issued": "byrq",
                                "issuer": "xxmc"}, updated="gxsj"),
        Source("std.scjgj_qyjbxx", {"license_type": Const("营业执照"), "license_no": "tyshxydm",
                                    "holder_name": "qymc", "holder_id": "tyshxydm",
                                    "issued": "clrq", "issuer": "djjg"}, updated="gxsj"),
        Source("std.bdcdj_bdcdy", {"license_type": Const("不动产权证书"),
                                   "license_no": "bdcqzh", "issued": "djrq",
                                   "issuer": Const("临沂市不动产登记中心")}, updated="gxsj"),
    ),
)

LIBRARIES = {lib.name: lib for lib in (PERSON, LEGAL_ENTITY, LICENSE)}


def get_library(name: str) -> Library:
    key = name.removeprefix("base.")
    if key not in LIBRARIES:
        raise SpecError(f"no base library {name!r}; known: {', '.join(LIBRARIES)}")
    return LIBRARIES[key]


def check(library: Library) -> None:
    names = {f.name for f in library.fields}
    for f in library.fields:
        if f.rule not in RULES:
            raise SpecError(f"{library.table}.{f.name}: unknown rule {f.rule!r}")
    for source in library.sources:
        unknown = set(source.fields) - names
        if unknown:
            raise SpecError(f"{library.table} from {source.table}: unknown fields {unknown}")
        if not set(library.key) <= set(source.fields):
            raise SpecError(f"{library.table} from {source.table}: the key {library.key} "
                            "must be mapped")
