"""Benchmark: de-identified reads cost about as much as plain reads (issue 6).

A 15-column person table (10,000,000 rows by default) is generated in DuckDB SQL (range +
hash: names, resident ID numbers, mobiles, birth dates, addresses, employers, incomes...).
Every contender is the same query shape as its peer, the plain SELECT of the same columns, and
is forced two ways: materialised to Arrow (what an interface or a download does) and folded
with bit_xor(hash(...)) over every column (the engine's cost alone, no transfer).

- per method: each method alone on one column vs that column read plainly;
- the keyed pseudonym three ways: read beside the table from its row-aligned pseudonym column
  (what a large read of a table does), joined from the key's pseudonym table (what a large
  read of a view does) and through the per-row Python HMAC-SM3 function (what a read of
  ≤ 10,000 rows does);
- a realistic mixed policy: `view_for` the whole table for the public and for a department
  (L4 ID number as a pseudonym), against the plain read of the columns that audience gets;
- the build cost, apart: the pseudonym table (every distinct value hashed) and the aligned
  column, once per release and key; both after 1% new rows; the aligned column's full
  rebuild after one row is deleted and inserted again; the unchanged-source check every
  large read makes;
- what users wait for, per audience: the whole table written as a CSV and as a Parquet
  download (COPY, as the portal's downloads do), the same through the sharing gateway's bulk
  export (`exports.write_rows`: key order, pyarrow writers) and one interface page of 1,000
  rows after a cursor (`reads.read`, the gateway's filtered query), against the same with the
  plain columns;
- per-value HMAC-SM3 in Python: hmac.digest, cryptography's HMAC, copied hashlib states.

    .venv/bin/python bench/deid_read.py [--rows 10000000] [--runs 3] [--interleaved ROUNDS]
"""

from __future__ import annotations

import argparse
import hmac
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import Comparison, best_of, print_comparisons, print_rows, write_result
from datapolis.security import deid
from datapolis.security.crypto import hmac_sm3
from datapolis.security.deid import Plan, Rule, aligned, pseudonyms
from datapolis.security.deid.keys import Pseudonyms, install
from datapolis.sharing.gateway import reads
from datapolis.sharing.gateway.exports import write_rows
from datapolis.sharing.gateway.reads import View
from datapolis.warehouse import DuckDBEngine
from datapolis.warehouse.engine import quote_identifier

TABLE = "ods_bench.person"
T = TypeVar("T")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英"
COUNTIES = ["兰山区", "罗庄区", "河东区", "沂南县", "郯城县", "沂水县", "兰陵县", "费县", "平邑县",
            "莒南县", "蒙阴县", "临沭县"]
EMPLOYERS = ["临沂市人民医院", "临沂大学", "兰山区实验小学", "山东临工", "鲁南制药集团",
             "临沂商城管委会", "沂水县农商银行", "个体经营"]
# The 15 columns and their grades as the catalog would keep them.
GRADES = {"id": "L1", "xm": "L3", "xb": "L1", "mz": "L1", "csrq": "L2", "nl": "L1",
          "gmsfhm": "L4", "sjhm": "L3", "zz": "L3", "hjdz": "L2", "xl": "L1", "zy": "L1",
          "gzdw": "L2", "ysr": "L3", "hyzk": "L2"}


def _list(values: list[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def generate(engine: DuckDBEngine, rows: int, first: int = 0) -> None:
    """Rows `first` .. `first + rows - 1`, into TABLE (created on the first call)."""
    engine.create_schema("ods_bench")
    verb = f"INSERT INTO {TABLE}" if engine.table_exists(TABLE) else f"CREATE TABLE {TABLE} AS"
    county = f"{_list(COUNTIES)}[1 + (hash(i, 8) % 12)::INT]"
    engine.execute(f"""
        {verb}
        SELECT i AS id,
               substr('{SURNAMES}', 1 + (hash(i, 1) % 20)::INT, 1)
                 || substr('{GIVEN}', 1 + (hash(i, 2) % 25)::INT, 1)
                 || CASE WHEN i % 3 = 0 THEN ''
                    ELSE substr('{GIVEN}', 1 + (hash(i, 3) % 25)::INT, 1) END AS xm,
               CASE WHEN hash(i, 10) % 2 = 0 THEN '男' ELSE '女' END AS xb,
               {_list(["汉族", "汉族", "汉族", "回族", "满族"])}[1 + (hash(i, 11) % 5)::INT] AS mz,
               DATE '1940-01-01' + (hash(i, 5) % 29000)::INT AS csrq,
               (2026 - 1940 - (hash(i, 5) % 29000) // 365)::INTEGER AS nl,
               '3713' || lpad(((hash(i, 4) % 100))::VARCHAR, 2, '0')
                 || strftime(DATE '1940-01-01' + (hash(i, 5) % 29000)::INT, '%Y%m%d')
                 || lpad((i % 10000)::VARCHAR, 4, '0') AS gmsfhm,
               '1' || (3 + hash(i, 6) % 7)::VARCHAR
                 || lpad((hash(i, 7) % 1000000000)::VARCHAR, 9, '0') AS sjhm,
               '山东省临沂市' || {county} || (hash(i, 9) % 300)::VARCHAR || '号' AS zz,
               '山东省临沂市' || {county} || '某街道' AS hjdz,
               {_list(["小学", "初中", "高中", "大专", "本科", "硕士"])}[1 + (hash(i, 12) % 6)::INT]
                 AS xl,
               {_list(["工人", "农民", "教师", "医生", "职员", "个体"])}[1 + (hash(i, 13) % 6)::INT]
                 AS zy,
               {_list(EMPLOYERS)}[1 + (hash(i, 14) % {len(EMPLOYERS)})::INT] AS gzdw,
               round(2000 + (hash(i, 15) % 2000000) / 100.0, 2) AS ysr,
               {_list(["未婚", "已婚", "离婚", "丧偶"])}[1 + (hash(i, 16) % 4)::INT] AS hyzk
        FROM range({int(first)}, {int(first + rows)}) t(i)
    """)


PER_METHOD = [
    ("mask name (first 1, last 1)", Rule("xm", "mask")),
    ("mask mobile (first 3, last 4)", Rule("sjhm", "mask", {"first": 3, "last": 4})),
    ("mask ID number (first 6)", Rule("gmsfhm", "mask", {"first": 6, "last": 0})),
    ("date → month", Rule("csrq", "date")),
    ("date → year", Rule("csrq", "date", {"unit": "year"})),
    ("age → 5-year band", Rule("nl", "band", {"width": 5})),
    ("address → district", Rule("zz", "district")),
    ("income top/bottom coded", Rule("ysr", "clamp", {"low": 3000, "high": 15000})),
    ("income + keyed Laplace noise", Rule("ysr", "noise", {"scale": 100, "digits": 2})),
    ("suppress mobile", Rule("sjhm", "suppress")),
    ("pseudonym ID number (Arrow: aligned column; fold: joined)", Rule("gmsfhm", "pseudonym")),
]
VIEW = "ods_bench.person_v"  # a view has no row order to align with: the pseudonym table


@dataclass(frozen=True)
class Item:
    """A catalog item whose grade a person confirmed."""

    column_name: str
    confirmed_grade: str

    @property
    def security_grade(self) -> str:
        return self.confirmed_grade


def _fold(columns: list[str], select: str) -> str:
    fold = ", ".join(f"bit_xor(hash({quote_identifier(c)}))" for c in columns)
    return f"SELECT {fold} FROM ({select})"


def _time_read(engine: DuckDBEngine, plan: Plan, runs: int, *, udf: bool = False,
               table: str = TABLE) -> dict[str, float]:
    """A de-identified read as the product does it: `deid.read` to Arrow (pseudonyms from the
    aligned columns, their change check included), and its one-statement SELECT (what streams
    and downloads run: pseudonym tables joined) folded in DuckDB; `udf` forces the per-row
    function instead."""
    def select() -> str:
        if udf:
            install(engine, plan.context)  # type: ignore[arg-type]
            return deid.deidentified_select(table, plan)
        return deid.deidentified_select(table, plan, deid.plans.prepare(engine, table, plan))
    read = ((lambda: engine.query(select())) if udf
            else (lambda: deid.read(engine, table, plan)))
    return {"arrow_s": best_of(runs, read),
            "fold_s": best_of(runs, lambda: engine.query(_fold(plan.columns, select())))}


def _time_plain(engine: DuckDBEngine, columns: list[str], runs: int) -> dict[str, float]:
    select = deid.deidentified_select(TABLE, Plan(tuple(Rule(c) for c in columns)))
    return {"arrow_s": best_of(runs, lambda: engine.query(select)),
            "fold_s": best_of(runs, lambda: engine.query(_fold(columns, select)))}


def _time_delivery(engine: DuckDBEngine, plan: Plan, directory: Path, runs: int,
                   rows: int) -> dict[str, float]:
    """The reads users wait for: a whole-table download written as CSV and as Parquet (COPY,
    as the portal's downloads do), the same through the sharing gateway's bulk export (rows
    in key order, written batch by batch) and one interface page of 1,000 rows after a cursor."""
    def copy(fmt: str) -> None:
        select = deid.deidentified_select(TABLE, plan, deid.plans.prepare(engine, TABLE, plan))
        target = directory / f"download.{fmt}"
        engine.execute(f"COPY ({select}) TO '{target}' (FORMAT {fmt})")

    types = {column.name: column.type for column in engine.columns(TABLE)}
    view = View(grant_id=0, table=TABLE, key="id", plan=plan, types=types, scope_sql=None,
                scope_params=(), protected_key=False)

    def page() -> None:  # the gateway's filtered query: the next 1,000 rows after a cursor
        answer = reads.read(engine, view, plan, ['"id" > ?'], [rows // 2], limit=1_000)
        assert len(answer) == 1_000

    def export(fmt: str) -> None:
        write_rows(engine, view, plan, [], [], fmt, directory / f"export.{fmt}")

    return {"csv_s": best_of(runs, lambda: copy("csv")),
            "parquet_s": best_of(runs, lambda: copy("parquet")),
            "export_csv_s": best_of(runs, lambda: export("csv")),
            "export_parquet_s": best_of(runs, lambda: export("parquet")),
            "page_s": best_of(max(runs, 5), page)}


def hash_costs(count: int = 200_000) -> dict[str, float]:
    """µs per value of HMAC-SM3 in Python, three ways."""
    key = deid.release_key("bench-secret-not-for-production", "hash")
    values = [f"371302{n:012d}".encode() for n in range(count)]
    hasher = Pseudonyms(key)
    ways = {"hmac.digest(key, msg, 'sm3')": lambda: [hmac.digest(key, v, "sm3") for v in values],
            "cryptography HMAC": lambda: [hmac_sm3(key, v) for v in values],
            "copied hashlib SM3 states (used)": lambda: hasher.many(values)}
    return {name: round(best_of(2, work) / count * 1e6, 3) for name, work in ways.items()}


def interleaved(rows: int, rounds: int) -> None:
    """Where a department's read goes, each contender once per round in turn, so load that
    comes and goes on a shared machine falls on all of them alike; medians of the rounds."""
    engine = DuckDBEngine()
    generate(engine, rows)
    engine.execute(f"CREATE VIEW {VIEW} AS SELECT * FROM {TABLE}")
    key = deid.release_key("bench-secret-not-for-production", "bench")
    aligned.ensure(engine, key, TABLE, "gmsfhm")
    items = [Item(column, grade) for column, grade in GRADES.items()]
    plan = deid.view_for(items, "department", key)
    plan = Plan(plan.rules, plan.withheld, plan.key, row_id="id")
    plain = Plan(tuple(Rule(c) for c in plan.columns))
    kept = Plan(tuple(Rule(r.column) if r.method == "pseudonym" else r for r in plan.rules),
                row_id="id")
    work = {
        "plain, same columns": lambda: deid.read(engine, TABLE, plain),
        "methods, ID number kept": lambda: deid.read(engine, TABLE, kept),
        "department view, aligned pseudonym": lambda: deid.read(engine, TABLE, plan),
        "department view, joined pseudonym table": lambda: deid.read(engine, VIEW, plan),
        "plain gmsfhm": lambda: deid.read(engine, TABLE, Plan((Rule("gmsfhm"),))),
        "pseudonym gmsfhm, aligned": lambda: deid.read(
            engine, TABLE, Plan((Rule("gmsfhm", "pseudonym"),), key=key)),
    }
    times: dict[str, list[float]] = {name: [] for name in work}
    for _ in range(rounds):
        for name, read in work.items():
            times[name].append(best_of(1, read))
    engine.close()
    median = {name: statistics.median(values) for name, values in times.items()}
    comparisons = [Comparison(f"{name}, to Arrow (median of {rounds})", median[name],
                              median[peer], peer, "s", higher_is_better=False)
                   for name, peer in [("methods, ID number kept", "plain, same columns"),
                                      ("department view, aligned pseudonym",
                                       "plain, same columns"),
                                      ("department view, joined pseudonym table",
                                       "plain, same columns"),
                                      ("pseudonym gmsfhm, aligned", "plain gmsfhm")]]
    print_comparisons(f"A department's read, interleaved, {rows:,} rows", comparisons)
    path = write_result("deid_read_interleaved", {"rows": rows, "rounds": rounds,
                                                  "seconds": times}, comparisons)
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--interleaved", type=int, metavar="ROUNDS", default=0,
                        help="only the department read's breakdown, contenders in turn")
    args = parser.parse_args()
    rows, runs = args.rows, args.runs
    if args.interleaved:
        interleaved(rows, args.interleaved)
        return

    engine = DuckDBEngine()
    started = time.perf_counter()
    generate(engine, rows)
    generated = time.perf_counter() - started
    print(f"generated {rows:,} rows in {generated:.1f} s", flush=True)
    key = deid.release_key("bench-secret-not-for-production", "bench")

    # The pseudonym table and the aligned column: built once for the release, then kept up
    # to date.
    build: dict[str, float | int] = {}

    def timed(name: str, work: Callable[[], T]) -> T:
        started = time.perf_counter()
        done = work()
        build[name] = round(time.perf_counter() - started, 3)
        return done

    first = timed("table_one_time_s", lambda: pseudonyms.refresh(engine, key, TABLE, "gmsfhm"))
    build["table_one_time_values"] = first.hashed
    timed("aligned_one_time_s", lambda: aligned.ensure(engine, key, TABLE, "gmsfhm"))
    timed("unchanged_check_s", lambda: aligned.ensure(engine, key, TABLE, "gmsfhm"))
    grown = max(1, rows // 100)
    generate(engine, grown, first=rows)
    step = timed("table_incremental_s", lambda: pseudonyms.refresh(engine, key, TABLE, "gmsfhm"))
    build["table_incremental_values"] = step.hashed
    appended = timed("aligned_append_s", lambda: aligned.ensure(engine, key, TABLE, "gmsfhm"))
    build["aligned_append_rows"] = appended.rows
    assert appended.action == "appended"
    engine.execute(f"DELETE FROM {TABLE} WHERE id >= ?", [rows])  # back to `rows` rows
    generate(engine, 1, first=rows // 2)  # a row deleted and inserted again: out of place
    engine.execute(f"DELETE FROM {TABLE} WHERE id = ? AND rowid < ?", [rows // 2, rows // 2 + 1])
    rebuilt = timed("aligned_rebuild_s", lambda: aligned.ensure(engine, key, TABLE, "gmsfhm"))
    assert rebuilt.action == "rebuilt"
    engine.execute(f"CREATE VIEW {VIEW} AS SELECT * FROM {TABLE}")
    print(f"pseudonym table and aligned column: {build}", flush=True)

    timings: dict[str, dict[str, float]] = {}
    comparisons: list[Comparison] = []

    def compare(label: str, ours: dict[str, float], peer: dict[str, float], peer_name: str,
                per: str = "rows") -> None:
        for force, what in (("arrow_s", "to Arrow"), ("fold_s", "folded in DuckDB")):
            comparisons.append(Comparison(
                f"{label}, {what}", ours[force], peer[force], peer_name, "s",
                higher_is_better=False, note=f"{rows / ours[force] / 1e6:,.1f} M {per}/s"))

    plain_columns: dict[str, dict[str, float]] = {}
    for label, rule in PER_METHOD:
        if rule.column not in plain_columns:
            plain_columns[rule.column] = _time_plain(engine, [rule.column], runs)
            timings[f"plain {rule.column}"] = plain_columns[rule.column]
        plan = Plan((rule,), key=key, row_id="id")
        timings[label] = _time_read(engine, plan, runs)
        compare(label, timings[label], plain_columns[rule.column],
                f"plain {rule.column}", "values")
        print(f"{label}: {timings[label]}", flush=True)
    label = "pseudonym ID number, joined table (a view)"
    timings[label] = _time_read(engine, Plan((Rule("gmsfhm", "pseudonym"),), key=key), runs,
                                table=VIEW)
    compare(label, timings[label], plain_columns["gmsfhm"], "plain gmsfhm", "values")
    print(f"{label}: {timings[label]}", flush=True)
    label = "pseudonym ID number, per-row Python UDF"
    timings[label] = _time_read(engine, Plan((Rule("gmsfhm", "pseudonym"),), key=key), 1,
                                udf=True)
    compare(label, timings[label], plain_columns["gmsfhm"], "plain gmsfhm", "values")
    print(f"{label}: {timings[label]}", flush=True)

    items = [Item(column, grade) for column, grade in GRADES.items()]
    for audience in ("public", "department"):
        plan = deid.view_for(items, audience, key)
        plan = Plan(plan.rules, plan.withheld, plan.key, row_id="id")
        ours = timings[f"view_for {audience}"] = _time_read(engine, plan, runs)
        peer = timings[f"plain {audience} columns"] = _time_plain(engine, plan.columns, runs)
        compare(f"view_for {audience} ({len(plan.columns)} of 15 columns)", ours, peer,
                "plain read, same columns")
        print(f"view_for {audience}: {ours} vs {peer}", flush=True)
        with tempfile.TemporaryDirectory() as directory:
            plain_plan = Plan(tuple(Rule(c) for c in plan.columns), row_id="id")
            ours = timings[f"delivery {audience}"] = _time_delivery(
                engine, plan, Path(directory), runs, rows)
            peer = timings[f"delivery plain {audience} columns"] = _time_delivery(
                engine, plain_plan, Path(directory), runs, rows)
        for force, what in (("csv_s", "download written as CSV"),
                            ("parquet_s", "download written as Parquet"),
                            ("export_csv_s", "sharing export, CSV"),
                            ("export_parquet_s", "sharing export, Parquet"),
                            ("page_s", "interface page of 1,000 rows")):
            comparisons.append(Comparison(
                f"view_for {audience}, {what}", ours[force], peer[force],
                "plain, same columns", "s", higher_is_better=False))
        print(f"delivery {audience}: {ours} vs {peer}", flush=True)
    engine.close()

    hashing = hash_costs()
    print_comparisons(f"De-identified vs plain reads, {rows:,} rows", comparisons)
    print_rows("Pseudonym table and aligned column of the ID number", ["step", "values", "s"], [
        ["pseudonym table, one-time build (distinct values hashed)",
         f"{build['table_one_time_values']:,}", f"{build['table_one_time_s']:.2f}"],
        ["aligned column, one-time build (rows)", f"{rows:,}",
         f"{build['aligned_one_time_s']:.2f}"],
        ["unchanged-source check (every large read)", "0", f"{build['unchanged_check_s']:.3f}"],
        ["pseudonym table after 1% new rows", f"{build['table_incremental_values']:,}",
         f"{build['table_incremental_s']:.2f}"],
        ["aligned column after 1% new rows (append)", f"{build['aligned_append_rows']:,}",
         f"{build['aligned_append_s']:.2f}"],
        ["aligned column after one row moved (full rebuild)", f"{rows:,}",
         f"{build['aligned_rebuild_s']:.2f}"]])
    print_rows("HMAC-SM3 in Python, µs a value", ["way", "µs"],
               [[name, f"{us:.2f}"] for name, us in hashing.items()])
    path = write_result("deid_read", {
        "rows": rows, "runs": runs, "generate_s": round(generated, 2),
        "build": build,
        "hmac_sm3_us_per_value": hashing, "timings": timings}, comparisons)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
