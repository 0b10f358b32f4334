"""GATEWAY fixtures: CORE's small city, a real warehouse table behind its population resource,
a grant to the county police's app (its county's rows only) and the running app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from conftest import TEST_SECRET_KEY
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from datapolis.catalog import service as catalog_service
from datapolis.orgs.models import ApiApp
from datapolis.registry.db import Registry
from datapolis.security.crypto import Keyring
from datapolis.sharing.gateway import client as signing
from datapolis.sharing.gateway import credentials
from datapolis.sharing.grants import service as grants
from datapolis.sharing.grants.models import Grant
from datapolis.warehouse import DuckDBEngine
from tests.sharing.core.world import World

ROWS = 60
GRANTED = ["gmsfhm", "xm", "xb", "csrq", "xzqh_dm"]


def person(n: int) -> dict[str, Any]:
    county = "371302" if n % 2 == 0 else "371311"
    return {"gmsfhm": f"{county}1980{n:08d}", "xm": f"张{n:03d}", "xb": str(n // 2 % 2 + 1),
            "csrq": date(1960, 1, 1) + timedelta(days=400 * n), "xzqh_dm": county,
            "zjxy": "无", "bz": "备注"}


def fill_warehouse(engine: DuckDBEngine) -> None:
    engine.execute("CREATE SCHEMA IF NOT EXISTS ods_371300_gaj")
    engine.execute("CREATE TABLE ods_371300_gaj.czrk (gmsfhm VARCHAR, xm VARCHAR, xb VARCHAR, "
                   "csrq DATE, xzqh_dm VARCHAR, zjxy VARCHAR, bz VARCHAR)")
    for n in range(ROWS):
        row = person(n)
        engine.execute("INSERT INTO ods_371300_gaj.czrk VALUES (?, ?, ?, ?, ?, ?, ?)",
                       list(row.values()))


@dataclass
class Gateway:
    world: World
    client: TestClient
    app_key: str  # the county police's app, granted the resource for its county
    secret: str
    other_key: str  # the city's app: no grant on the resource
    other_secret: str
    grant_code: str
    engine: DuckDBEngine

    @property
    def resource(self) -> str:
        return self.world.resource

    def signed(self, method: str, url: str, *, body: bytes = b"", key: str | None = None,
               secret: str | None = None, **options: Any) -> dict[str, str]:
        return signing.sign(method, url, app_key=key or self.app_key,
                            secret=secret or self.secret, body=body, **options)

    def get(self, url: str, **options: Any) -> Any:
        return self.client.get(url, headers=self.signed("GET", url, **options))

    def post(self, url: str, body: bytes, **options: Any) -> Any:
        headers = {**self.signed("POST", url, body=body, **options),
                   "Content-Type": "application/json"}
        return self.client.post(url, content=body, headers=headers)


def grant(session: Session, world: World, app_id: int, **options: Any) -> Grant:
    entry = catalog_service.get_entry(session, world.resource)
    app = session.get(ApiApp, app_id)
    assert app is not None
    options.setdefault("row_scope", 'xzqh_dm = "371302"')
    return grants.create_grant(session, entry=entry, consumer=app.org, app=app,
                               columns=options.pop("columns", GRANTED), actor="org_admin",
                               **options)


def issue(registry: Registry, app_id: int, algorithm: str = "hmac-sm3") -> tuple[str, str]:
    with registry.session() as session:
        app = session.get(ApiApp, app_id)
        assert app is not None
        issued = credentials.issue(session, Keyring.from_secret(TEST_SECRET_KEY), app=app,
                                   algorithm=algorithm)
        return issued.app_key, issued.secret
