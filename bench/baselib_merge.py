"""Benchmark: standardisation and base-library merges on the demo city, scored against its truth.

Builds and lands a demo (`datapolis demo build` + `demo land`, which standardises each table as
it lands and builds the base libraries) in a temporary home, then measures:
- every std build (seconds, rows) and the three base merges;
- merge precision and recall of base.person and base.legal_entity (pairs of source records)
  and field accuracy, linking on the identifier's 17-character body (ours) against the peer
  a user would write first: the exact 18-character identifier after the same standardisation.

    .venv/bin/python bench/baselib_merge.py [--people 20000] [--seed 20240601]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import Comparison, print_comparisons, print_rows, write_result
from datapolis.baselib import score as scoring
from datapolis.baselib.libraries import LEGAL_ENTITY, PERSON
from datapolis.baselib.merge import merge
from datapolis.config import load_settings
from datapolis.registry.db import open_registry
from datapolis.standardise.build import history
from datapolis.warehouse import DuckDBEngine

DATAPOLIS = str(Path(sys.executable).parent / "datapolis")


def run(home: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATAPOLIS_")}
    env["DATAPOLIS_HOME"] = str(home)
    subprocess.run([DATAPOLIS, *args], env=env, check=True, capture_output=True, text=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "var"
        run(home, "db", "upgrade")
        run(home, "demo", "build", "--people", str(args.people), "--seed", str(args.seed))
        started = time.perf_counter()
        run(home, "demo", "land")
        land_seconds = time.perf_counter() - started
        settings = load_settings(home=home)
        registry = open_registry(settings.registry_url, create=False)
        with registry.session() as session:
            builds = history(session, limit=1000)
        registry.close()
        std = [b for b in builds if b.layer == "std" and b.status == "succeeded"]
        base = [b for b in builds if b.layer == "base" and b.status == "succeeded"]
        orgs = scoring.demo_systems(settings.demo_dir)
        truth = settings.demo_dir / "truth"
        warehouse = DuckDBEngine(settings.warehouse_file)
        results, comparisons, rows = {}, [], []
        try:
            for library in (PERSON, LEGAL_ENTITY):
                found = {}
                for mode, exact in (("body", False), ("exact", True)):
                    started = time.perf_counter()
                    merge(warehouse, library, exact_keys=exact)
                    seconds = time.perf_counter() - started
                    s = scoring.score(warehouse, library, truth, orgs)
                    found[mode] = s
                    results[f"{library.name}_{mode}"] = {
                        "seconds": round(seconds, 3), "records": s.records,
                        "true_pairs": s.true_pairs, "merged_pairs": s.merged_pairs,
                        "correct_pairs": s.correct_pairs, "precision": round(s.precision, 5),
                        "recall": round(s.recall, 5), "base_records": s.base_records,
                        "field_accuracy": s.field_accuracy}
                    rows.append([library.table, mode, f"{s.records:,}", f"{s.true_pairs:,}",
                                 f"{s.precision:.4f}", f"{s.recall:.4f}", f"{seconds:.2f}"])
                body, exact_ = found["body"], found["exact"]
                comparisons.append(Comparison(f"{library.name} merge recall", body.recall * 100,
                                              exact_.recall * 100, "exact 18-char key", "%"))
                comparisons.append(Comparison(f"{library.name} merge precision",
                                              body.precision * 100, exact_.precision * 100,
                                              "exact 18-char key", "%"))
        finally:
            warehouse.close()
    std_seconds = sum(b.seconds or 0 for b in std)
    base_seconds = sum(b.seconds or 0 for b in base)
    print_rows(f"base-library merges, {args.people:,} persons",
               ["library", "key", "records", "true pairs", "precision", "recall", "seconds"],
               rows)
    print_rows("builds during `demo land`", ["layer", "builds", "seconds", "rows out"],
               [["std", str(len(std)), f"{std_seconds:.2f}",
                 f"{sum(b.rows_out or 0 for b in std):,}"],
                ["base", str(len(base)), f"{base_seconds:.2f}",
                 f"{sum(b.rows_out or 0 for b in base):,}"]])
    print_comparisons("linkage key: identifier body vs exact identifier", comparisons)
    write_result("baselib_merge", {
        "people": args.people, "seed": args.seed, "land_seconds": round(land_seconds, 2),
        "std_builds": len(std), "std_seconds": round(std_seconds, 2),
        "base_seconds": round(base_seconds, 2), "merges": results,
        "std": [{"table": b.warehouse_table, "seconds": b.seconds, "rows_in": b.rows_in,
                 "rows_out": b.rows_out, "rows_changed": b.rows_changed} for b in std],
    }, comparisons)


if __name__ == "__main__":
    main()
