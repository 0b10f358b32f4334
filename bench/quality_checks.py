"""Benchmark: the same 12 quality checks on a 10,000,000-row person table (issue 7, Speed).

Contenders, each timed best of `--runs` after a warm-up run, all on the same data:

- Datapolis: `datapolis.quality.run_checks` over the table in the warehouse's DuckDB file,
  failing-row samples on;
- Soda Core 3.5 (soda-core-duckdb, which pins DuckDB < 1.1) in var/bench/venvs/soda, over a
  copy of the file in the storage format DuckDB 1.0 reads, with its default failed-row samples;
- Great Expectations 1.x in var/bench/venvs/gx, a SQL datasource (duckdb-engine) on the same
  DuckDB file, its default result format (BASIC: counts and up to 20 unexpected values);
- the floor: one hand-written DuckDB query computing all 13 counts (bench/_quality_spec.py).

Every contender must report identical counts (uniqueness both as duplicated values and as rows
that have a duplicate); a difference is printed as a table and fails the run. Then the
incremental scenario: 1 % of the rows change through `changelog.merge` (the path incremental
landing uses: the merge and the landing log in one commit; updates and inserts, some bringing
new dirt and new duplicates), Datapolis re-checks from the landing log, and the result must
equal a full re-check and the floor.

The person table is generated in DuckDB SQL (bench/_quality_data.py) and cached under
var/bench/quality_checks/, keyed by rows, seed and DuckDB version. The peers' virtual
environments are made by `make bench-peers` (pinned in bench/peers/).

    .venv/bin/python bench/quality_checks.py [--rows 10000000] [--runs 3] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import pyarrow as pa  # noqa: E402

from bench import _quality_data as data  # noqa: E402
from bench import _quality_spec as spec  # noqa: E402
from bench._common import Comparison, print_comparisons, print_rows, write_result  # noqa: E402
from datapolis.ingest import changelog  # noqa: E402
from datapolis.quality import CheckReport, LandingLog, Rule, run_checks  # noqa: E402
from datapolis.warehouse import DuckDBEngine  # noqa: E402

CACHE = ROOT / "var" / "bench" / "quality_checks"
VENVS = ROOT / "var" / "bench" / "venvs"
PEER_STORAGE = "v1.0.0"  # what soda-core-duckdb's DuckDB (< 1.1) can open
CONTENDERS = ("floor", "datapolis", "soda", "gx")

Counts = dict[str, int]


# --- data ------------------------------------------------------------------------------------

def prepared(rows: int, seed: int) -> tuple[Path, Path]:
    """The cached DuckDB file of the person table, and its copy for the peers' old DuckDB."""
    CACHE.mkdir(parents=True, exist_ok=True)
    stem = f"person-g{data.VERSION}-r{rows}-s{seed}-duckdb{duckdb.__version__}"
    main, peer = CACHE / f"{stem}.duckdb", CACHE / f"{stem}-{PEER_STORAGE}.duckdb"
    if not main.exists():
        building = main.with_suffix(".building")
        building.unlink(missing_ok=True)
        started = time.perf_counter()
        engine = DuckDBEngine(building)
        data.generate(engine, rows, seed)
        engine.execute("CHECKPOINT")
        engine.close()
        building.rename(main)
        print(f"generated {rows:,} rows in {time.perf_counter() - started:.1f} s: {main}")
    if not peer.exists():
        building = peer.with_suffix(".building")
        building.unlink(missing_ok=True)
        connection = duckdb.connect()
        connection.execute(f"ATTACH '{main}' AS src (READ_ONLY)")
        connection.execute(f"ATTACH '{building}' AS dst (STORAGE_VERSION '{PEER_STORAGE}')")
        connection.execute(f"CREATE TABLE dst.main.person AS SELECT * FROM src.{data.TABLE}")
        connection.close()
        building.rename(peer)
    return main, peer


# --- contenders --------------------------------------------------------------------------------

def timed(runs: int, work: Callable[[], Counts]) -> tuple[Counts, list[float]]:
    """Counts of a warm-up run, then the wall times of `runs` more (best is the figure)."""
    counts = work()
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        again = work()
        seconds.append(time.perf_counter() - started)
        if again != counts:
            raise SystemExit(f"counts changed between runs: {counts} != {again}")
    return counts, seconds


def taking_turns(runs: int, contenders: dict[str, Callable[[], Counts]],
                 prepare: dict[str, Callable[[], None]] | None = None,
                 ) -> tuple[dict[str, Counts], dict[str, list[float]]]:
    """`timed` for several contenders at once, one run of each in turn; `prepare[name]` runs
    before each run of `name`, outside the timing."""
    ready = prepare or {}
    counts = {}
    for name, work in contenders.items():  # warm-up
        ready.get(name, lambda: None)()
        counts[name] = work()
    seconds: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(runs):
        for name, work in contenders.items():
            ready.get(name, lambda: None)()
            started = time.perf_counter()
            again = work()
            seconds[name].append(time.perf_counter() - started)
            if again != counts[name]:
                raise SystemExit(f"{name}: counts changed between runs")
    return counts, seconds


def floor_counts(engine: DuckDBEngine, today: str) -> Counts:
    row = engine.query(spec.floor_sql(data.TABLE, today)).to_pylist()[0]
    return {name: int(row[name]) for name in spec.COUNTS}


def datapolis_rules() -> list[Rule]:
    """The 12 checks as a bureau would set them up in Datapolis (built-in kinds only).

    The regex kind carries the peers' patterns: the `mobile` kind also accepts +86 and
    hyphens, which the peers' plain regular expression does not. Row count > 0 is the row
    count every run reports (the `row_count` kind compares with the previous run instead).
    """
    return [
        Rule("id_missing", "not_null", ("gmsfhm",)),
        Rule("id_invalid", "resident_id", ("gmsfhm",)),
        Rule("id_unique", "unique", ("gmsfhm",)),
        Rule("name_blank", "not_blank", ("xm",)),
        Rule("mobile_invalid", "regex", ("sjhm",), {"pattern": spec.MOBILE_REGEX}),
        Rule("sex_invalid", "in_set", ("xb",), {"values": list(spec.SEX_CODES)}),
        Rule("birth_invalid", "date_range", ("csrq",), {"min": spec.FIRST_BIRTH, "max": "today"}),
        Rule("age_out_of_range", "range", ("nl",), {"min": spec.AGE_MIN, "max": spec.AGE_MAX}),
        Rule("division_invalid", "in_set", ("xzqh",), {"values": list(spec.DIVISIONS)}),
        Rule("email_invalid", "regex", ("yx",), {"pattern": spec.EMAIL_REGEX}),
        Rule("registered_in_future", "date_range", ("djrq",), {"max": "today"}),
    ]


def datapolis_counts(report: CheckReport) -> Counts:
    counts: Counts = {"row_count": report.rows}
    for result in report.results:
        if result.rule.kind == "unique":
            counts["id_duplicate_values"] = int(result.detail["duplicated_values"])
            counts["id_duplicate_rows"] = int(result.detail["rows_with_duplicate"])
        else:
            counts[result.rule.code] = result.failed
    return counts


def datapolis_check(engine: DuckDBEngine, changed: LandingLog | None = None) -> CheckReport:
    report = run_checks(engine, data.TABLE, datapolis_rules(), key=["id"], samples=True,
                        changed=changed)
    missing = [r.rule.code for r in report.results if r.failed and not r.sample]
    if missing:  # samples on means samples delivered
        raise SystemExit(f"Datapolis returned no failing-row sample for {missing}")
    return report


def peer(name: str, script: str, db: Path, today: str, runs: int) -> tuple[Counts, list[float]]:
    python = VENVS / name / "bin" / "python"
    if not python.exists():
        raise SystemExit(f"{python} is missing: run `make bench-peers` first")
    done = subprocess.run(
        [str(python), str(ROOT / "bench" / script), "--db", str(db), "--today", today,
         "--runs", str(runs)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr[-4000:]}{done.stdout[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    counts = {k: int(v) for k, v in result["counts"].items()}
    return counts, [float(s) for s in result["seconds"]]


# --- verification and report -------------------------------------------------------------------

def verify(counts: dict[str, Counts]) -> None:
    """Fail loudly, with the differing counts, unless every contender reports the floor's."""
    floor = counts["floor"]
    names = list(counts)
    differing = [k for k in spec.COUNTS if any(c.get(k) != floor[k] for c in counts.values())]
    if differing:
        print_rows("counts that differ", ["count", *names],
                   [[k, *(str(counts[n].get(k, "—")) for n in names)] for k in differing])
        raise SystemExit(f"MISMATCH: {len(differing)} count(s) differ between contenders")


def working_copy(main_db: Path) -> Path:
    """Datapolis writes its failure store into the warehouse, and the incremental scenario
    changes rows: both happen in a copy, so the cached table stays as generated."""
    work = CACHE / "work.duckdb"
    work.unlink(missing_ok=True)
    Path(f"{work}.wal").unlink(missing_ok=True)
    shutil.copyfile(main_db, work)
    return work


def load_one_percent(engine: DuckDBEngine, rows: int, seed: int) -> dict[str, int | float]:
    """Change 1 % of the rows as an incremental landing does (merge on the key, recorded
    in the landing log in the same commit):
    0.7 % updated (the same people, other dirt) and 0.3 % inserted (new records, some of them
    a second record of someone already there), all with a newer `gxsj`."""
    changed_at = "2026-06-01 08:00:00"
    updates_sql, params = data.person_select(1, rows, seed, dirt_seed=seed + 1, per_mille=7)
    inserts_sql, insert_params = data.person_select(rows + 1, rows * 3 // 1000, seed)
    updates = engine.query(f"SELECT * REPLACE (TIMESTAMP '{changed_at}' AS gxsj) "
                           f"FROM ({updates_sql})", params)
    inserts = engine.query(f"SELECT * REPLACE (TIMESTAMP '{changed_at}' AS gxsj) "
                           f"FROM ({inserts_sql})", insert_params)
    batch = pa.concat_tables([updates, inserts])
    started = time.perf_counter()
    merged = changelog.merge(engine, data.TABLE, batch, ["id"])
    return {"updated": merged.updated, "inserted": merged.inserted,
            "merge_s": round(time.perf_counter() - started, 3)}


def incremental(work: Path, rows: int, seed: int, today: str, runs: int) -> dict[str, Any]:
    engine = DuckDBEngine(work)
    # The check after the previous load: a full one (nothing to compare with yet); it opens
    # the landing log, so the load below is recorded.
    datapolis_check(engine, LandingLog())
    load = load_one_percent(engine, rows, seed)
    print(f"loaded 1 %: {load}", flush=True)
    log = changelog.log_name(data.TABLE)
    saved = "main._bench_landed"  # the load's log, put back before every incremental run
    engine.execute(f"CREATE OR REPLACE TABLE {saved} AS SELECT * FROM {log.sql}")
    reports: dict[str, list[CheckReport]] = {"incremental": [], "full": [], "plain": []}
    asked = {"incremental": LandingLog(), "full": LandingLog(restart=True), "plain": None}

    def check(kind: str) -> Counts:
        # full: the full check of a table incremental loads land in, keeping the state the
        # next incremental check starts from; plain: one that keeps none (as measured above).
        report = datapolis_check(engine, asked[kind])
        if report.incremental != (kind == "incremental"):
            ran = "incremental" if report.incremental else "full"
            raise SystemExit(f"Datapolis ran a {ran} check where a {kind} one was asked for")
        reports[kind].append(report)
        return datapolis_counts(report)

    def relog() -> None:
        engine.execute(f"DELETE FROM {log.sql}")
        engine.execute(f"INSERT INTO {log.sql} SELECT * FROM {saved}")

    # In turns: plain (drops the state), full (builds it, opens an empty log), then the
    # incremental check with the load's log put back — the same rows redone on the same
    # state every run, so every run of each kind does equal work.
    found, took = taking_turns(runs, {"plain": lambda: check("plain"),
                                      "full": lambda: check("full"),
                                      "incremental": lambda: check("incremental"),
                                      "floor": lambda: floor_counts(engine, today)},
                               prepare={"incremental": relog})
    engine.close()
    counts, seconds = found["incremental"], took["incremental"]
    verify({"floor": found["floor"], "datapolis incremental": counts,
            "datapolis full": found["full"], "datapolis plain full": found["plain"]})
    return {"load": load, "counts": counts, "incremental_s": seconds, "full_s": took["full"],
            "plain_s": took["plain"], "floor_s": took["floor"],
            "statements": {kind: statements(min(done, key=lambda r: r.seconds))
                           for kind, done in reports.items()},
            "fraction_of_full": round(min(seconds) / min(took["full"]), 3),
            "fraction_of_plain": round(min(seconds) / min(took["plain"]), 3),
            "median_fraction_of_full": round(statistics.median(seconds)
                                             / statistics.median(took["full"]), 3)}


def statements(report: CheckReport) -> list[list[Any]]:
    """Each statement of a run with its seconds: where the time of a check goes."""
    return [[round(t, 3), " ".join(sql.split())[:140]]
            for t, sql in zip(report.query_seconds, report.queries, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=CONTENDERS, default=list(CONTENDERS))
    parser.add_argument("--no-incremental", action="store_true")
    args = parser.parse_args()
    today = date.today().isoformat()
    main_db, peer_db = prepared(args.rows, args.seed)

    counts: dict[str, Counts] = {}
    seconds: dict[str, list[float]] = {}
    # The floor and Datapolis take turns, run by run: the machine is shared, and its load
    # drifts by a factor of two within minutes.
    floor_engine = DuckDBEngine(main_db, read_only=True)
    ours: dict[str, Callable[[], Counts]] = {"floor": lambda: floor_counts(floor_engine, today)}
    if "datapolis" in args.only:
        work_engine = DuckDBEngine(working_copy(main_db))
        ours["datapolis"] = lambda: datapolis_counts(datapolis_check(work_engine))
    counts, seconds = taking_turns(args.runs, ours)
    for name in ours:
        print(f"{name}: {min(seconds[name]):.2f} s", flush=True)
    floor_engine.close()
    if "datapolis" in args.only:
        work_engine.close()
    for name, script, db in (("soda", "_quality_soda.py", peer_db),
                             ("gx", "_quality_gx.py", main_db)):
        if name in args.only:
            counts[name], seconds[name] = peer(name, script, db, today, args.runs)
            print(f"{name}: {min(seconds[name]):.2f} s", flush=True)

    print_rows(f"counts, {args.rows:,} rows", ["count", *counts],
               [[k, *(f"{c[k]:,}" for c in counts.values())] for k in spec.COUNTS])
    verify(counts)
    best = {name: min(s) for name, s in seconds.items()}
    middle = {name: statistics.median(s) for name, s in seconds.items()}
    print_rows(f"full check, best and median of {args.runs} runs",
               ["contender", "best s", "× floor", "median s", "× floor"],
               [[n, f"{s:.2f}", f"{s / best['floor']:.2f}", f"{middle[n]:.2f}",
                 f"{middle[n] / middle['floor']:.2f}"] for n, s in best.items()])
    result: dict[str, Any] = {"rows": args.rows, "seed": args.seed, "runs": args.runs,
                              "today": today, "counts": counts["floor"], "seconds": seconds,
                              "best_s": best,
                              "x_floor": {n: round(s / best["floor"], 3) for n, s in best.items()},
                              "median_x_floor": {n: round(s / middle["floor"], 3)
                                                 for n, s in middle.items()}}
    comparisons = []
    if "datapolis" in best:
        comparisons = [Comparison(f"full check, 13 counts, samples on, vs {n}", best["datapolis"],
                                  s, n, "s", higher_is_better=False,
                                  note=f"Datapolis {best['datapolis'] / best['floor']:.2f}x floor")
                       for n, s in best.items() if n != "datapolis"]
    if "datapolis" in args.only and not args.no_incremental:
        work = working_copy(main_db)
        result["incremental"] = step = incremental(work, args.rows, args.seed, today, args.runs)
        print_rows("after a load that changed 1 % of the rows", ["check", "seconds", "of full"],
                   [["Datapolis incremental", f"{min(step['incremental_s']):.2f}",
                     f"{step['fraction_of_full']:.3f}"],
                    ["Datapolis full, keeping state", f"{min(step['full_s']):.2f}", "1.000"],
                    ["Datapolis full, no state", f"{min(step['plain_s']):.2f}",
                     f"{min(step['plain_s']) / min(step['full_s']):.3f}"],
                    ["floor (full)", f"{min(step['floor_s']):.2f}",
                     f"{min(step['floor_s']) / min(step['full_s']):.3f}"]])
        comparisons.append(Comparison(
            "re-check after a 1 % load: incremental vs full", min(step["incremental_s"]),
            min(step["full_s"]), "Datapolis full check", "s", higher_is_better=False,
            note=f"{step['fraction_of_full']:.3f} of a full check (goal <= 0.1)"))
    for leftover in (CACHE / "work.duckdb", CACHE / "work.duckdb.wal"):
        leftover.unlink(missing_ok=True)
    if comparisons:
        print_comparisons(f"Datapolis quality checks, {args.rows:,} rows", comparisons)
    path = write_result("quality_checks", result, comparisons)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
