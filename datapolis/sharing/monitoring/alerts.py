"""Alerts on the sharing interfaces, evaluated from the call records and the rollup.

Four kinds, each keyed so that re-evaluating a window updates its alert instead of adding one:
- `no_grant`: calls refused because no live grant covers them (or asked beyond it), per caller,
  resource, error code and hour;
- `quota`: calls refused for a quota or the rate limit, per caller, resource, code and hour;
- `spike`: a caller's calls in the last hour above `factor` × its hourly median over the past
  7 days (hours in which it called at all), and at least `min_calls`; per caller and hour;
- `off_hours_bulk`: bulk deliveries, or calls returning `bulk_rows` rows or more, outside the
  working hours (Asia/Shanghai, Monday to Friday); per caller, resource and city day.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from datapolis.config import Settings
from datapolis.errors import Conflict, NotFound, UserError
from datapolis.registry.base import utcnow
from datapolis.security.audit.service import record
from datapolis.sharing.monitoring import queries
from datapolis.sharing.monitoring.models import Alert, CallHour
from datapolis.sharing.monitoring.rollup import HOUR, floor_hour
from datapolis.web.render import SHOWN_ZONE

NO_GRANT_CODES = ("no_grant", "grant_expired", "grant_revoked", "item_not_granted",
                  "filter_not_allowed", "row_scope")
QUOTA_CODES = ("quota_calls", "quota_rows", "rate_limited")
BULK_INTERFACES = ("bulk", "bulk_download")
KINDS = ("no_grant", "quota", "spike", "off_hours_bulk")
SEVERITY = {"no_grant": "critical", "quota": "warning", "spike": "warning",
            "off_hours_bulk": "critical"}
BASELINE_DAYS = 7
MAX_COMMENT = 1000


@dataclass(frozen=True)
class Rules:
    spike_factor: float = 3.0
    spike_min_calls: int = 100
    work_start: time = time(8, 0)
    work_end: time = time(18, 0)
    bulk_rows: int = 10_000

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        start, _, end = settings.sharing_working_hours.partition("-")
        return cls(spike_factor=settings.sharing_spike_factor,
                   spike_min_calls=settings.sharing_spike_min_calls,
                   work_start=_clock(start), work_end=_clock(end),
                   bulk_rows=settings.sharing_bulk_rows)

    def off_hours(self, moment: datetime) -> bool:
        local = moment.astimezone(SHOWN_ZONE)
        if local.weekday() >= 5:
            return True
        return not (self.work_start <= local.time().replace(tzinfo=None) < self.work_end)


def _clock(text: str) -> time:
    hours, minutes = (int(part) for part in text.split(":"))
    return time(23, 59, 59, 999999) if hours == 24 else time(hours, minutes)


def _upsert(session: Session, key: str, now: datetime, **fields: Any) -> Alert:
    alert = session.scalar(select(Alert).where(Alert.key == key))
    if alert is None:
        alert = Alert(key=key, severity=SEVERITY[fields["kind"]], first_seen_at=now,
                      details={}, **fields)
        session.add(alert)
    else:
        for name, value in fields.items():
            setattr(alert, name, value)
    alert.last_seen_at = now
    return alert


def _refused(session: Session, kind: str, codes: Sequence[str], since: datetime, now: datetime
             ) -> list[Alert]:
    touched = []
    hour = floor_hour(since)
    while hour <= now:
        for g in queries.refused(session, start=hour, end=hour + HOUR, codes=codes):
            key = (f"{kind}:{g.app_id}:{g.consumer_org_id}:{g.resource_code}:{g.error_code}:"
                   f"{hour:%Y%m%d%H}")
            touched.append(_upsert(
                session, key, now, kind=kind, consumer_org_id=g.consumer_org_id,
                provider_org_id=g.provider_org_id, app_id=g.app_id,
                resource_code=g.resource_code, error_code=g.error_code, window_start=g.first_at,
                window_end=g.last_at, calls=g.calls, rows=0, observed=None, baseline=None))
        hour += HOUR
    return touched


def _off_hours(session: Session, rules: Rules, since: datetime, now: datetime) -> list[Alert]:
    groups: dict[tuple[Any, ...], list[queries.BulkCall]] = defaultdict(list)
    for call in queries.bulk_calls(session, start=floor_hour(since), end=now + HOUR,
                                   min_rows=rules.bulk_rows, interfaces=BULK_INTERFACES):
        if rules.off_hours(call.request_at):
            day = call.request_at.astimezone(SHOWN_ZONE).date()
            groups[(call.app_id, call.consumer_org_id, call.provider_org_id,
                    call.resource_code, day)].append(call)
    touched = []
    for (app, consumer, provider, resource, day), found in groups.items():
        key = f"off_hours_bulk:{app}:{consumer}:{resource}:{day:%Y%m%d}"
        alert = _upsert(session, key, now, kind="off_hours_bulk", consumer_org_id=consumer,
                        provider_org_id=provider, app_id=app, resource_code=resource,
                        error_code=None, window_start=found[0].request_at,
                        window_end=found[-1].request_at, calls=len(found),
                        rows=sum(c.rows for c in found), observed=None, baseline=None)
        alert.details = {"interfaces": sorted({c.interface for c in found}),
                         "working_hours": f"{rules.work_start:%H:%M}-{rules.work_end:%H:%M}"}
        touched.append(alert)
    return touched


def baselines(session: Session, *, before: datetime) -> dict[int, float]:
    """Each app's median calls per hour over the BASELINE_DAYS before `before`, counting the
    hours it called at all (a caller idle at night is not judged by its nights)."""
    per_hour = (select(CallHour.app_id, CallHour.hour, func.sum(CallHour.calls))
                .where(CallHour.hour >= before - timedelta(days=BASELINE_DAYS),
                       CallHour.hour < before, CallHour.app_id.is_not(None))
                .group_by(CallHour.app_id, CallHour.hour))
    counts: dict[int, list[int]] = defaultdict(list)
    for app, _hour, calls in session.execute(per_hour):
        if app is not None:
            counts[int(app)].append(int(calls))
    return {app: float(statistics.median(values)) for app, values in counts.items()}


def _spikes(session: Session, rules: Rules, now: datetime) -> list[Alert]:
    start = now - HOUR
    normal = baselines(session, before=floor_hour(start))
    touched = []
    for app, consumer, calls in queries.calls_per_app(session, start=start, end=now):
        median = normal.get(app, 0.0)
        threshold = max(rules.spike_factor * median, float(rules.spike_min_calls))
        if calls < threshold:
            continue
        key = f"spike:{app}:{floor_hour(now):%Y%m%d%H}"
        existing = session.scalar(select(Alert).where(Alert.key == key))
        if existing is not None and (existing.observed or 0) >= calls:
            continue
        alert = _upsert(session, key, now, kind="spike", consumer_org_id=consumer,
                        provider_org_id=None, app_id=app, resource_code=None, error_code=None,
                        window_start=start, window_end=now, calls=calls, rows=0,
                        observed=float(calls), baseline=median)
        alert.details = {"factor": rules.spike_factor, "threshold": threshold,
                         "baseline_days": BASELINE_DAYS}
        touched.append(alert)
    return touched


def evaluate(session: Session, rules: Rules, *, since: datetime, now: datetime | None = None,
             spikes: bool = True) -> list[Alert]:
    """Raise or update the alerts for calls from `since` (its hour) to `now`; returns them.
    `spikes=False` while the rollup is still catching up: baselines would be missing."""
    now = now or utcnow()
    touched = _refused(session, "no_grant", NO_GRANT_CODES, since, now)
    touched += _refused(session, "quota", QUOTA_CODES, since, now)
    touched += _off_hours(session, rules, since, now)
    if spikes:
        touched += _spikes(session, rules, now)
    session.flush()
    return touched


def list_alerts(session: Session, *, org_id: int | None = None, kind: str | None = None,
                state: str = "open", limit: int = 500) -> list[Alert]:
    if kind is not None and kind not in KINDS:
        raise UserError(f"unknown alert kind {kind!r}; one of {', '.join(KINDS)}")
    if state not in ("open", "acknowledged", "all"):
        raise UserError(f"unknown alert state {state!r}; one of open, acknowledged, all")
    query = select(Alert).order_by(Alert.last_seen_at.desc(), Alert.id.desc()).limit(limit)
    if org_id is not None:
        query = query.where(or_(Alert.consumer_org_id == org_id,
                                Alert.provider_org_id == org_id))
    if kind is not None:
        query = query.where(Alert.kind == kind)
    if state == "open":
        query = query.where(Alert.acknowledged_at.is_(None))
    elif state == "acknowledged":
        query = query.where(Alert.acknowledged_at.is_not(None))
    return list(session.scalars(query))


def get_alert(session: Session, alert_id: int, *, org_id: int | None = None) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None or (org_id is not None
                         and org_id not in (alert.consumer_org_id, alert.provider_org_id)):
        raise NotFound(f"no alert {alert_id}")
    return alert


def acknowledge(session: Session, alert: Alert, *, actor: str, comment: str) -> Alert:
    """Mark an alert as seen and dealt with; the comment says how. Audited."""
    comment = comment.strip()
    if not comment:
        raise UserError("an acknowledgement needs a comment saying what was done")
    if len(comment) > MAX_COMMENT:
        raise UserError(f"the comment is longer than {MAX_COMMENT} characters")
    if alert.acknowledged_at is not None:
        raise Conflict(f"alert {alert.id} was already acknowledged by {alert.acknowledged_by}")
    alert.acknowledged_at, alert.acknowledged_by, alert.ack_comment = utcnow(), actor, comment
    record(session, kind="sharing.alert.acknowledged", details={
        "alert": alert.id, "kind": alert.kind, "key": alert.key,
        "resource": alert.resource_code, "comment": comment})
    session.flush()
    return alert
