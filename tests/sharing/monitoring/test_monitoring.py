"""The rollup, the statistics over it, the four alert kinds with acknowledgement, and the
publishable export, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from datapolis.errors import Conflict, UserError
from datapolis.registry.db import Registry
from datapolis.security.audit.models import AuditEvent
from datapolis.security.audit.service import act_as
from datapolis.sharing.monitoring import alerts, publish, rollup, stats
from datapolis.sharing.monitoring.models import Alert
from datapolis.sharing.monitoring.monitor import run_once
from tests.conftest import make_city
from tests.sharing.monitoring.world import RESOURCE, add_calls, at_city, make_callers

RULES = alerts.Rules(spike_factor=3.0, spike_min_calls=20, bulk_rows=1000)
# Wednesday 2026-11-25, 10:30 in the city.
NOW = at_city(2026, 11, 25, 10, 30)


def test_rollup_feeds_volume_tops_flows_latency_and_stability(registry: Registry) -> None:
    with registry.session() as session:
        city = make_city(session)
        callers = make_callers(session, city)
        provider = city.city_dept.id
        # 100 calls an hour ago at 1..100 ms, 10 refused and 2 failing calls this hour.
        for ms in range(1, 101):
            add_calls(session, callers.county_app, provider, NOW - timedelta(hours=1),
                      latency_ms=float(ms), rows=2)
        add_calls(session, callers.street_app, provider, NOW - timedelta(minutes=5), 10,
                  status=403, error_code="no_grant", rows=0)
        add_calls(session, callers.county_app, provider, NOW - timedelta(minutes=1), 2,
                  status=500, error_code="internal", rows=0, latency_ms=900.0)
        hours = rollup.refresh(session, NOW)
        assert hours == [rollup.floor_hour(NOW - timedelta(hours=1)), rollup.floor_hour(NOW)]

        w = stats.window("24h", "hour", now=NOW)
        points = stats.volume(session, w)
        assert len(points) == 24
        assert sum(p.calls for p in points) == 112
        assert (sum(p.refused for p in points), sum(p.failed for p in points)) == (10, 2)
        assert sum(p.rows for p in points) == 200
        daily = stats.volume(session, stats.window("7d", "day", now=NOW))
        assert sum(p.calls for p in daily) == 112 and len(daily) in (7, 8)

        consumers = stats.top(session, w, "consumer")
        assert [(c.name, c.calls) for c in consumers] == [("兰山区公安分局", 102), ("兰山街道", 10)]
        assert [(p.name, p.calls) for p in stats.top(session, w, "provider")] == [
            ("临沂市公安局", 112)]
        flows = stats.flows(session, w)
        assert (flows[0].provider, flows[0].consumer, flows[0].rows) == (
            "临沂市公安局", "兰山区公安分局", 200)

        (lookup,) = stats.interfaces(session, w)
        assert (lookup.resource_code, lookup.calls, lookup.refused, lookup.failed) == (
            RESOURCE, 112, 10, 2)
        assert lookup.error_rate == pytest.approx(12 / 112)
        # Exact p50 of the 112 latencies (1..100 ms, ten 10 ms, two 900 ms) is 46 ms; the
        # histogram is within ~5 %.
        assert lookup.p50 == pytest.approx(46.0, rel=0.06)
        assert lookup.p99 == pytest.approx(900.0, rel=0.06)
        assert (lookup.min_ms, lookup.max_ms) == (1.0, 900.0)
        assert lookup.last_failure_at is not None and lookup.last_success_at is not None
        assert lookup.last_failure_at > lookup.last_success_at

        # A department sees only calls it made or served.
        street_only = stats.volume(session, w, org_id=city.street.id)
        assert sum(p.calls for p in street_only) == 10
        assert stats.top(session, w, "consumer", org_id=city.county.id) == []


def test_records_written_late_land_in_their_hour(registry: Registry) -> None:
    with registry.session() as session:
        city = make_city(session)
        callers = make_callers(session, city)
        add_calls(session, callers.county_app, city.city_dept.id, NOW, 3)
        rollup.refresh(session, NOW)
        # A batch writer replaying its journal after a restart: old request times, new ids.
        add_calls(session, callers.county_app, city.city_dept.id, NOW - timedelta(hours=5), 4)
        rollup.refresh(session, NOW + timedelta(minutes=1))
        w = stats.window("24h", "hour", now=NOW)
        assert sum(p.calls for p in stats.volume(session, w)) == 7
        assert rollup.refresh(session, NOW + timedelta(minutes=2)) == [
            rollup.floor_hour(NOW) - rollup.HOUR, rollup.floor_hour(NOW)]


def test_calls_refused_for_lack_of_a_grant_or_quota_raise_alerts(registry: Registry) -> None:
    with registry.session() as session:
        city = make_city(session)
        callers = make_callers(session, city)
        add_calls(session, callers.street_app, city.city_dept.id, NOW - timedelta(minutes=20),
                  3, status=403, error_code="no_grant", rows=0)
        add_calls(session, callers.street_app, city.city_dept.id, NOW - timedelta(minutes=10),
                  2, status=403, error_code="grant_revoked", rows=0)
        add_calls(session, callers.county_app, city.city_dept.id, NOW - timedelta(minutes=5),
                  4, status=429, error_code="quota_calls", rows=0)
        add_calls(session, callers.county_app, city.city_dept.id, NOW - timedelta(minutes=4),
                  1, status=400, error_code="bad_request", rows=0)
        run_once(session, RULES, now=NOW)
        found = {(a.kind, a.error_code): a for a in alerts.list_alerts(session)}
        assert set(found) == {("no_grant", "no_grant"), ("no_grant", "grant_revoked"),
                              ("quota", "quota_calls")}
        assert found[("no_grant", "no_grant")].calls == 3
        assert found[("no_grant", "no_grant")].app_id == callers.street_app.id
        assert found[("no_grant", "no_grant")].severity == "critical"
        assert found[("quota", "quota_calls")].consumer_org_id == city.county_dept.id
        # Evaluating again counts the same calls once; a new refused call updates the alert.
        add_calls(session, callers.street_app, city.city_dept.id, NOW - timedelta(minutes=1),
                  1, status=403, error_code="no_grant", rows=0)
        run_once(session, RULES, now=NOW + timedelta(seconds=30))
        again = [a for a in alerts.list_alerts(session, kind="no_grant")
                 if a.error_code == "no_grant"]
        assert [a.calls for a in again] == [4]
        assert len(alerts.list_alerts(session)) == 3


def test_a_spike_is_judged_against_the_callers_own_baseline(registry: Registry) -> None:
    with registry.session() as session:
        city = make_city(session)
        callers = make_callers(session, city)
        provider = city.city_dept.id
        for day in range(1, 7):  # 30 calls a working hour for six days, both apps
            for hour in (9, 10, 11):
                moment = NOW - timedelta(days=day) + timedelta(hours=hour - 10)
                add_calls(session, callers.county_app, provider, moment, 30)
                add_calls(session, callers.street_app, provider, moment, 30)
        add_calls(session, callers.county_app, provider, NOW - timedelta(minutes=30), 95)
        add_calls(session, callers.street_app, provider, NOW - timedelta(minutes=30), 60)
        run_once(session, RULES, now=NOW, max_hours=1)  # a backfill still under way
        assert alerts.list_alerts(session, kind="spike") == []  # no baselines yet: no verdict
        run_once(session, RULES, now=NOW, max_hours=None)
        spikes = alerts.list_alerts(session, kind="spike")
        assert [(a.app_id, a.calls, a.baseline) for a in spikes] == [
            (callers.county_app.id, 95, 30.0)]  # 95 > 3 × 30; 60 is not
        assert spikes[0].details["threshold"] == 90.0


def test_a_new_caller_spikes_only_above_the_floor(registry: Registry) -> None:
    with registry.session() as session:
        city = make_city(session)
        callers = make_callers(session, city)
        add_calls(session, callers.county_app, city.city_dept.id, NOW - timedelta(minutes=9), 19)
        run_once(session, RULES, now=NOW)
        assert alerts.list_alerts(session, kind="spike") == []
        add_calls(session, callers.county_app, city.city_dept.id, NOW - timedelta(minutes=8), 1)
        run_once(session, RULES, now=NOW + timedelta(seconds=5))
        assert [a.calls for a in alerts.list_alerts(session, kind="spike")] == [20]


def test_bulk_pulls_outside_working_hours_raise_alerts(registry: Registry) -> None:
    with registry.session() as session:
        city = make_city(session)
        callers = make_callers(session, city)
        provider = city.city_dept.id
        night = at_city(2026, 11, 24, 23, 15)  # Tuesday night
        add_calls(session, callers.county_app, provider, night, 1, interface="bulk", rows=50)
        add_calls(session, callers.county_app, provider, night + timedelta(minutes=5), 1,
                  rows=5000, interface="query")
        add_calls(session, callers.county_app, provider, night, 3, rows=10)  # small: fine
        add_calls(session, callers.street_app, provider, at_city(2026, 11, 25, 9, 0), 1,
                  interface="bulk", rows=90000)  # in working hours: fine
        add_calls(session, callers.street_app, provider, at_city(2026, 11, 25, 7, 59), 1,
                  status=403, error_code="no_grant", interface="bulk", rows=0)  # refused
        run_once(session, RULES, now=NOW)
        (alert,) = alerts.list_alerts(session, kind="off_hours_bulk")
        assert (alert.app_id, alert.calls, alert.rows) == (callers.county_app.id, 2, 5050)
        assert alert.details["working_hours"] == "08:00-18:00"
        assert RULES.off_hours(at_city(2026, 11, 28, 11, 0))  # a Saturday
        assert not RULES.off_hours(at_city(2026, 11, 27, 17, 59))


def test_acknowledging_records_who_when_why_and_is_audited(registry: Registry) -> None:
    with registry.session() as session:
        city = make_city(session)
        callers = make_callers(session, city)
        add_calls(session, callers.street_app, city.city_dept.id, NOW - timedelta(minutes=3),
                  status=403, error_code="no_grant", rows=0)
        run_once(session, RULES, now=NOW)
        (alert,) = alerts.list_alerts(session)
        act_as(session, "admin", city.city.code)
        with pytest.raises(UserError, match="needs a comment"):
            alerts.acknowledge(session, alert, actor="admin", comment="  ")
        alerts.acknowledge(session, alert, actor="admin", comment="已联系街道，申请已提交")
        assert alert.acknowledged_by == "admin" and alert.acknowledged_at is not None
        with pytest.raises(Conflict, match="already acknowledged"):
            alerts.acknowledge(session, alert, actor="admin", comment="again")
        assert alerts.list_alerts(session) == []
        assert alerts.list_alerts(session, state="acknowledged") == [alert]
        event = session.scalar(select(AuditEvent).where(
            AuditEvent.kind == "sharing.alert.acknowledged"))
        assert event is not None and event.actor == "admin"
        details = json.loads(event.canonical)["details"]
        assert details["alert"] == alert.id and details["comment"] == "已联系街道，申请已提交"
        with pytest.raises(UserError, match="unknown alert kind"):
            alerts.list_alerts(session, kind="nonsense")
        assert session.scalar(select(Alert.kind)) == "no_grant"


def test_the_export_has_no_caller_details_and_rounded_times(registry: Registry) -> None:
    with registry.session() as session:
        city = make_city(session)
        callers = make_callers(session, city)
        add_calls(session, callers.county_app, city.city_dept.id, at_city(2026, 11, 25, 9, 17),
                  3, client_ip="192.168.77.5", rows=4)
        add_calls(session, callers.street_app, city.city_dept.id, at_city(2026, 11, 25, 9, 48),
                  2, client_ip="192.168.77.6", rows=1)
        rollup.refresh(session, NOW)
        day = date(2026, 11, 25)
        by_county = publish.statistics(session, publish.Request(day, day, "day", "county"))
        assert [(r["period_start"], r["provider"], r["consumer"], r["calls"], r["rows"])
                for r in by_county] == [("2026-11-25T00:00+08:00", "临沂市", "兰山区", 5, 14)]
        by_org = publish.statistics(session, publish.Request(day, day, "hour", "org"))
        assert {(r["period_start"], r["consumer"], r["calls"]) for r in by_org} == {
            ("2026-11-25T09:00+08:00", "兰山区公安分局", 3),
            ("2026-11-25T09:00+08:00", "兰山街道", 2)}
        for fmt in ("csv", "json"):
            text = publish.export(session, publish.Request(day, day, "hour", "none", fmt))
            for secret in ("192.168", callers.county_app.app_key, callers.street_app.app_key,
                           "app", ":17", ":48", "兰山", "临沂"):
                assert secret not in text, (fmt, secret)
        rows = list(csv.DictReader(io.StringIO(publish.render(by_org, publish.Request(
            day, day, "hour", "org")))))
        assert set(rows[0]) == set(publish.COLUMNS)
        parsed = json.loads(publish.export(session, publish.Request(day, day, "day", "none",
                                                                    "json")))
        assert parsed["rows"][0]["calls"] == 5 and "consumer" not in parsed["rows"][0]
        with pytest.raises(UserError, match="organisation level"):
            publish.statistics(session, publish.Request(day, day, "day", "app"))  # type: ignore[arg-type]
        with pytest.raises(UserError, match="before the start"):
            publish.statistics(session, publish.Request(day, day - timedelta(days=1)))


def test_two_runs_at_once_never_count_an_hour_twice(registry: Registry) -> None:
    import threading
    import time

    with registry.session() as session:
        city = make_city(session)
        callers = make_callers(session, city)
        add_calls(session, callers.county_app, city.city_dept.id, NOW - timedelta(minutes=5), 7)
    errors: list[BaseException] = []

    def second_run() -> None:
        try:
            with registry.session() as other:
                run_once(other, RULES, now=NOW)
        except BaseException as exc:  # SQLite may refuse the second writer: that is fine too
            errors.append(exc)

    with registry.session() as first:
        run_once(first, RULES, now=NOW)
        racing = threading.Thread(target=second_run)
        racing.start()
        time.sleep(0.3)  # let the second run reach the watermark lock before this one commits
    racing.join()
    with registry.session() as session:
        w = stats.window("24h", "hour", now=NOW)
        assert sum(p.calls for p in stats.volume(session, w)) == 7
        if registry.engine.dialect.name == "postgresql":
            assert errors == []
