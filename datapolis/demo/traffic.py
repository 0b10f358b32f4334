"""Demo call traffic on the sharing interfaces, so monitoring has something to show.

Two parts, both through the product:
- live: signed calls through the real gateway (the app in-process, HMAC-SM3 like any caller),
  for every live grant: key lookups, filtered queries, a few refusals (bad signature, a resource
  the app holds no grant on, a key that is not there). Their records are the gateway's own.
- history: the two weeks before, as call records submitted to the same Meter the gateway uses:
  office-hours weighted, an interface mix, latencies by interface, some refusals and one
  off-hours bulk pull, for the charts, the stability table and the alerts' baselines.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from datapolis.catalog.models import CatalogEntry
from datapolis.config import Settings
from datapolis.orgs.models import ApiApp
from datapolis.registry.db import Registry
from datapolis.security.crypto import Keyring
from datapolis.sharing.gateway import credentials
from datapolis.sharing.gateway.client import sign
from datapolis.sharing.gateway.interfaces import key_column
from datapolis.sharing.grants import service as grants
from datapolis.sharing.metering import Call, Meter, params_hash
from datapolis.sharing.metering.limits import QUOTA_ZONE
from datapolis.sharing.metering.queries import CallFilter, count_calls
from datapolis.warehouse import Engine
from datapolis.warehouse.engine import TableName, quote_identifier

# interface: (share of calls, median latency ms, rows returned (low, high))
MIX = {"lookup": (0.62, 18.0, (1, 1)), "query": (0.25, 45.0, (5, 200)),
       "batch": (0.10, 80.0, (20, 500)), "openapi": (0.03, 6.0, (0, 0))}
REFUSALS = [(404, "not_found", 0.05), (429, "rate_limited", 0.01), (429, "quota_calls", 0.005),
            (401, "bad_signature", 0.005), (403, "item_not_granted", 0.005)]


@dataclass(frozen=True)
class Target:
    """One live grant the demo calls under, with what it needs to sign and to ask."""

    grant_id: int
    resource_code: str
    provider_org_id: int
    consumer_org_id: int
    app_id: int
    app_key: str
    secret: str
    key: str  # the key column
    keys: tuple[str, ...]  # a few keys the table holds
    column: str  # a granted column to filter on


@dataclass
class Traffic:
    grants: int = 0
    live: int = 0
    history: int = 0
    statuses: dict[int, int] | None = None
    existing: int = 0  # records already there: a second run adds none


def targets(session: Session, warehouse: Engine, keyring: Keyring, now: datetime
            ) -> list[Target]:
    """Every live grant with keys to ask for; an app without a signing secret is issued one."""
    found = []
    for grant in grants.list_grants(session):
        if grants.status(grant, now) != "active":
            continue
        entry = session.get(CatalogEntry, grant.entry_id)
        app = session.get(ApiApp, grant.app_id)
        if entry is None or app is None or not entry.warehouse_table or not grant.items:
            continue
        secret = _secret(session, keyring, app)
        key = key_column(entry)
        table = TableName.parse(entry.warehouse_table)
        rows = warehouse.query(
            f"SELECT CAST({quote_identifier(key)} AS VARCHAR) AS k FROM {table.sql} "  # noqa: S608
            f"WHERE {quote_identifier(key)} IS NOT NULL LIMIT 8").column("k").to_pylist()
        if not rows:
            continue
        column = next((i.column for i in grant.items if i.method == "keep"), grant.items[0].column)
        found.append(Target(grant.id, entry.resource_code, grant.provider_org_id,
                            grant.consumer_org_id, app.id, app.app_key, secret, key,
                            tuple(rows), column))
    return found


def _secret(session: Session, keyring: Keyring, app: ApiApp) -> str:
    state = credentials.app_state(session, app.app_key)
    if state is not None and state.sealed is not None:
        return credentials.unseal(keyring, app.app_key, state.sealed)
    return credentials.issue(session, keyring, app=app).secret


def live_calls(client: TestClient, goals: list[Target], rng: random.Random, *, per_grant: int,
               granted: set[tuple[int, str]]) -> dict[int, int]:
    """Signed calls through the gateway; returns how many answers had each status."""
    statuses: dict[int, int] = {}

    def call(target: Target, path: str, *, tamper: bool = False) -> None:
        headers = sign("GET", path, app_key=target.app_key, secret=target.secret)
        if tamper:
            headers["X-Dp-Signature"] = "0" * 64
        status = client.get(path, headers=headers).status_code
        statuses[status] = statuses.get(status, 0) + 1

    for target in goals:
        code = quote(target.resource_code, safe="")
        for n in range(per_grant):
            key = rng.choice(target.keys)
            if n % 4 == 3:
                call(target, f"/share/v1/{code}/records?{urlencode({'limit': '10'})}")
            else:
                call(target, f"/share/v1/{code}/records/{quote(key, safe='')}")
        call(target, f"/share/v1/{code}/records/{quote('NO-SUCH-KEY', safe='')}")
        call(target, f"/share/v1/{code}/records/{quote(target.keys[0], safe='')}", tamper=True)
        call(target, f"/share/v1/{code}/openapi.json")
    # An app asking for a resource it holds no grant on: refused as no_grant.
    resources = sorted({resource for _app, resource in granted})
    for target in goals[:3]:
        other = next((r for r in resources if (target.app_id, r) not in granted), None)
        if other is not None:
            call(target, f"/share/v1/{quote(other, safe='')}/records/x")
    return statuses


def history(meter: Meter, goals: list[Target], rng: random.Random, *, calls: int, days: int,
            now: datetime) -> int:
    """Back-dated records of the `days` before the last hour: office hours weigh most."""
    if not goals:
        return 0
    start = now - timedelta(days=days)
    weights = [rng.uniform(0.5, 3.0) for _ in goals]  # some consumers call far more
    made = 0
    while made < calls:
        moment = start + timedelta(seconds=rng.uniform(0, (days * 24 - 1) * 3600))
        local = moment.astimezone(QUOTA_ZONE)
        busy = local.weekday() < 5 and 8 <= local.hour < 18
        if not busy and rng.random() > 0.12:
            continue
        target = rng.choices(goals, weights)[0]
        meter.submit(_record(target, moment, rng))
        made += 1
    # One bulk pull at night, for the off-hours alert.
    night = (now - timedelta(days=2)).astimezone(QUOTA_ZONE).replace(hour=2, minute=17)
    meter.submit(_record(goals[0], night.astimezone(UTC), rng, interface="query",
                         rows=50_000))
    return made + 1


def _record(target: Target, moment: datetime, rng: random.Random, *,
            interface: str | None = None, rows: int | None = None) -> Call:
    kind = interface or rng.choices(list(MIX), [m[0] for m in MIX.values()])[0]
    _share, median, (low, high) = MIX[kind]
    latency = median * math.exp(rng.gauss(0, 0.6)) * (1 + (rows or 0) / 2000)
    status, error = 200, None
    draw = rng.random()
    for code, name, share in REFUSALS:
        if draw < share:
            status, error = code, name
            break
        draw -= share
    returned = rows if rows is not None else (rng.randint(low, high) if status == 200 else 0)
    return Call(
        request_at=moment, response_at=moment + timedelta(milliseconds=latency),
        consumer_org_id=target.consumer_org_id, app_id=target.app_id,
        provider_org_id=target.provider_org_id, resource_code=target.resource_code,
        grant_id=target.grant_id, interface=kind,
        params_hash=params_hash({"key": rng.choice(target.keys), "n": rng.random()}),
        rows=returned, bytes=returned * 180 + 60, status=status, error_code=error,
        latency_ms=round(latency, 2), client_ip=f"10.{target.consumer_org_id % 250}.0."
        f"{10 + target.app_id % 200}")


def generate(settings: Settings, registry: Registry, warehouse: Engine, *, history_calls: int = 400,
             live_per_grant: int = 12, days: int = 14, seed: int = 20240601) -> Traffic:
    """Live calls through the gateway and two weeks of history, through one in-process app."""
    from datapolis.web.app import create_app  # the assembly; only the demo needs it here

    rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
    now = datetime.now(UTC)
    with registry.session() as session:
        existing = count_calls(session, CallFilter())
        if existing:
            return Traffic(existing=existing)
        goals = targets(session, warehouse, Keyring.from_secret(settings.secret_key), now)
        granted = {(g.app_id, entry.resource_code) for g in grants.list_grants(session)
                   if (entry := session.get(CatalogEntry, g.entry_id)) is not None}
    traffic = Traffic(grants=len(goals))
    if not goals:
        return traffic
    quiet = settings.model_copy(update={"scheduler": False, "sharing_monitor_seconds": 0})
    app = create_app(quiet, registry, warehouse)
    with TestClient(app, base_url="https://demo.invalid") as client:
        traffic.statuses = live_calls(client, goals, rng, per_grant=live_per_grant,
                                      granted=granted)
        traffic.live = sum(traffic.statuses.values())
        traffic.history = history(app.state.meter, goals, rng, calls=history_calls, days=days,
                                  now=now - timedelta(hours=1))
    return traffic  # leaving the client stopped the app: the meter flushed every record
