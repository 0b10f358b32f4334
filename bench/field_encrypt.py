"""Benchmark: field encryption throughput and blind-index lookups (issue 6).

A person table of resident ID numbers (1,000,000 rows by default) is generated in DuckDB SQL.

- sealing: SM4-GCM ciphertext plus HMAC-SM3 blind index for every value, Arrow batch by Arrow
  batch (`FieldCipher.encrypt` + `BlindIndex.of`, what every landing does), against the
  straightforward per-value path a developer would write first (`Keyring.encrypt`, the
  secrets-at-rest call, and cryptography's HMAC object per value);
- protecting the existing table end to end (`service.protect`: batches read by rowid,
  parked, written back by UPDATE, registry on SQLite), in rows/s;
- equality lookup of one person through the blind index on the protected table, against the
  same lookup on a plain copy of the column (best of runs over 200 different values);
- a join of the protected table to a second protected table of 100,000 owners on the blind
  index, against the same join on the plain columns.

    .venv/bin/python bench/field_encrypt.py [--rows 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import Comparison, best_of, print_comparisons, write_result
from datapolis.registry import migrate
from datapolis.registry.db import open_registry
from datapolis.security.crypto import Keyring, hmac_sm3
from datapolis.security.fields import keys, reads, service
from datapolis.warehouse import DuckDBEngine

SECRET = "bench-secret-key-0123456789abcdefghijklmnop"
BATCH = 50_000
LOOKUPS = 200


def generate(engine: DuckDBEngine, table: str, rows: int, every: int = 1) -> None:
    # 18-character ID-number-shaped strings in no particular order (real tables are not sorted
    # by ID number: sorted values would let DuckDB's min/max zone maps skip the plain scan);
    # `every` thins the rows (owners: every 10th person).
    engine.create_schema(table.split(".")[0])
    engine.execute(
        f"CREATE OR REPLACE TABLE {table} AS SELECT i AS id, "
        "'3713' || lpad(CAST(hash(i) % 100000000000000 AS VARCHAR), 14, '0') AS sfzh, "
        "'house-' || CAST(i AS VARCHAR) AS house "
        f"FROM range(0, {rows}, {every}) r(i)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows, runs = args.rows, args.runs
    master = Keyring.from_secret(SECRET)
    workdir = Path(tempfile.mkdtemp(prefix="field_encrypt_"))
    engine = DuckDBEngine(workdir / "w.duckdb")
    registry = open_registry(f"sqlite:///{workdir / 'registry.sqlite'}")
    migrate.upgrade(registry)
    generate(engine, "ods_bench.person", rows)
    generate(engine, "ods_bench.plain_person", rows)
    generate(engine, "ods_bench.owner", rows, every=10)
    generate(engine, "ods_bench.plain_owner", rows, every=10)
    values = engine.query("SELECT sfzh FROM ods_bench.person ORDER BY id").column(0)
    comparisons: list[Comparison] = []
    timings: dict[str, float] = {}

    # --- sealing: the batch path against a per-value path -------------------------------
    with registry.session() as session:
        keys.ensure_current(session, master, actor="bench")
        cipher = keys.cipher(session, master)
        index = keys.blind_index(session, master, "id_number", actor="bench")
        index_key = b"k" * 32

    def sealed_in_batches() -> None:
        for start in range(0, rows, BATCH):
            chunk = values.slice(start, BATCH)
            cipher.encrypt(chunk, "id_number")
            index.of(chunk)

    sample = min(rows, 200_000)  # the per-value path is slow; time a sample and scale

    def sealed_per_value() -> None:
        for text in values.slice(0, sample).to_pylist():
            master.encrypt(text, context="field:id_number")
            hmac_sm3(index_key, text.strip().upper().encode())

    timings["seal_batches_s"] = best_of(1, sealed_in_batches)
    timings["seal_per_value_s"] = best_of(1, sealed_per_value) * rows / sample
    comparisons.append(Comparison(
        "seal (SM4-GCM + HMAC-SM3 index), rows/s", rows / timings["seal_batches_s"],
        rows / timings["seal_per_value_s"], "Keyring.encrypt + HMAC per value",
        "rows/s", note=f"{timings['seal_batches_s'] / rows * 1e6:,.1f} µs a value"))
    print(f"sealing: {timings}", flush=True)

    # --- protecting the existing table end to end ----------------------------------------
    for table in ("ods_bench.person", "ods_bench.owner"):
        started = time.perf_counter()
        service.protect(registry, engine, master, table=table, column="sfzh",
                        family="id_number", actor="bench")
        timings[f"protect_{table}_s"] = time.perf_counter() - started
    protect_s = timings["protect_ods_bench.person_s"]
    print(f"protect: {rows / protect_s:,.0f} rows/s", flush=True)

    # --- lookups: blind index against plain ----------------------------------------------
    wanted = values.take(pa.array(range(0, rows, max(1, rows // LOOKUPS)))).to_pylist()[:LOOKUPS]
    with registry.session() as session:
        conditions = [reads.condition(session, master, "ods_bench.person", "sfzh", v)
                      for v in wanted]

    def blind_lookups() -> None:
        for predicate, params in conditions:
            found = engine.query(f"SELECT id FROM ods_bench.person WHERE {predicate}", params)
            assert found.num_rows == 1

    def plain_lookups() -> None:
        for value in wanted:
            found = engine.query("SELECT id FROM ods_bench.plain_person WHERE sfzh = ?", [value])
            assert found.num_rows == 1

    timings["lookup_blind_s"] = best_of(runs, blind_lookups) / len(wanted)
    timings["lookup_plain_s"] = best_of(runs, plain_lookups) / len(wanted)
    with registry.session() as session:
        start = time.perf_counter()
        for value in wanted[:20]:
            reads.condition(session, master, "ods_bench.person", "sfzh", value)
        timings["lookup_rewrite_s"] = (time.perf_counter() - start) / 20
    comparisons.append(Comparison(
        "equality lookup of one person, ms", timings["lookup_blind_s"] * 1e3,
        timings["lookup_plain_s"] * 1e3, "plain column", "ms", higher_is_better=False,
        note=f"+ {timings['lookup_rewrite_s'] * 1e3:,.2f} ms to build the index predicate"))

    # --- joins: blind index against plain ------------------------------------------------
    def blind_join() -> None:
        engine.query("SELECT count(*) AS n FROM ods_bench.person p JOIN ods_bench.owner o "
                     "ON p.sfzh__bidx = o.sfzh__bidx")

    def plain_join() -> None:
        engine.query("SELECT count(*) AS n FROM ods_bench.plain_person p "
                     "JOIN ods_bench.plain_owner o ON p.sfzh = o.sfzh")

    matched = engine.query("SELECT count(*) AS n FROM ods_bench.person p JOIN ods_bench.owner o "
                           "ON p.sfzh__bidx = o.sfzh__bidx").column(0)[0].as_py()
    assert matched == (rows + 9) // 10, matched
    timings["join_blind_s"] = best_of(runs, blind_join)
    timings["join_plain_s"] = best_of(runs, plain_join)
    comparisons.append(Comparison(
        f"join {rows:,} x {matched:,} on the ID number, ms", timings["join_blind_s"] * 1e3,
        timings["join_plain_s"] * 1e3, "plain columns", "ms", higher_is_better=False,
        note="32-hex blind index vs 18-character ID"))

    print_comparisons(f"Field encryption, {rows:,} ID numbers", comparisons)
    path = write_result("field_encrypt", {
        "rows": rows, "runs": runs, "batch_rows": BATCH, "lookups": len(wanted),
        "protect_rows_per_s": rows / protect_s, "timings": timings,
    }, comparisons)
    print(f"wrote {path}")
    engine.close()
    registry.close()


if __name__ == "__main__":
    main()
