"""Soda Core's side of bench/quality_checks.py; runs in var/bench/venvs/soda (its own DuckDB).

    var/bench/venvs/soda/bin/python bench/_quality_soda.py --db FILE --today YYYY-MM-DD --runs 3

Reads table `person` of a DuckDB file in the storage format its DuckDB 1.0 reads, runs the 12
checks as a SodaCL user would write them (built-in metrics where SodaCL has one, `failed rows`
conditions or queries where it has none) with its default failed-row samples (100 rows), and
prints one JSON object: the counts and the wall time of each `Scan.execute()`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _quality_spec as spec
from soda.common.config_helper import ConfigHelper

# Soda Core sends anonymous usage statistics unless its config file says not to; it would
# write ~/.soda/config.yml with them on. Ours, beside the peer's venv, turns them off.
_CONFIG = Path(sys.prefix) / "soda-config.yml"
_CONFIG.write_text("send_anonymous_usage_stats: false\nuser_cookie_id: datapolis-bench\n")
ConfigHelper.get_instance(str(_CONFIG))  # before soda.scan, whose import reads it

from soda.scan import Scan  # noqa: E402

TABLE = "person"


def _indent(sql: str, spaces: int) -> str:
    return "\n".join(" " * spaces + line for line in sql.splitlines())


def checks_yaml(today: str) -> str:
    conditions = spec.conditions(today)
    quoted = lambda values: "[" + ", ".join(f"'{v}'" for v in values) + "]"  # noqa: E731
    return f"""
checks for {TABLE}:
  - row_count > 0:
      name: row_count
  - missing_count(gmsfhm) = 0:
      name: id_missing
  - failed rows:
      name: id_invalid
      fail condition: {json.dumps(conditions["id_invalid"])}
  - duplicate_count(gmsfhm) = 0:
      name: id_duplicate_values
  - failed rows:
      name: id_duplicate_rows
      fail query: |
{_indent(spec.duplicated_rows_sql(TABLE), 8)}
  - missing_count(xm) = 0:
      name: name_blank
      missing regex: ^ *$
  - invalid_count(sjhm) = 0:
      name: mobile_invalid
      valid regex: ^{spec.MOBILE_REGEX}$
  - invalid_count(xb) = 0:
      name: sex_invalid
      valid values: {quoted(spec.SEX_CODES)}
  - failed rows:
      name: birth_invalid
      fail condition: {json.dumps(conditions["birth_invalid"])}
  - invalid_count(nl) = 0:
      name: age_out_of_range
      valid min: {spec.AGE_MIN}
      valid max: {spec.AGE_MAX}
  - invalid_count(xzqh) = 0:
      name: division_invalid
      valid values: {quoted(spec.DIVISIONS)}
  - invalid_count(yx) = 0:
      name: email_invalid
      valid regex: ^{spec.EMAIL_REGEX}$
  - failed rows:
      name: registered_in_future
      fail condition: {json.dumps(conditions["registered_in_future"])}
"""


def scan_once(db: str, checks: str) -> dict[str, int]:
    scan = Scan()
    scan.set_data_source_name("bench")
    scan.add_configuration_yaml_str(
        f"data_source bench:\n  type: duckdb\n  path: {db}\n  read_only: true\n")
    scan.add_sodacl_yaml_str(checks)
    scan.execute()
    if scan.has_error_logs():
        raise SystemExit("Soda scan failed:\n" + scan.get_error_logs_text())
    counts = {}
    for check in scan.get_scan_results()["checks"]:
        counts[check["name"]] = int(check["diagnostics"]["value"])
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--today", required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    checks = checks_yaml(args.today)
    seconds, counts = [], {}
    for _ in range(args.runs + 1):  # the first run warms the file cache and imports
        started = time.perf_counter()
        counts = scan_once(args.db, checks)
        seconds.append(time.perf_counter() - started)
    print(json.dumps({"counts": counts, "seconds": seconds[1:], "warm_up_s": seconds[0]}))


if __name__ == "__main__":
    main()
