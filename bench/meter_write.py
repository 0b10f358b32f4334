"""Benchmark: what metering costs a call, the Meter vs writing each record in its own INSERT.

Datapolis: `Meter.submit` from `--threads` request threads (one journal write each, the
writer thread commits batches every 200 ms), then `stop()` (the final flush) — the time until
every record is committed. The peer is what a gateway would otherwise do: one INSERT and
COMMIT per call, on the request thread (durable when the call answers, like the journal).
Both on a fresh SQLite registry file and, when reachable, the local PostgreSQL.

    .venv/bin/python bench/meter_write.py [--calls 20000] [--threads 8]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text

from bench._common import Comparison, print_comparisons, write_result
from datapolis.registry import migrate
from datapolis.registry.db import Registry, open_registry
from datapolis.sharing.metering import Call, Meter, params_hash
from datapolis.sharing.metering.meter import CALLS
from datapolis.sharing.metering.records import to_row
from tests.databases import PG_ADMIN_URL, throwaway_database


def calls(n: int) -> list[Call]:
    start = datetime.now(UTC)
    return [Call(request_at=start + timedelta(milliseconds=i), response_at=start
                 + timedelta(milliseconds=i + 12), consumer_org_id=2 + i % 17, app_id=5 + i % 23,
                 provider_org_id=40 + i % 9, resource_code=f"371300/{i % 300:06d}",
                 grant_id=i % 500, interface=("lookup", "query", "batch")[i % 3],
                 params_hash=params_hash({"key": f"37130219800101{i:06d}"}), rows=1 + i % 50,
                 bytes=200 + i % 5000, status=200 if i % 20 else 404,
                 error_code=None if i % 20 else "not_found", latency_ms=12.5 + i % 40,
                 client_ip=f"10.0.{i % 250}.8", request_id=f"bench-{i}") for i in range(n)]


def threaded(work: Callable[[list[Call]], None], records: list[Call], threads: int) -> float:
    parts = [records[t::threads] for t in range(threads)]
    workers = [threading.Thread(target=work, args=(part,)) for part in parts]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started


def count(registry: Registry) -> int:
    with registry.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM share_calls")).scalar_one())


def ours(registry: Registry, journal: Path, records: list[Call], threads: int
         ) -> tuple[float, float]:
    """(request-path seconds per call, seconds until all committed)."""
    meter = Meter(registry, journal)
    meter.start()
    started = time.perf_counter()

    def work(part: list[Call]) -> None:
        for call in part:
            meter.submit(call)

    on_path = threaded(work, records, threads)
    meter.stop()
    total = time.perf_counter() - started
    assert meter.committed == len(records)
    return on_path / len(records) * threads, total


def peer(registry: Registry, records: list[Call], threads: int) -> tuple[float, float]:
    counter = iter(range(10**9))
    lock = threading.Lock()
    # SQLite takes one writer at a time: without this lock concurrent commits wait out the
    # busy timeout and fail ("database is locked"), as they did on the first try of this bench.
    writer = threading.Lock() if registry.engine.dialect.name == "sqlite" else nullcontext()

    def work(part: list[Call]) -> None:
        for call in part:
            with lock:
                n = next(counter)
            row = to_row(f"peer{n:028d}", call)
            with writer, registry.engine.begin() as connection:
                connection.execute(insert(CALLS), row)

    total = threaded(work, records, threads)
    return total / len(records) * threads, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    records = calls(args.calls)
    comparisons: list[Comparison] = []
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="meter_write_") as tmp_dir:
        tmp = Path(tmp_dir)

        def run(name: str, url: str) -> None:
            registry = open_registry(url)
            migrate.upgrade(registry)
            path_ours, total_ours = ours(registry, tmp / f"journal-{name}", records, args.threads)
            assert count(registry) == len(records)
            with registry.engine.begin() as connection:
                connection.execute(text("DELETE FROM share_calls"))
            path_peer, total_peer = peer(registry, records, args.threads)
            assert count(registry) == len(records)
            registry.close()
            results[name] = {"ours_us_per_call": path_ours * 1e6,
                             "ours_records_per_s": len(records) / total_ours,
                             "peer_us_per_call": path_peer * 1e6,
                             "peer_records_per_s": len(records) / total_peer}
            comparisons.extend([
                Comparison(f"{name}: request-path cost per call", path_ours * 1e6,
                           path_peer * 1e6, "INSERT per call", "us", higher_is_better=False,
                           note=f"{args.threads} threads"),
                Comparison(f"{name}: records committed per second", len(records) / total_ours,
                           len(records) / total_peer, "INSERT per call", "rec/s"),
            ])

        run("sqlite", f"sqlite:///{tmp / 'registry.sqlite'}")
        for url in throwaway_database(PG_ADMIN_URL, "datapolis_bench_meter"):
            run("postgresql", url)
    print_comparisons(f"meter_write: {args.calls:,} call records, {args.threads} threads",
                      comparisons)
    path = write_result("meter_write", {"calls": args.calls, "threads": args.threads,
                                        "results": results}, comparisons)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
