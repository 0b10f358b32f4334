"""A small world for the rectification loop: the test city, one table per department in the
warehouse (no highway needed: the service checks tables directly), and rules on them."""

from __future__ import annotations

from conftest import make_city

from datapolis.catalog import standards
from datapolis.quality import service
from datapolis.quality.schemas import RuleIn
from datapolis.registry.db import Registry
from datapolis.warehouse import DuckDBEngine, ensure_layers

CITY_TABLE = "ods_371300_gaj.rk"  # provided by 临沂市公安局 (city level)
COUNTY_TABLE = "ods_371302_gaj.rk"  # provided by 兰山区公安分局 (兰山区)


def load(warehouse: DuckDBEngine, table: str, phones: list[str]) -> None:
    warehouse.execute(f"CREATE OR REPLACE TABLE {table} (id INTEGER, sjhm VARCHAR, xm VARCHAR)")
    for i, phone in enumerate(phones):
        warehouse.execute(f"INSERT INTO {table} VALUES ($id, $phone, $name)",
                          {"id": i, "phone": phone, "name": f"name{i}"})


GOOD, BAD = "13800000000", "123"


def build(registry: Registry, warehouse: DuckDBEngine, *, city: bool = True) -> dict[str, int]:
    """Both tables with 10 rows (city: 3 bad phones, county: 1); rules per table: mobile
    (error), not_null on xm (info). Returns the rule ids by table (the mobile rule).
    `city=False`: the test city exists already (the app fixtures made it)."""
    if city:
        with registry.session() as session:
            standards.seed_standards(session)
            make_city(session)
    ensure_layers(warehouse, ["371300_gaj", "371302_gaj"])
    load(warehouse, CITY_TABLE, [BAD] * 3 + [GOOD] * 7)
    load(warehouse, COUNTY_TABLE, [BAD] + [GOOD] * 9)
    ids = {}
    with registry.session() as session:
        for table in (CITY_TABLE, COUNTY_TABLE):
            rule = service.create_rule(session, table, RuleIn(
                kind="mobile", columns=["sjhm"], severity="error"), actor="t", admin=True)
            service.create_rule(session, table, RuleIn(
                kind="not_null", columns=["xm"], severity="info"), actor="t", admin=True)
            ids[table] = rule.id
    return ids
