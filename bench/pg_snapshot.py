"""Benchmark 1 of the data highway: snapshot of a 5,000,000-row, 15-column PostgreSQL table.

Every contender lands the same table into a fresh DuckDB file, timed end to end (connect, read,
write, commit):

- Datapolis: the `postgres` source (ADBC binary COPY → Arrow) written with DuckDBEngine.write.
- dlt `sql_database` → DuckDB, backend "connectorx" (its fastest) and "pyarrow".
- Floor: `COPY (SELECT ...) TO STDOUT (FORMAT csv)` from psycopg2 into a file read by DuckDB's
  read_csv. DuckDB's postgres extension is the other floor, but no `duckdb-extension-postgres`
  wheel matches duckdb==2.0.1 on PyPI (latest is 1.5.5), and nothing may be downloaded from
  elsewhere, so that peer is reported as skipped.

Afterwards each landed table's DuckDB column types are compared with the source's.

    .venv/bin/python bench/pg_snapshot.py [--rows 5000000] [--url postgresql://...]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb
import psycopg2
import pyarrow as pa

from bench._common import RESULTS, Comparison, print_comparisons, print_rows, write_result
from datapolis.ingest.sources.registry import open_source
from datapolis.warehouse.duckdb_engine import DuckDBEngine

TABLE = "snapshot_5m"
# What each source column should be once landed in DuckDB when its type is kept (jsonb may
# land as JSON, DuckDB's alias of VARCHAR for JSON text, or as VARCHAR).
EXPECTED = {
    "id": "BIGINT", "small": "SMALLINT", "medium": "INTEGER", "ratio": "FLOAT",
    "score": "DOUBLE", "amount": "DECIMAL(12,2)", "name": "VARCHAR", "code": "VARCHAR",
    "born": "DATE", "updated_at": "TIMESTAMP WITH TIME ZONE", "active": "BOOLEAN",
    "uid": "UUID", "attrs": "VARCHAR", "note": "VARCHAR", "seq": "INTEGER",
}
CREATE = f"""
DROP TABLE IF EXISTS public.{TABLE};
CREATE UNLOGGED TABLE public.{TABLE} (
  id int8 PRIMARY KEY, small int2, medium int4, ratio float4, score float8,
  amount numeric(12,2), name text, code varchar(18), born date, updated_at timestamptz,
  active bool, uid uuid, attrs jsonb, note varchar(40), seq int4);
INSERT INTO public.{TABLE}
SELECT g, (g % 30000)::int2, (g * 7 % 2000000000)::int4, (g % 1000) / 7.0::float4,
       g / 3.0, ((g % 100000) / 100.0)::numeric(12,2), '姓名' || (g % 9973),
       lpad((g % 1000000)::text, 18, '0'), DATE '1950-01-01' + (g % 25000),
       TIMESTAMPTZ '2020-01-01 00:00:00+00' + g * INTERVAL '1 second', g % 3 = 0,
       md5(g::text)::uuid, jsonb_build_object('k', g % 10, 'tag', 'a'), 'note ' || (g % 77),
       (g % 1000)::int4
FROM generate_series(1, %(rows)s) g;
ANALYZE public.{TABLE};
"""


def prepare(admin_url: str, database: str, rows: int) -> str:
    """Create the bench database and table (once; reused while the row count matches)."""
    admin = psycopg2.connect(f"{admin_url}/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{database}"')
    admin.close()
    url = f"{admin_url}/{database}"
    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", (f"public.{TABLE}",))
        exists = cursor.fetchone()
        count = -1
        if exists and exists[0]:
            cursor.execute(f"SELECT count(*) FROM public.{TABLE}")
            count = int(cursor.fetchone()[0])  # type: ignore[index]
        if count != rows:
            print(f"creating {rows:,} rows in {database}.{TABLE} ...", flush=True)
            cursor.execute(CREATE.replace("%(rows)s", str(int(rows))))
    connection.close()
    return url


def land_datapolis(url: str, target: Path) -> str:
    host_port, database = url.split("@", 1)[1].rsplit("/", 1)
    host, port = host_port.split(":")
    source = open_source("postgres", {"host": host, "port": int(port), "database": database,
                                      "user": "postgres"}, {})
    engine = DuckDBEngine(target)
    pending: list[pa.RecordBatch] = []
    try:
        # Writes of about half a million rows: fewer DuckDB transactions, memory still flat.
        for batch in source.read(f"public.{TABLE}"):
            pending.append(batch)
            if sum(b.num_rows for b in pending) >= 500_000:
                engine.write(f"ods_bench.{TABLE}", pa.Table.from_batches(pending))
                pending = []
        if pending:
            engine.write(f"ods_bench.{TABLE}", pa.Table.from_batches(pending))
    finally:
        source.close()
        engine.close()
    return f"ods_bench.{TABLE}"


def land_dlt(backend: str) -> Callable[[str, Path], str]:
    def run(url: str, target: Path) -> str:
        import dlt
        from dlt.sources.sql_database import sql_table

        credentials = url.replace("postgresql://", "postgresql+psycopg2://")
        resource = sql_table(credentials=credentials, table=TABLE, schema="public",
                             backend=backend, chunk_size=100_000)
        pipeline = dlt.pipeline(pipeline_name=f"bench_{backend}",
                                pipelines_dir=str(target.parent / f"dlt_{backend}"),
                                destination=dlt.destinations.duckdb(str(target)),
                                dataset_name="ods_bench")
        pipeline.run(resource)
        return f"ods_bench.{TABLE}"
    return run


def land_copy_csv(url: str, target: Path) -> str:
    csv_path = target.parent / "copy.csv"
    connection = psycopg2.connect(url)
    with connection.cursor() as cursor, csv_path.open("wb") as out:
        cursor.copy_expert(f"COPY (SELECT * FROM public.{TABLE}) TO STDOUT (FORMAT csv, HEADER)",
                           out)
    connection.close()
    con = duckdb.connect(str(target))
    con.execute("CREATE SCHEMA ods_bench")
    con.execute(f"CREATE TABLE ods_bench.{TABLE} AS SELECT * FROM read_csv(?)", [str(csv_path)])
    con.close()
    csv_path.unlink()
    return f"ods_bench.{TABLE}"


def _kept(landed: str | None, expected: str) -> bool:
    return landed == expected or (expected == "VARCHAR" and landed == "JSON")


def landed_types(target: Path, table: str) -> tuple[int, dict[str, str]]:
    con = duckdb.connect(str(target), read_only=True)
    try:
        count = con.execute(f"SELECT count(*) FROM {table}").fetchone()
        described = con.execute(f"DESCRIBE {table}").fetchall()
    finally:
        con.close()
    return int(count[0]) if count else 0, {str(r[0]): str(r[1]) for r in described}


def measure(name: str, land: Callable[[str, Path], str], url: str,
            runs: int) -> dict[str, Any]:
    """Best of `runs`: the run least disturbed by the rest of the (shared) machine."""
    best: dict[str, Any] = {}
    for run in range(runs):
        work = Path(tempfile.mkdtemp(prefix="pg_snapshot_"))
        target = work / "warehouse.duckdb"
        try:
            print(f"running {name} ({run + 1}/{runs}) ...", flush=True)
            started = time.perf_counter()
            table = land(url, target)
            seconds = time.perf_counter() - started
            count, types = landed_types(target, table)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        types = {k: v for k, v in types.items() if not k.startswith("_dlt")}
        if not best or seconds < best["seconds"]:
            best = {"seconds": round(seconds, 2), "rows": count,
                    "rows_per_s": round(count / seconds), "types": types,
                    "types_kept": sum(_kept(types.get(c), t) for c, t in EXPECTED.items()),
                    "runs": runs}
    return best


def previous_results(rows: int) -> dict[str, dict[str, Any]]:
    path = RESULTS / "pg_snapshot.json"
    if not path.exists():
        return {}
    loaded = json.loads(path.read_text(encoding="utf-8"))
    if loaded.get("rows") != rows:
        return {}
    contenders: dict[str, dict[str, Any]] = loaded.get("contenders", {})
    return contenders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="datapolis_bench")
    parser.add_argument("--only", nargs="*", help="contenders to run (default: all); the "
                        "others keep their figures from the last results file")
    parser.add_argument("--runs", type=int, default=1, help="best of N runs per contender")
    args = parser.parse_args()
    url = prepare(args.url, args.database, args.rows)
    contenders: dict[str, Callable[[str, Path], str]] = {
        "Datapolis": land_datapolis,
        "dlt+connectorx": land_dlt("connectorx"),
        "dlt+pyarrow": land_dlt("pyarrow"),
        "COPY csv → DuckDB read_csv": land_copy_csv,
    }
    results: dict[str, dict[str, Any]] = previous_results(args.rows) if args.only else {}
    for name, land in contenders.items():
        if args.only and name not in args.only:
            continue
        try:
            results[name] = measure(name, land, url, args.runs)
        except Exception as exc:  # a peer that fails is reported, not fatal
            results[name] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}
    results["DuckDB postgres extension"] = {
        "skipped": "no duckdb-extension-postgres wheel for duckdb==2.0.1 on PyPI (latest 1.5.5)"}

    ours = results.get("Datapolis", {}).get("rows_per_s", 0)
    comparisons = [Comparison(f"snapshot {args.rows:,} rows", ours, r["rows_per_s"], peer,
                              "rows/s", note=f"types kept {r['types_kept']}/{len(EXPECTED)}")
                   for peer, r in results.items() if peer != "Datapolis" and "rows_per_s" in r]
    print_comparisons(f"PostgreSQL snapshot → DuckDB ({args.rows:,} rows × 15 columns)",
                      comparisons)
    names = [n for n, r in results.items() if "types" in r]
    print_rows("DuckDB type landed per column (✓ = source type kept)", ["column", "expected",
               *names], [[column, expected, *[
                   ("✓ " if _kept(results[n]["types"].get(column), expected) else "✗ ")
                   + results[n]["types"].get(column, "—") for n in names]]
                   for column, expected in EXPECTED.items()])
    for name, r in results.items():
        if "error" in r or "skipped" in r:
            print(f"{name}: {r.get('error') or r.get('skipped')}")
    write_result("pg_snapshot", {"rows": args.rows, "columns": len(EXPECTED),
                                 "contenders": results}, comparisons)


if __name__ == "__main__":
    main()
