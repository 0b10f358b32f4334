"""Benchmark: the monitoring page's queries from the hourly rollup vs the same answers computed
straight from the call records (what a page would do without the rollup).

Fills `share_calls` with `--calls` records spread over 30 days (60 apps in 40 organisations,
each calling the 1-4 of 20 resources it holds grants for, mostly by one interface; working-hour
heavy; a few refused and failing), then measures:
- the full rollup (backfill) in calls/s, and one incremental run after 10,000 new calls (what
  the server does every minute);
- the dashboard over 30 days (daily volume, top consumers and providers, flows, per-interface
  errors, min/avg/max and p50/p95/p99) from the rollup vs the peer: GROUP BYs over share_calls
  (hour truncation per dialect; exact percentiles with percentile_cont on PostgreSQL, sorted in
  Python on SQLite, which has no percentile function);
- how far the histogram percentiles are from the exact ones.

    .venv/bin/python bench/share_monitor.py [--calls 500000]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, text

from bench._common import Comparison, best_of, print_comparisons, write_result
from datapolis.registry import migrate
from datapolis.registry.base import utcnow
from datapolis.registry.db import Registry, open_registry
from datapolis.sharing.metering.models import ShareCall
from datapolis.sharing.monitoring import rollup, stats
from tests.databases import PG_ADMIN_URL, throwaway_database

INTERFACES = ["lookup"] * 6 + ["query"] * 3 + ["batch", "bulk"]


def fill(registry: Registry, calls: int, *, seed: int = 7, start_id: int = 0,
         recent: bool = False) -> None:
    rng = random.Random(seed)
    now = utcnow()
    # As grants shape real traffic: each app calls the 1-4 resources it was granted, mostly by
    # one interface; a resource has one provider.
    shape = random.Random(1)
    apps = [(a, 100 + a % 40) for a in range(1, 61)]
    granted = {a: shape.sample(range(20), shape.randint(1, 4)) for a, _ in apps}
    batch: list[dict[str, Any]] = []
    with registry.session() as session:
        for i in range(calls):
            app, consumer = apps[int(rng.paretovariate(1.2)) % 60]
            resource = rng.choice(granted[app])
            if recent:
                at = now - timedelta(seconds=rng.uniform(0, 600))
            else:
                day = rng.randrange(30)
                hour = rng.choice(range(0, 10)) if rng.random() < 0.85 else rng.randrange(24)
                at = now - timedelta(days=day, hours=hour, seconds=rng.uniform(0, 3600))
            status = 200 if rng.random() < 0.97 else rng.choice([403, 429, 500])
            latency = rng.lognormvariate(2.5, 0.8)
            batch.append({
                "record_id": f"b{start_id + i:012d}", "request_at": at,
                "response_at": at + timedelta(milliseconds=latency),
                "consumer_org_id": consumer, "app_id": app,
                "provider_org_id": 200 + resource % 12,
                "resource_code": f"371300-R-{resource:05d}", "grant_id": app,
                "interface": INTERFACES[(app + (rng.random() < 0.1)) % len(INTERFACES)],
                "params_hash": "0" * 64,
                "rows_out": 0 if status >= 400 else rng.randrange(1, 50),
                "bytes_out": rng.randrange(200, 5000), "status": status,
                "error_code": None if status == 200 else {403: "no_grant", 429: "quota_calls",
                                                          500: "internal"}[status],
                "latency_ms": latency, "client_ip": "10.0.0.1", "request_id": None})
            if len(batch) == 20_000:
                session.execute(insert(ShareCall), batch)
                session.commit()
                batch = []
        if batch:
            session.execute(insert(ShareCall), batch)


def dashboard(registry: Registry) -> dict[str, Any]:
    with registry.session() as session:
        w = stats.window("30d", "day")
        return {"volume": stats.volume(session, w), "consumers": stats.top(session, w, "consumer"),
                "providers": stats.top(session, w, "provider"), "flows": stats.flows(session, w),
                "interfaces": stats.interfaces(session, w)}


def raw_dashboard(registry: Registry) -> dict[str, Any]:
    """The peer: the same figures from share_calls directly."""
    pg = registry.engine.dialect.name == "postgresql"
    since = utcnow() - timedelta(days=30)
    c = ShareCall
    hour = func.date_trunc("hour", c.request_at) if pg else func.strftime("%Y-%m-%d %H",
                                                                          c.request_at)
    out: dict[str, Any] = {}
    with registry.session() as session:
        inside = c.request_at >= since
        out["volume"] = session.execute(select(hour, func.count(), func.sum(c.rows_out))
                                        .where(inside).group_by(hour)).all()
        for side, key in (("consumers", c.consumer_org_id), ("providers", c.provider_org_id)):
            out[side] = session.execute(select(key, func.count()).where(inside).group_by(key)
                                        .order_by(func.count().desc()).limit(10)).all()
        out["flows"] = session.execute(select(c.provider_org_id, c.consumer_org_id, func.count(),
                                              func.sum(c.rows_out)).where(inside)
                                       .group_by(c.provider_org_id, c.consumer_org_id)).all()
        keys = (c.resource_code, c.interface)
        out["interfaces"] = session.execute(select(
            *keys, func.count(), func.min(c.latency_ms), func.avg(c.latency_ms),
            func.max(c.latency_ms), func.max(c.response_at)).where(inside).group_by(*keys)).all()
        out["percentiles"] = exact_percentiles(session, pg, since)
    return out


def exact_percentiles(session: Any, pg: bool, since: Any) -> dict[tuple[str, str], list[float]]:
    if pg:
        rows = session.execute(text(
            "SELECT resource_code, interface, percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN "
            "GROUP (ORDER BY latency_ms) FROM share_calls WHERE request_at >= :since "
            "GROUP BY resource_code, interface"), {"since": since}).all()
        return {(r[0], r[1]): list(r[2]) for r in rows}
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for code, kind, ms in session.execute(select(
            ShareCall.resource_code, ShareCall.interface, ShareCall.latency_ms)
            .where(ShareCall.request_at >= since)):
        values[(code, kind)].append(ms)
    found = {}
    for key, xs in values.items():
        xs.sort()
        found[key] = [xs[min(len(xs) - 1, int(p * len(xs)))] for p in (0.5, 0.95, 0.99)]
    return found


def run(label: str, url: str, calls: int) -> tuple[list[Comparison], dict[str, Any]]:
    registry = open_registry(url)
    migrate.upgrade(registry)
    started = time.perf_counter()
    fill(registry, calls)
    filled = time.perf_counter() - started
    started = time.perf_counter()
    with registry.session() as session:
        hours = rollup.refresh(session, utcnow())
    backfill = time.perf_counter() - started
    fill(registry, 10_000, seed=8, start_id=calls, recent=True)
    started = time.perf_counter()
    with registry.session() as session:
        rollup.refresh(session, utcnow())
    incremental = time.perf_counter() - started
    ours = best_of(3, lambda: dashboard(registry))
    peer = best_of(3, lambda: raw_dashboard(registry))
    histogram = {(i.resource_code, i.interface): (i.p50, i.p95, i.p99)
                 for i in dashboard(registry)["interfaces"]}
    exact = raw_dashboard(registry)["percentiles"]
    errors = [abs(h - e) / e for key, e3 in exact.items() if key in histogram
              for h, e in zip(histogram[key], e3, strict=True) if h is not None and e]
    registry.close()
    detail = {"calls": calls + 10_000, "fill_s": round(filled, 1), "hours": len(hours),
              "backfill_s": round(backfill, 2), "backfill_calls_per_s": round(calls / backfill),
              "incremental_s": round(incremental, 3), "dashboard_s": round(ours, 4),
              "raw_dashboard_s": round(peer, 3),
              "percentile_max_rel_error": round(max(errors), 4) if errors else None,
              "percentile_mean_rel_error": round(sum(errors) / len(errors), 4) if errors else None}
    comparisons = [Comparison(f"{label}: 30-day dashboard", ours * 1000, peer * 1000,
                              "GROUP BY over share_calls", "ms", higher_is_better=False,
                              note=f"{calls + 10_000:,} calls"),
                   Comparison(f"{label}: per-minute run, 10k new calls", incremental * 1000,
                              peer * 1000, "one raw dashboard", "ms", higher_is_better=False,
                              note="the rollup's running cost vs one page view without it")]
    return comparisons, detail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=500_000)
    args = parser.parse_args()
    comparisons, details = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        found, detail = run("SQLite", f"sqlite:///{Path(tmp) / 'registry.sqlite'}", args.calls)
        comparisons += found
        details["sqlite"] = detail
    for url in throwaway_database(PG_ADMIN_URL, "datapolis_bench_monitor"):
        found, detail = run("PostgreSQL", url, args.calls)
        comparisons += found
        details["postgresql"] = detail
    print_comparisons("sharing monitor: rollup vs call records", comparisons)
    for name, detail in details.items():
        print(name, detail)
    write_result("share_monitor", {"details": details}, comparisons)


if __name__ == "__main__":
    main()
