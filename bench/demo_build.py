"""Benchmark: building the demo city vs generating the same persons with Faker (zh_CN).

Datapolis builds the whole city (1,000,000 persons by default, with households, addresses,
enterprises, degrees, water, real estate, grid events, dirt, truth and the SQLite loads).
The peer is what a user would otherwise write: Faker row by row, producing the person rows
only (name, sex, ID number, birth date, phone, address). Faker is timed on a sample (20,000
by default) and extrapolated linearly to the same number of persons; the table says so.

    .venv/bin/python bench/demo_build.py [--people 1000000] [--faker-sample 20000]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import Comparison, print_comparisons, print_rows, write_result
from datapolis.demo import CITY, build_demo
from datapolis.demo.population import generate


def faker_persons(count: int, seed: int) -> float:
    """Seconds Faker needs for `count` person rows like the household register's."""
    from faker import Faker

    fake = Faker("zh_CN")
    Faker.seed(seed)
    started = time.perf_counter()
    rows = []
    for _ in range(count):
        sex = fake.random_element(("M", "F"))
        birth = fake.date_of_birth(minimum_age=0, maximum_age=95)
        rows.append((fake.name_male() if sex == "M" else fake.name_female(), sex,
                     fake.ssn(min_age=0, max_age=95), birth.isoformat(), fake.phone_number(),
                     fake.address()))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--faker-sample", type=int, default=20_000)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="datapolis-bench-"))
    try:
        started = time.perf_counter()
        manifest = build_demo(out_dir=scratch / "demo", people=args.people, seed=args.seed)
        seconds = time.perf_counter() - started
        size = sum(p.stat().st_size for p in (scratch / "demo").rglob("*") if p.is_file())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    persons_table = manifest.system("gaj_hjxt").tables["czrk"]
    # Like for like: only the person rows (names, IDs, births, phones, addresses), in memory.
    started = time.perf_counter()
    generate(CITY, args.people, args.seed)
    persons_seconds = time.perf_counter() - started
    sample_seconds = faker_persons(args.faker_sample, args.seed)
    faker_rate = args.faker_sample / sample_seconds
    faker_seconds = args.people / faker_rate
    ours_person_rate = args.people / seconds

    per_table = []
    for system in manifest.systems:
        for table, rows in system.tables.items():
            load = system.load_seconds.get(table, 0.0)
            per_table.append({"system": system.name, "table": table, "rows": rows,
                              "load_seconds": load,
                              "rows_per_second": round(rows / load) if load else None})
    print_rows(f"Demo build: {args.people:,} persons, {manifest.rows:,} rows in {seconds:.1f} s",
               ["system", "table", "rows", "generate s (system)", "load s", "rows/s"],
               [[s.name, t, f"{r:,}", f"{s.generate_seconds:.2f}",
                 f"{s.load_seconds.get(t, 0.0):.2f}",
                 f"{r / s.load_seconds[t]:,.0f}" if s.load_seconds.get(t) else "-"]
                for s in manifest.systems for t, r in s.tables.items()])
    note = f"Faker timed on {args.faker_sample:,} persons, extrapolated"
    comparisons = [
        Comparison("person rows only, per second", args.people / persons_seconds, faker_rate,
                   "Faker zh_CN", "/s", note=f"same fields, in memory; {note}"),
        Comparison("persons per second", ours_person_rate, faker_rate, "Faker zh_CN", "/s",
                   note="ours: whole city incl. all related rows; Faker: person rows only"),
        Comparison(f"time for {args.people:,} persons", seconds, faker_seconds, "Faker zh_CN",
                   "s", higher_is_better=False, note=note),
        Comparison("rows per second (all tables)", manifest.rows / seconds,
                   faker_rate, "Faker zh_CN", "/s", note="Faker: its person rows per second"),
    ]
    print_comparisons("Demo city build vs Faker (zh_CN)", comparisons)
    path = write_result("demo_build", {
        "people": args.people, "seed": args.seed, "seconds": round(seconds, 2),
        "rows": manifest.rows, "rows_per_second": round(manifest.rows / seconds),
        "persons_table_rows": persons_table, "bytes_written": size,
        "persons_only_seconds": round(persons_seconds, 2),
        "systems": [{"name": s.name, "generate_seconds": s.generate_seconds,
                     "rows": s.rows} for s in manifest.systems],
        "tables": per_table,
        "faker": {"sample": args.faker_sample, "sample_seconds": round(sample_seconds, 2),
                  "persons_per_second": round(faker_rate),
                  "extrapolated_seconds": round(faker_seconds, 1),
                  "extrapolated": True},
    }, comparisons)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
