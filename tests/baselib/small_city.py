"""A small built city for governance tests: the test city plus the water company and the
education bureau, three department tables landed in ods, their std tables built from specs in
`<home>/standardise`, and base.person merged — with known conflicts:

| person | field | chosen (source) | other (source) |
| --- | --- | --- | --- |
| ID_C | name | 王芳 (std.jyj_xlxx) | 王方 (std.swjt_yhda) |
| ID_A | address | 兰山区1号 (std.gaj_czrk) | 罗庄区3号 (std.swjt_yhda) |
| ID_B | mobile | 13900000009 (std.swjt_yhda, newer) | 13800000002 (std.gaj_czrk) |

ID_C sorts first and involves no police table, so a police view limited to one conflict must
skip it (the department filter applies before the limit).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
from conftest import City, make_city, make_users
from sqlalchemy.orm import Session

from datapolis.baselib import service as baselib
from datapolis.baselib.libraries import PERSON
from datapolis.catalog.standards import seed_standards
from datapolis.orgs import service as orgs
from datapolis.orgs.models import OrgKind
from datapolis.registry.db import Registry
from datapolis.standardise import build as std_build
from datapolis.standardise.spec import load_specs
from datapolis.warehouse import DuckDBEngine

ID_A, ID_B, ID_C = "37010219800101004X", "370102199002020030", "370102195001010011"
OLD, NEW = dt.datetime(2025, 1, 1), dt.datetime(2026, 1, 1)
SPECS = {
    "gaj_czrk": {"target": "gaj_czrk", "sources": ["ods_371300_gaj.czrk"], "pk": "ryid",
                 "columns": {"xm": ["remove_spaces"], "xb": [{"code": "sex"}]}},
    "swjt_yhda": {"target": "swjt_yhda", "sources": ["ods_371300_swjt.yhda"], "pk": "hh",
                  "columns": {"ysdz": ["halfwidth"]}},
    "jyj_xlxx": {"target": "jyj_xlxx", "sources": ["ods_371300_jyj.xlxx"], "pk": "xlid",
                 "columns": {"xm": ["trim"]}},
}


def make_departments(session: Session, city: City) -> None:
    for code, name in (("371300_swjt", "临沂市水务集团"), ("371300_jyj", "临沂市教育局")):
        orgs.create_organisation(session, code=code, name=name,
                                 kind=OrgKind.DEPARTMENT, division_code="371300",
                                 parent=city.city)


def write_specs(home: Path) -> None:
    folder = home / "standardise"
    folder.mkdir(parents=True, exist_ok=True)
    for name, spec in SPECS.items():
        (folder / f"{name}.json").write_text(json.dumps(spec, ensure_ascii=False),
                                             encoding="utf-8")


def land(warehouse: DuckDBEngine) -> None:
    for schema in ("ods_371300_gaj", "ods_371300_swjt", "ods_371300_jyj"):
        warehouse.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    warehouse.write("ods_371300_gaj.czrk", pa.table({
        "ryid": [1, 2], "gmsfhm": [ID_A, ID_B], "xm": ["张　伟", "李娜"], "xb": ["男", "女"],
        "csrq": [dt.date(1980, 1, 1), dt.date(1990, 2, 2)], "mz": ["01", "01"],
        "hjdz": ["兰山区1号", "河东区2号"], "lxdh": ["13800000001", "13800000002"],
        "gxsj": [OLD, OLD]}), mode="replace")
    warehouse.write("ods_371300_swjt.yhda", pa.table({
        "hh": ["w1", "w2", "w3"], "zjhm": [ID_A, ID_B, ID_C], "hm": ["张伟", "李娜", "王方"],
        "lxdh": ["13800000001", "13900000009", None], "ysdz": ["罗庄区３号", "河东区2号", None],
        "gxsj": [NEW, NEW, NEW], "zjlx": ["居民身份证"] * 3}), mode="replace")
    warehouse.write("ods_371300_jyj.xlxx", pa.table({
        "xlid": [7], "sfzh": [ID_C], "xm": ["王芳"], "xb": ["2"],
        "csrq": [dt.date(1950, 1, 1)], "gxsj": [OLD]}), mode="replace")


def build_city(registry: Registry, warehouse: DuckDBEngine, home: Path) -> None:
    """Organisations (police has a user of every role), ods, std and base.person."""
    with registry.session() as session:
        made = make_city(session)
        make_users(session, made)
        seed_standards(session)
        make_departments(session, made)
        codes = std_build.load_code_tables(session)
    write_specs(home)
    land(warehouse)
    for spec in load_specs(home).values():
        if spec.target in SPECS:
            std_build.build(registry, warehouse, spec, trigger="test", code_tables=codes)
    baselib.build(registry, warehouse, PERSON, trigger="test")
