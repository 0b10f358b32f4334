"""A sharing world: one provider's table, a published resource, a consumer app with a signing
secret and a grant. Built with the product's own service functions, as a bureau would set it up.

Tests populate a fixture registry with it; bench/share_load.py builds a fresh home (registry +
DuckDB warehouse) and starts `datapolis serve` on it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from datapolis.catalog import service as catalog_service
from datapolis.catalog import standards
from datapolis.catalog.lifecycle import Action
from datapolis.catalog.schemas import EntryCreate, ItemInput
from datapolis.catalog.versions import Actor
from datapolis.config import Settings
from datapolis.orgs import service as orgs
from datapolis.orgs.models import OrgKind
from datapolis.registry import migrate
from datapolis.registry.db import Registry, open_registry
from datapolis.security.crypto import Keyring
from datapolis.security.grading import scheme
from datapolis.security.grading import service as grading
from datapolis.sharing.gateway import credentials
from datapolis.sharing.grants.service import Limits, create_grant
from datapolis.warehouse import DuckDBEngine, Engine

SECRET_KEY = "bench-share-secret-key-0123456789abcdefghij"
TABLE = "ods_371300_gaj.czrk_bench"
# (item name, column, length, grade): the key first, as base libraries have it.
ITEMS = [("业务流水号", "lsh", 20, "L1"), ("性别", "xb", 1, "L1"), ("出生日期", "csrq", 10, "L2"),
         ("区县代码", "xzqh_dm", 6, "L1"), ("姓名", "xm", 30, "L3")]


@dataclass(frozen=True)
class World:
    home: Path
    database_url: str
    resource_code: str
    app_key: str
    secret: str
    rows: int

    def key(self, n: int) -> str:
        return f"LSH{n % self.rows:012d}"

    def environment(self, port: int, **extra: str) -> dict[str, str]:
        """The environment `datapolis serve` runs with on this home."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DATAPOLIS_")}
        env.update({"DATAPOLIS_ENV": "test", "DATAPOLIS_HOME": str(self.home),
                    "DATAPOLIS_DATABASE_URL": self.database_url,
                    "DATAPOLIS_SECRET_KEY": SECRET_KEY, "DATAPOLIS_SCHEDULER": "false",
                    "DATAPOLIS_SHARING_MONITOR_SECONDS": "0", "DATAPOLIS_PORT": str(port),
                    **extra})
        return env


def populate(registry: Registry, warehouse: Engine, *, rows: int) -> tuple[str, str, str]:
    """The table (`rows` rows), the resource, the app and the grant; returns the resource
    code, the app key and its signing secret."""
    warehouse.execute("CREATE SCHEMA IF NOT EXISTS ods_371300_gaj")
    warehouse.execute(
        f"CREATE OR REPLACE TABLE {TABLE} AS SELECT "
        "printf('LSH%012d', i) AS lsh, CASE WHEN i % 2 = 0 THEN '1' ELSE '2' END AS xb, "
        "strftime(DATE '1950-01-01' + CAST(i % 20000 AS INTEGER), '%Y-%m-%d') AS csrq, "
        "'37130' || CAST(2 + i % 8 AS VARCHAR) AS xzqh_dm, '测试' || CAST(i AS VARCHAR) AS xm "
        f"FROM range({int(rows)}) t(i)")
    with registry.session() as session:
        standards.seed_standards(session)
        scheme.seed_default(session)
        city = orgs.create_organisation(session, code="371300", name="临沂市",
                                        kind=OrgKind.CITY, division_code="371300")
        provider = orgs.create_organisation(
            session, code="371300_gaj", name="临沂市公安局", kind=OrgKind.DEPARTMENT,
            division_code="371300", parent=city)
        consumer = orgs.create_organisation(
            session, code="371300_rsj", name="临沂市人力资源和社会保障局",
            kind=OrgKind.DEPARTMENT, division_code="371300", parent=city)
        data = EntryCreate.model_validate({
            "name": "人口业务流水（压测）", "catalog_type": "basic_population",
            "heading": "901", "summary": "压测用的人口业务流水。",
            "share_type": "conditional", "share_conditions": "用于政务服务身份核验",
            "share_methods": ["interface"], "update_cycle": "daily",
            "warehouse_table": TABLE, "tags": ["压测"],
            "items": [ItemInput(name=n, column_name=c, length=length)
                      for n, c, length, _ in ITEMS]})
        entry = catalog_service.create_entry(session, data=data, provider=provider,
                                             actor=Actor("bench"))
        grading.confirm(session, entry, {n: g for n, _, _, g in ITEMS}, Actor("bench"))
        for action in (Action.SUBMIT, Action.APPROVE, Action.PUBLISH):
            catalog_service.transition(session, entry=entry, action=action,
                                       actor=Actor("bench"))
        app = orgs.create_app(session, org=consumer, name="社保待遇资格认证系统").app
        issued = credentials.issue(session, Keyring.from_secret(SECRET_KEY), app=app)
        create_grant(session, entry=entry, consumer=consumer, app=app,
                     columns=[c for _, c, _, _ in ITEMS], limits=Limits(), actor="bench")
        return entry.resource_code, issued.app_key, issued.secret


def build(home: Path, database_url: str, *, rows: int = 100_000) -> World:
    """A fresh home: the registry migrated and populated, the warehouse file written."""
    settings = Settings(env="test", home=home, database_url=database_url,
                        secret_key=SECRET_KEY)
    registry = open_registry(settings.registry_url)
    warehouse = DuckDBEngine(settings.warehouse_file)
    try:
        migrate.upgrade(registry)
        resource_code, app_key, secret = populate(registry, warehouse, rows=rows)
    finally:
        warehouse.close()
        registry.close()
    return World(home=home, database_url=settings.registry_url, resource_code=resource_code,
                 app_key=app_key, secret=secret, rows=rows)
