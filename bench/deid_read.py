"""Benchmark: de-identified reads cost about as much as plain reads (issue 6).

A person-like table of 10,000,000 rows is generated in DuckDB SQL (range + random: names,
resident ID numbers, mobile numbers, birth dates, ages, addresses, incomes). Each contender
reads all eight columns and the result is forced two ways: materialised to Arrow (what an
interface or a download does) and folded with bit_xor(hash(...)) over every column (the
engine's cost alone, no transfer). The peer is the plain SELECT of the same columns.

- de-identified, SQL methods: masking, date → month, age → 5-year band, address → district,
  keyed Laplace noise on income, the ID number masked;
- de-identified with a pseudonym: the same, with the ID number as an HMAC-SM3 pseudonym (a
  vectorised Python function: DuckDB has no SM3), reported separately since it dominates;
- the pseudonym function alone on one column, against reading that column plainly.

    .venv/bin/python bench/deid_read.py [--rows 10000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import Comparison, best_of, print_comparisons, write_result
from datapolis.security import deid
from datapolis.security.deid import Plan, Rule
from datapolis.warehouse import DuckDBEngine
from datapolis.warehouse.engine import quote_identifier

TABLE = "ods_bench.person"
COLUMNS = ["id", "xm", "gmsfhm", "sjhm", "csrq", "nl", "zz", "ysr"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英"
COUNTIES = ["兰山区", "罗庄区", "河东区", "沂南县", "郯城县", "沂水县", "兰陵县", "费县", "平邑县",
            "莒南县", "蒙阴县", "临沭县"]


def generate(engine: DuckDBEngine, rows: int) -> None:
    counties = "[" + ", ".join(f"'{c}'" for c in COUNTIES) + "]"
    engine.execute("CREATE SCHEMA ods_bench")
    engine.execute(f"""
        CREATE TABLE {TABLE} AS
        SELECT i AS id,
               substr('{SURNAMES}', 1 + (hash(i, 1) % 20)::INT, 1)
                 || substr('{GIVEN}', 1 + (hash(i, 2) % 25)::INT, 1)
                 || CASE WHEN i % 3 = 0 THEN ''
                    ELSE substr('{GIVEN}', 1 + (hash(i, 3) % 25)::INT, 1) END
                 AS xm,
               '3713' || lpad(((hash(i, 4) % 100))::VARCHAR, 2, '0')
                 || strftime(DATE '1940-01-01' + (hash(i, 5) % 29000)::INT, '%Y%m%d')
                 || lpad((i % 10000)::VARCHAR, 4, '0') AS gmsfhm,
               '1' || (3 + hash(i, 6) % 7)::VARCHAR
                 || lpad((hash(i, 7) % 1000000000)::VARCHAR, 9, '0')
                 AS sjhm,
               DATE '1940-01-01' + (hash(i, 5) % 29000)::INT AS csrq,
               (2026 - 1940 - (hash(i, 5) % 29000) // 365)::INTEGER AS nl,
               '山东省临沂市' || {counties}[1 + (hash(i, 8) % 12)::INT]
                 || (hash(i, 9) % 300)::VARCHAR || '号' AS zz,
               round(2000 + random() * 20000, 2) AS ysr
        FROM range({int(rows)}) t(i)
    """)


SQL_METHODS = (Rule("id"), Rule("xm", "mask"), Rule("gmsfhm", "mask", {"first": 6, "last": 0}),
               Rule("sjhm", "mask", {"first": 3, "last": 4}), Rule("csrq", "date"),
               Rule("nl", "band", {"width": 5}), Rule("zz", "district"),
               Rule("ysr", "noise", {"scale": 100, "digits": 2}))


def plans(key: bytes) -> dict[str, Plan]:
    with_pseudonym = tuple(Rule("gmsfhm", "pseudonym") if r.column == "gmsfhm" else r
                           for r in SQL_METHODS)
    return {
        "plain": Plan(tuple(Rule(c) for c in COLUMNS)),
        "deid": Plan(SQL_METHODS, key=key, row_id="id"),
        "deid_pseudonym": Plan(with_pseudonym, key=key, row_id="id"),
        "plain_id_only": Plan((Rule("gmsfhm"),)),
        "pseudonym_only": Plan((Rule("gmsfhm", "pseudonym"),), key=key),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    engine = DuckDBEngine()
    started = time.perf_counter()
    generate(engine, args.rows)
    generated = time.perf_counter() - started
    key = deid.release_key("bench-secret-not-for-production", "bench")
    timings: dict[str, dict[str, float]] = {}
    for name, plan in plans(key).items():
        joined = deid.plans.prepare(engine, TABLE, plan)
        select = deid.deidentified_select(TABLE, plan, joined)
        fold = ", ".join(f"bit_xor(hash({quote_identifier(r.column)}))" for r in plan.rules)
        runs = args.runs if "pseudonym" not in name else max(1, args.runs - 1)
        timings[name] = {
            "arrow_s": best_of(runs, lambda s=select: engine.query(s)),
            "fold_s": best_of(runs, lambda s=select, f=fold: engine.query(
                f"SELECT {f} FROM ({s})")),
        }
        print(f"{name}: {timings[name]}", flush=True)
    engine.close()

    comparisons = []
    for ours, peer, label in (("deid", "plain", "SQL methods"),
                              ("deid_pseudonym", "plain", "SQL methods + HMAC-SM3 pseudonym"),
                              ("pseudonym_only", "plain_id_only", "HMAC-SM3 pseudonym, 1 column")):
        for force, what in (("arrow_s", "to Arrow"), ("fold_s", "folded in DuckDB")):
            comparisons.append(Comparison(
                f"{label}, {what}", timings[ours][force], timings[peer][force],
                f"plain read ({peer})", "s", higher_is_better=False,
                note=f"{args.rows / timings[ours][force] / 1e6:,.1f} M rows/s"))
    print_comparisons(f"De-identified vs plain reads, {args.rows:,} rows", comparisons)
    path = write_result("deid_read", {"rows": args.rows, "runs": args.runs,
                                      "generate_s": round(generated, 2), "timings": timings},
                        comparisons)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
