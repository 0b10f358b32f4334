"""Benchmark: appending audit events to the Merkle log vs plain INSERTs into the same registry.

Datapolis: `security.audit.service.append` — canonical JSON, SM3 leaf hash, the chain link,
the incremental frontier (one node hash per event on average), the log row updated, all in
batches of `--batch` events per transaction; also one event per transaction with `record`
(what a login costs), and `verify_log` over the whole log.

The peer is what a user would otherwise pick: an audit table filled by plain INSERTs of the same
rows (same columns and indexes, the JSON text, no hashing and no tree), batched the same way.
Both run against a fresh SQLite registry file and, when reachable, the local PostgreSQL.

    .venv/bin/python bench/audit_append.py [--events 50000] [--batch 500]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from bench._common import Comparison, print_comparisons, write_result
from datapolis.registry import migrate
from datapolis.registry.base import utcnow
from datapolis.registry.db import Registry, open_registry
from datapolis.security.audit import canonical, service
from datapolis.security.audit.models import AuditEvent
from datapolis.security.audit.service import NewEvent
from datapolis.security.audit.signing import Signer
from datapolis.security.audit.verify import verify_log
from tests.databases import PG_ADMIN_URL, throwaway_database

GOAL = 5_000  # events/s
SIGNER = Signer.from_secret("bench-secret-key-0123456789abcdefghijkl")


def events(n: int, start: int = 0) -> list[NewEvent]:
    kinds = ["login", "download", "catalog.publish", "grant", "export"]
    return [NewEvent(kind=kinds[i % 5], actor=f"user{i % 97}", org=f"371300_{i % 13:03d}",
                     details={"resource": f"371300/{i % 500:06d}", "rows": i % 10_000,
                              "ip": f"10.0.{i % 255}.{i % 7}"})
            for i in range(start, start + n)]


def ours(registry: Registry, n: int, batch: int) -> float:
    started = time.perf_counter()
    for first in range(0, n, batch):
        with registry.session() as session:
            service.append(session, events(min(batch, n - first), first))
            service.checkpoint_if_due(session, SIGNER)
    return n / (time.perf_counter() - started)


def single(registry: Registry, n: int) -> float:
    started = time.perf_counter()
    for event in events(n):
        with registry.session() as session:
            service.record(session, kind=event.kind, actor=event.actor, org=event.org,
                           details=event.details, log="single")
    return n / (time.perf_counter() - started)


def plain(registry: Registry, n: int, batch: int, log: str = "plain") -> float:
    with registry.session() as session:
        log_id = service.create_log(session, name=log).id
    started = time.perf_counter()
    seq = 0
    for first in range(0, n, batch):
        now = utcnow()
        rows: list[dict[str, Any]] = []
        for event in events(min(batch, n - first), first):
            body = {"time": now.isoformat(), "kind": event.kind, "actor": event.actor,
                    "org": event.org, "details": event.details}
            rows.append({"log_id": log_id, "seq": seq, "recorded_at": now, "kind": event.kind,
                         "actor": event.actor, "org": event.org,
                         "canonical": canonical.dumps(body).decode(), "leaf_hash": ""})
            seq += 1
        with registry.session() as session:
            session.execute(insert(AuditEvent), rows)
    return n / (time.perf_counter() - started)


def verify_rate(registry: Registry) -> tuple[float, int]:
    started = time.perf_counter()
    with registry.session() as session:
        report = verify_log(session, SIGNER.public_key)
    assert report.ok, report.problems
    return report.events / (time.perf_counter() - started), report.events


def fresh(url: str) -> Registry:
    registry = open_registry(url)
    migrate.upgrade(registry)
    return registry


def run(label: str, url: str, args: argparse.Namespace) -> dict[str, float]:
    registry = fresh(url)
    try:
        figures = {"batch_events_per_s": ours(registry, args.events, args.batch)}
        figures["verify_events_per_s"], _ = verify_rate(registry)
        figures["plain_insert_events_per_s"] = plain(registry, args.events, args.batch)
        with registry.session() as session:
            service.create_log(session, name="single")
        figures["one_per_transaction_events_per_s"] = single(registry, args.single)
        figures["plain_one_per_transaction_events_per_s"] = plain(
            registry, args.single, 1, log="plain-single")
    finally:
        registry.close()
    print(f"{label}: " + ", ".join(f"{k} {v:,.0f}" for k, v in figures.items()))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--single", type=int, default=2_000)
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = run("SQLite", f"sqlite:///{tmp}/registry.sqlite", args)
        for url in throwaway_database(PG_ADMIN_URL, "datapolis_bench"):
            results["postgresql"] = run("PostgreSQL", url, args)
    comparisons = []
    for db, r in results.items():
        comparisons.append(Comparison(
            f"{db}: events/s appended, batches of {args.batch}", r["batch_events_per_s"],
            r["plain_insert_events_per_s"], "plain INSERTs", "/s",
            note=f"goal ≥ {GOAL:,}/s: {'met' if r['batch_events_per_s'] >= GOAL else 'NOT met'}"))
        comparisons.append(Comparison(
            f"{db}: events/s, one per transaction", r["one_per_transaction_events_per_s"],
            r["plain_one_per_transaction_events_per_s"], "plain INSERT per transaction", "/s",
            note="what one login costs; both bound by the commit"))
    print_comparisons(f"audit log appends ({args.events:,} events; peer: plain INSERTs)",
                      comparisons)
    path = write_result("audit_append", {"events": args.events, "batch": args.batch,
                                         "goal_events_per_s": GOAL, "results": results},
                        comparisons)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
