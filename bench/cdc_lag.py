"""Benchmark 2 of the data highway: end-to-end lag of log-based change capture (cdc).

For PostgreSQL (logical replication, pgoutput) and MariaDB (ROW binlog): a fresh throwaway
database gets a `cdc_bench` table with 20,000 rows; the product's capture lands its initial
snapshot into a DuckDB warehouse, then a writer in its own process changes the table at a paced
rate (~50% insert, 35% update, 15% delete, 1-8 changes per transaction) while the stream applies
them to ods.

Path measured: the product's own capture classes (`stream.PostgresCapture` /
`stream.MysqlCapture`: slot, publication, consistent snapshot, reader), `stream.land_snapshot`,
then `apply.apply_changes` over `capture.events(...)` in a thread with its default batching,
acknowledging each position after the warehouse commit exactly as `stream.run_stream` does. The
registry (run history, lineage) is left out: it is not on the lag path.

Lag per change = wall clock when the `committed` callback reports the warehouse commit that
contains it - wall clock right after the writer's source COMMIT returned (same machine clock;
changes matched by key and version, deletes by key, since keys are never reused).
No change lost: every written change is seen exactly once, and the final ods table equals the
source table (row count and a SHA-256 over every row).

No peer: the issue names none, and Debezium (the usual one) needs Kafka and a JVM, not
available here.

    .venv/bin/python bench/cdc_lag.py [--seconds 60] [--pg-rate 2000] [--mysql-rate 1000]
                                      [--only pg|mysql]
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg2
import pyarrow as pa
import pymysql

from bench._common import print_rows, write_result
from datapolis.ingest import apply, stream
from datapolis.ingest.cdc import mysql
from datapolis.ingest.cdc.events import Change, Heartbeat, Op
from datapolis.ingest.land import LandResult, read_offset
from datapolis.warehouse.duckdb_engine import DuckDBEngine

TABLE = "cdc_bench"
PRELOAD = 20_000
GOAL_P95 = 2.0
PEER = "none: the issue names none; Debezium needs Kafka and a JVM, not available here"
DELETED = -1  # the "version" a delete is recorded under (keys are never reused)

Written = list[tuple[int, int, float]]  # (id, version or DELETED, source commit wall clock)


# --- the writer (its own process: no GIL shared with the stream) -------------------------------

def _connect(kind: str, target: dict[str, Any]) -> Any:
    if kind == "pg":
        connection = psycopg2.connect(**target)
        connection.autocommit = False
        return connection
    return pymysql.connect(**target, autocommit=False)


def writer(kind: str, target: dict[str, Any], rate: float, seconds: float, seed: int,
           out: Any) -> None:
    """Change the table at `rate` changes/s for `seconds`; send back every change's commit time."""
    rng = random.Random(seed)
    connection = _connect(kind, target)
    cursor = connection.cursor()
    live = list(range(1, PRELOAD + 1))
    version = dict.fromkeys(live, 1)
    next_id = PRELOAD + 1
    written: Written = []
    done = 0
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < seconds:
        due = int(rate * elapsed)
        if done >= due:
            time.sleep(max(0.0, min(0.002, (done + 1) / rate - elapsed)))
            continue
        changes: list[tuple[int, int]] = []
        for _ in range(rng.randint(1, 8)):
            pick = rng.random()
            if pick < 0.50 or not live:
                key, next_id = next_id, next_id + 1
                version[key] = 1
                live.append(key)
                cursor.execute(f"INSERT INTO {TABLE} (id, version, name, amount) "
                               "VALUES (%s, %s, %s, %s)",
                               (key, 1, f"户{key}v1", Decimal(key % 100_000) / 100))
                changes.append((key, 1))
            elif pick < 0.85:
                key = live[rng.randrange(len(live))]
                version[key] += 1
                cursor.execute(f"UPDATE {TABLE} SET version = %s, name = %s, "
                               "amount = amount + 1 WHERE id = %s",
                               (version[key], f"户{key}v{version[key]}", key))
                changes.append((key, version[key]))
            else:
                at = rng.randrange(len(live))
                live[at], live[-1] = live[-1], live[at]
                key = live.pop()
                cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", (key,))
                changes.append((key, DELETED))
        connection.commit()
        now = time.time()
        written.extend((key, ver, now) for key, ver in changes)
        done += len(changes)
    elapsed = time.monotonic() - started
    connection.close()
    out.send((written, elapsed))
    out.close()


# --- one database --------------------------------------------------------------------------------

SETUP = {
    "pg": f"CREATE TABLE {TABLE} (id bigint PRIMARY KEY, version integer NOT NULL, name text, "
          "amount numeric(12, 2))",
    "mysql": f"CREATE TABLE {TABLE} (id bigint PRIMARY KEY, version int NOT NULL, "
             "name varchar(64), amount decimal(12, 2)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
}


class Database:
    """A throwaway database on the machine's server; dropped (slots first) whatever happens."""

    def __init__(self, kind: str, host: str, port: int, user: str) -> None:
        self.kind, self.host, self.port, self.user = kind, host, port, user
        self.name = f"cdc_lag_{secrets.token_hex(4)}"

    def _admin(self) -> Any:
        if self.kind == "pg":
            connection = psycopg2.connect(host=self.host, port=self.port, user=self.user,
                                          dbname="postgres")
            connection.autocommit = True
            return connection
        return pymysql.connect(host=self.host, port=self.port, user=self.user, autocommit=True)

    @property
    def target(self) -> dict[str, Any]:
        if self.kind == "pg":
            return {"host": self.host, "port": self.port, "user": self.user, "dbname": self.name}
        return {"host": self.host, "port": self.port, "user": self.user, "database": self.name,
                "charset": "utf8mb4"}

    def create(self) -> None:
        admin = self._admin()
        try:
            with admin.cursor() as cursor:
                quote = '"' if self.kind == "pg" else "`"
                cursor.execute(f"CREATE DATABASE {quote}{self.name}{quote}")
                if self.kind == "mysql":  # column names travel in the binlog only with these
                    cursor.execute("SET GLOBAL binlog_row_metadata = FULL")
                    cursor.execute("SET GLOBAL binlog_row_image = FULL")
        finally:
            admin.close()
        connection = _connect(self.kind, self.target)
        with connection.cursor() as cursor:
            cursor.execute(SETUP[self.kind])
            cursor.executemany(
                f"INSERT INTO {TABLE} (id, version, name, amount) "
                "VALUES (%s, %s, %s, %s)",
                [(i, 1, f"户{i}v1", Decimal(i % 100_000) / 100) for i in range(1, PRELOAD + 1)])
        connection.commit()
        connection.close()

    def rows(self) -> list[tuple[Any, ...]]:
        connection = _connect(self.kind, self.target)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id, version, name, amount FROM {TABLE} ORDER BY id")
            found = list(cursor.fetchall())
        connection.close()
        return found

    def drop(self) -> None:
        admin = self._admin()
        try:
            with admin.cursor() as cursor:
                if self.kind == "pg":
                    for _ in range(50):  # a slot keeps WAL for ever and blocks the drop
                        cursor.execute("SELECT slot_name, active_pid FROM pg_replication_slots "
                                       "WHERE database = %s", (self.name,))
                        slots = cursor.fetchall()
                        if not slots:
                            break
                        for slot, pid in slots:
                            if pid is not None:
                                cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
                            else:
                                cursor.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
                        time.sleep(0.2)
                    cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
                else:
                    cursor.execute(f"DROP DATABASE IF EXISTS `{self.name}`")
        finally:
            admin.close()


def capture_for(db: Database, job: str) -> stream.PostgresCapture | stream.MysqlCapture:
    if db.kind == "pg":
        return stream.PostgresCapture({**db.target, "connect_timeout": 10},
                                      stream.capture_name(job, db.name), f"public.{TABLE}")
    connection = mysql.MySQLConnection(host=db.host, port=db.port, user=db.user,
                                       database=db.name, connect_timeout=10)
    return stream.MysqlCapture(connection, job, TABLE)


def digest(rows: list[tuple[Any, ...]]) -> str:
    sha = hashlib.sha256()
    for key, ver, name, amount in sorted(rows, key=lambda r: int(r[0])):
        sha.update(f"{int(key)}|{int(ver)}|{name}|{Decimal(amount):.2f}\n".encode())
    return sha.hexdigest()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def measure(db: Database, rate: float, seconds: float) -> dict[str, Any]:
    job = f"bench_cdc_{db.kind}_{secrets.token_hex(3)}"
    target = f"ods_bench.{TABLE}_{db.kind}"
    work = Path(tempfile.mkdtemp(prefix="cdc_lag_"))
    engine = DuckDBEngine(work / "warehouse.duckdb")
    capture = capture_for(db, job)
    try:
        db.create()
        print(f"{db.kind}: initial snapshot of {PRELOAD:,} rows ...", flush=True)
        with capture.snapshot() as snapshot:
            stream.land_snapshot(engine, snapshot, job=job, target=target, keys=["id"],
                                 delete_mode="hard",
                                 declared={"amount": pa.decimal128(12, 2)})
        position = read_offset(engine, job)
        assert position is not None

        seen: dict[tuple[int, int], float] = {}
        duplicates = 0
        applied: deque[Change] = deque()  # changes handed to apply_changes, not yet committed
        stop = threading.Event()
        failure: list[BaseException] = []
        batches: list[int] = []

        def watched(events: Iterator[Change | Heartbeat]) -> Iterator[Change | Heartbeat]:
            try:
                for event in events:
                    if isinstance(event, Change) and event.table == capture.table and \
                            capture.position_key(event.position) > capture.position_key(position):
                        applied.append(event)  # exactly what apply_changes keeps pending
                    yield event
                    if stop.is_set() and isinstance(event, Heartbeat) and not applied:
                        return
            finally:
                close = getattr(events, "close", None)
                if close is not None:
                    close()

        def committed(at: str, batch: LandResult) -> None:
            nonlocal duplicates
            now = time.time()  # the warehouse transaction has committed
            batches.append(batch.rows_read)
            for _ in range(batch.rows_read):
                change = applied.popleft()
                key = int(change.row["id"])
                ver = DELETED if change.op is Op.DELETE else int(change.row["version"])
                if (key, ver) in seen:
                    duplicates += 1
                seen[(key, ver)] = now
            capture.acknowledge(at)  # as run_stream: only now may the source forget

        def run() -> None:
            try:
                apply.apply_changes(engine, watched(capture.events(position)), job=job,
                                    targets={capture.table: target}, delete_mode="hard",
                                    position_key=capture.position_key, committed=committed)
            except BaseException as exc:  # reported by the main thread
                failure.append(exc)

        streamer = threading.Thread(target=run, name=f"cdc-{db.kind}", daemon=True)
        streamer.start()
        time.sleep(2.0)  # the reader is connected and idle before the clock starts

        receive, send = mp.get_context("spawn").Pipe(duplex=False)
        process = mp.get_context("spawn").Process(
            target=writer, args=(db.kind, db.target, rate, seconds, 7, send))
        print(f"{db.kind}: writing {rate:,.0f} changes/s for {seconds:.0f} s ...", flush=True)
        process.start()
        send.close()
        written, elapsed = receive.recv()
        process.join()

        expected = {(key, ver) for key, ver, _ in written}
        deadline = time.monotonic() + 120
        while not expected <= seen.keys() and time.monotonic() < deadline and not failure:
            time.sleep(0.1)
        stop.set()
        streamer.join(timeout=30)
        if failure:
            raise failure[0]

        lags = [seen[(key, ver)] - at for key, ver, at in written if (key, ver) in seen]
        source_rows = db.rows()
        ods_rows = [tuple(r.values()) for r in engine.query(
            f"SELECT id, version, name, amount FROM {target} ORDER BY id").to_pylist()]
        ops = {"insert": 0, "update": 0, "delete": 0}
        versions_seen: set[int] = set()
        for key, ver, _ in written:
            if ver == DELETED:
                ops["delete"] += 1
            elif ver == 1 and key > PRELOAD and key not in versions_seen:
                ops["insert"] += 1
                versions_seen.add(key)
            else:
                ops["update"] += 1
        result = {
            "target_rate": rate, "seconds": round(elapsed, 2), "changes_written": len(written),
            "achieved_rate": round(len(written) / elapsed, 1), "ops": ops,
            "changes_seen": len(expected & seen.keys()),
            "changes_missing": len(expected - seen.keys()), "changes_duplicated": duplicates,
            "warehouse_commits": len(batches),
            "changes_per_commit": round(statistics.mean(batches), 1) if batches else 0,
            "lag_p50": round(percentile(lags, 50), 3), "lag_p95": round(percentile(lags, 95), 3),
            "lag_p99": round(percentile(lags, 99), 3), "lag_max": round(max(lags), 3),
            "lag_mean": round(statistics.mean(lags), 3),
            "source_rows": len(source_rows), "ods_rows": len(ods_rows),
            "source_checksum": digest(source_rows), "ods_checksum": digest(ods_rows),
        }
        result["identical"] = (result["source_rows"] == result["ods_rows"]
                               and result["source_checksum"] == result["ods_checksum"])
        result["goal_met"] = result["lag_p95"] < GOAL_P95 and result["identical"] \
            and result["changes_missing"] == 0 and result["changes_duplicated"] == 0
        return result
    finally:
        try:
            capture.release()
        except Exception as exc:
            print(f"{db.kind}: release: {exc}", flush=True)
        engine.close()
        db.drop()
        for path in sorted(work.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        work.rmdir()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--pg-rate", type=float, default=2000)
    parser.add_argument("--mysql-rate", type=float, default=1000)
    parser.add_argument("--only", choices=["pg", "mysql"])
    parser.add_argument("--pg", default="postgres@127.0.0.1:5432", help="user@host:port")
    parser.add_argument("--mysql", default="root@127.0.0.1:3306", help="user@host:port")
    args = parser.parse_args()

    def database(kind: str, where: str) -> Database:
        user, _, host_port = where.partition("@")
        host, _, port = host_port.partition(":")
        return Database(kind, host, int(port), user)

    runs: dict[str, tuple[Callable[[], Database], float]] = {
        "pg": (lambda: database("pg", args.pg), args.pg_rate),
        "mysql": (lambda: database("mysql", args.mysql), args.mysql_rate),
    }
    results: dict[str, dict[str, Any]] = {}
    for kind, (make, rate) in runs.items():
        if args.only and kind != args.only:
            continue
        try:
            results[kind] = measure(make(), rate, args.seconds)
        except Exception as exc:  # the other database still runs; the failure is reported
            results[kind] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}

    names = {"pg": "PostgreSQL (pgoutput)", "mysql": "MariaDB (ROW binlog)"}
    shown = [k for k in results if "error" not in results[k]]

    def row(label: str, field: str, fmt: str, goal: str = "") -> list[str]:
        return [label, *[format(results[k][field], fmt) for k in shown], goal]

    table = [
        ["target rate", *[f"{results[k]['target_rate']:,.0f} /s" for k in shown], ""],
        ["achieved rate", *[f"{results[k]['achieved_rate']:,.0f} /s" for k in shown], ""],
        row("changes written", "changes_written", ","),
        ["  insert / update / delete", *[
            f"{results[k]['ops']['insert']:,} / {results[k]['ops']['update']:,} / "
            f"{results[k]['ops']['delete']:,}" for k in shown], "~50/35/15 %"],
        row("changes seen in the warehouse", "changes_seen", ","),
        row("missing / duplicated", "changes_missing", ","),
        row("warehouse commits", "warehouse_commits", ","),
        row("lag p50 (s)", "lag_p50", ".3f"),
        row("lag p95 (s)", "lag_p95", ".3f", f"< {GOAL_P95:g} s"),
        row("lag p99 (s)", "lag_p99", ".3f"),
        row("lag max (s)", "lag_max", ".3f"),
        ["rows source / ods", *[f"{results[k]['source_rows']:,} / {results[k]['ods_rows']:,}"
                                for k in shown], "equal"],
        ["checksum source = ods", *["yes" if results[k]["identical"] else "NO" for k in shown],
         "yes"],
        ["goal met", *["[green]yes[/green]" if results[k]["goal_met"] else "[red]no[/red]"
                       for k in shown], ""],
    ]
    for k in shown:  # missing / duplicated in one cell
        table[5][1 + shown.index(k)] = (f"{results[k]['changes_missing']:,} / "
                                        f"{results[k]['changes_duplicated']:,}")
    print_rows(f"cdc end-to-end lag → DuckDB ods ({args.seconds:g} s per database; "
               f"peer: {PEER})", ["metric", *[names[k] for k in shown], "goal"], table)
    for kind, r in results.items():
        if "error" in r:
            print(f"{names[kind]}: {r['error']}")
    path = write_result("cdc_lag", {
        "seconds": args.seconds, "goal_p95_seconds": GOAL_P95, "peer": PEER,
        "mix": "~50% insert / 35% update / 15% delete, 1-8 changes per transaction",
        "path": "stream.PostgresCapture / MysqlCapture + land_snapshot + apply.apply_changes "
                "(defaults) in a thread, acknowledging after each warehouse commit",
        "lag": "warehouse commit (committed callback) - writer's wall clock after COMMIT",
        "results": results})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
