"""Call statistics for publication: read from the hourly rollup, so no app, no client address
and no parameters are ever in reach; organisations only at the level the bureau chooses
(`none`, `county`: the county or the city the organisation belongs to, `org`: the
organisation itself); times rounded to the hour or the city day."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datapolis.errors import UserError
from datapolis.orgs.models import Organisation, OrgKind
from datapolis.security.audit.service import record
from datapolis.sharing.monitoring.models import CallHour
from datapolis.sharing.monitoring.stats import bucket_start
from datapolis.web.render import SHOWN_ZONE

OrgLevel = Literal["none", "county", "org"]
ORG_LEVELS: tuple[OrgLevel, ...] = ("none", "county", "org")
FORMATS = ("csv", "json")
COLUMNS = ("period_start", "interval", "provider", "consumer", "resource_code", "interface",
           "calls", "refused", "failed", "rows", "bytes", "avg_latency_ms")
MAX_DAYS = 366


@dataclass(frozen=True)
class Request:
    start: date  # city days, inclusive
    end: date
    interval: Literal["hour", "day"] = "day"
    org_level: OrgLevel = "county"
    format: str = "csv"

    def check(self) -> None:
        if self.interval not in ("hour", "day"):
            raise UserError(f"unknown interval {self.interval!r}; hour or day")
        if self.org_level not in ORG_LEVELS:
            raise UserError(f"unknown organisation level {self.org_level!r}; "
                            f"one of {', '.join(ORG_LEVELS)}")
        if self.format not in FORMATS:
            raise UserError(f"unknown format {self.format!r}; csv or json")
        if self.end < self.start:
            raise UserError("the end date is before the start date")
        if (self.end - self.start).days >= MAX_DAYS:
            raise UserError(f"at most {MAX_DAYS} days per export")


def _level_names(session: Session, level: OrgLevel) -> dict[int, str]:
    orgs = {o.id: o for o in session.scalars(select(Organisation))}

    def shown(org: Organisation) -> str:
        if level == "org":
            return org.name
        walk: Organisation | None = org
        while walk is not None and walk.kind not in (OrgKind.COUNTY, OrgKind.CITY):
            walk = orgs.get(walk.parent_id) if walk.parent_id is not None else None
        return walk.name if walk is not None else org.name

    return {} if level == "none" else {i: shown(o) for i, o in orgs.items()}


def statistics(session: Session, request: Request) -> list[dict[str, Any]]:
    request.check()
    start = datetime.combine(request.start, time(), SHOWN_ZONE)
    end = datetime.combine(request.end + timedelta(days=1), time(), SHOWN_ZONE)
    names = _level_names(session, request.org_level)
    keys = (CallHour.hour, CallHour.provider_org_id, CallHour.consumer_org_id,
            CallHour.resource_code, CallHour.interface)
    query = (select(*keys, func.sum(CallHour.calls), func.sum(CallHour.refused),
                    func.sum(CallHour.failed), func.sum(CallHour.rows), func.sum(CallHour.bytes),
                    func.sum(CallHour.latency_sum))
             .where(CallHour.hour >= start, CallHour.hour < end).group_by(*keys))
    totals: dict[tuple[Any, ...], list[float]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0.0])
    for hour, provider, consumer, resource, interface, *sums in session.execute(query):
        period = bucket_start(hour, request.interval)
        key = (period, names.get(provider, "") if provider is not None else "",
               names.get(consumer, "") if consumer is not None else "", resource or "",
               interface)
        for i, value in enumerate(sums):
            totals[key][i] += value or 0
    out = []
    for (period, provider, consumer, resource, interface), sums in sorted(totals.items()):
        calls = int(sums[0])
        row: dict[str, Any] = {
            "period_start": period.isoformat(timespec="minutes"), "interval": request.interval,
            "provider": provider, "consumer": consumer, "resource_code": resource,
            "interface": interface, "calls": calls, "refused": int(sums[1]),
            "failed": int(sums[2]), "rows": int(sums[3]), "bytes": int(sums[4]),
            "avg_latency_ms": round(sums[5] / calls, 1) if calls else None}
        if request.org_level == "none":
            del row["provider"], row["consumer"]
        out.append(row)
    return out


def render(rows: list[dict[str, Any]], request: Request) -> str:
    if request.format == "json":
        return json.dumps({"interval": request.interval, "org_level": request.org_level,
                           "from": request.start.isoformat(), "to": request.end.isoformat(),
                           "time_zone": "Asia/Shanghai", "rows": rows},
                          ensure_ascii=False, indent=1)
    columns = [c for c in COLUMNS if request.org_level != "none"
               or c not in ("provider", "consumer")]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def export(session: Session, request: Request) -> str:
    """The statistics as CSV or JSON text; the export is audited."""
    rows = statistics(session, request)
    record(session, kind="export.sharing_stats", details={
        "format": request.format, "interval": request.interval, "org_level": request.org_level,
        "from": request.start.isoformat(), "to": request.end.isoformat(), "rows": len(rows)})
    return render(rows, request)
