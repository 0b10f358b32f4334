"""Peak memory of a portal download: `datapolis serve`'s process streaming a 5M-row open dataset
as CSV, XLSX, JSON and Parquet, against the naive peer a user might write (pandas: read the
same de-identified SELECT into a DataFrame, then `to_csv` / `to_excel` / `to_json` /
`to_parquet` into memory).

Each format runs in a fresh server process (uvicorn with the real app over a real registry and
DuckDB warehouse); its peak RSS is the kernel's high-water mark (VmHWM in /proc/<pid>/status)
read after the download, next to the mark of the idle server. The peer runs in its own process
in var/bench/venvs/pandas (`make bench-peers`) and reports its own high-water mark.
XLSX holds at most 1,048,576 rows a sheet: our writer starts a new sheet, pandas refuses, so the
peer writes the first 1,048,575 rows (less work than ours; its memory is still shown).

    python bench/portal_download.py [--rows 5000000] [--formats csv,xlsx,json,parquet]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bench._common import Comparison, print_comparisons, print_rows, write_result  # noqa: E402

PEER_PYTHON = ROOT / "var" / "bench" / "venvs" / "pandas" / "bin" / "python"
TABLE = "ods_371300_jtj.gjxl"
PEER = r"""
import io, resource, sys, time
import duckdb
path, sql, fmt = sys.argv[1], sys.argv[2], sys.argv[3]
started = time.perf_counter()
frame = duckdb.connect(path, read_only=True).sql(sql).df()
if fmt == "csv":
    body = frame.to_csv(index=False).encode("utf-8-sig")
elif fmt == "json":
    body = frame.to_json(orient="records", force_ascii=False).encode()
elif fmt == "parquet":
    buffer = io.BytesIO(); frame.to_parquet(buffer); body = buffer.getvalue()
else:
    buffer = io.BytesIO()
    frame.head(1_048_575).to_excel(buffer, index=False)
    body = buffer.getvalue()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, len(body),
      time.perf_counter() - started)
"""


def kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def build(home: Path, rows: int) -> str:
    """A registry with the portal's small open catalog and its bus-line table grown to `rows`;
    returns the dataset's slug."""
    from conftest import make_city, make_users  # noqa: F401  (tests/ on the path: the fixtures)

    from datapolis.portal.datasets import slug_of
    from datapolis.registry import migrate
    from datapolis.registry.db import open_registry
    from datapolis.warehouse import DuckDBEngine
    from tests.portal.conftest import build as build_portal

    registry = open_registry(f"sqlite:///{home / 'registry.sqlite'}")
    migrate.upgrade(registry)
    engine = DuckDBEngine(home / "warehouse.duckdb")
    portal = build_portal(registry, engine)
    engine.execute(f"""
        CREATE OR REPLACE TABLE {TABLE} AS
        SELECT (i % 300)::VARCHAR || '路' AS xlmc,
               '临沂站-' || (i % 997)::VARCHAR || '号站' AS smz,
               '3713021990' || lpad((i % 100000000)::VARCHAR, 8, '0') AS jsysfzh,
               CASE WHEN i % 7 = 0 THEN NULL ELSE '备注' || (i % 13)::VARCHAR END AS bz,
               (i * 7919 % 20000)::BIGINT AS rjkl,
               false AS _deleted
        FROM range({rows}) t(i)""")
    engine.close()
    registry.close()
    return slug_of(portal.codes["open"])


def public_sql(home: Path, slug: str) -> str:
    from datapolis.portal import datasets
    from datapolis.registry.db import open_registry
    from datapolis.warehouse import DuckDBEngine

    registry = open_registry(f"sqlite:///{home / 'registry.sqlite'}")
    engine = DuckDBEngine(home / "warehouse.duckdb")
    try:
        with registry.session() as session:
            view = datasets.public_view(session, engine, datasets.get_dataset(session, slug))
            assert view is not None and view.sql is not None
            return view.sql
    finally:
        engine.close()
        registry.close()


SERVE = r"""
import sys, uvicorn
from datapolis.config import Settings
from datapolis.registry.db import open_registry
from datapolis.web.app import create_app
home, port = sys.argv[1], int(sys.argv[2])
settings = Settings(env="dev", home=home, scheduler=False, sharing_monitor_seconds=0)
app = create_app(settings, open_registry(f"sqlite:///{home}/registry.sqlite"))
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
"""


def ours(home: Path, slug: str, fmt: str) -> dict[str, float]:
    from tests.portal.live import free_port

    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVE, str(home), str(port)], cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.2)
        requests.get(f"{base}/dataset/{slug}", timeout=60).raise_for_status()  # warm up
        idle = kib(server.pid, "VmHWM")
        started = time.perf_counter()
        size = 0
        with requests.get(f"{base}/dataset/{slug}/download.{fmt}", stream=True,
                          timeout=3600) as answer:
            answer.raise_for_status()
            for chunk in answer.iter_content(1 << 20):
                size += len(chunk)
        seconds = time.perf_counter() - started
        return {"peak": kib(server.pid, "VmHWM"), "idle": idle, "bytes": size,
                "seconds": seconds}
    finally:
        server.terminate()
        server.wait(timeout=60)


def peer(home: Path, sql: str, fmt: str) -> dict[str, float]:
    done = subprocess.run([str(PEER_PYTHON), "-c", PEER, str(home / "warehouse.duckdb"), sql,
                           fmt], capture_output=True, text=True, check=True)
    peak, size, seconds = done.stdout.split()
    return {"peak": int(peak), "bytes": int(size), "seconds": float(seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--formats", default="csv,xlsx,json,parquet")
    args = parser.parse_args()
    if not PEER_PYTHON.is_file():
        sys.exit("the pandas peer is missing: run `make bench-peers`")
    formats = args.formats.split(",")
    with tempfile.TemporaryDirectory(prefix="portal-download-") as tmp:
        home = Path(tmp)
        slug = build(home, args.rows)
        sql = public_sql(home, slug)
        results: dict[str, dict[str, dict[str, float]]] = {}
        for fmt in formats:
            results[fmt] = {"datapolis": ours(home, slug, fmt), "pandas": peer(home, sql, fmt)}
            print(fmt, json.dumps(results[fmt]), flush=True)
    mib = 1024 * 1024
    print_rows("Portal download: peak RSS and time", [
        "format", "ours peak MiB", "ours idle MiB", "ours s", "MB sent", "pandas peak MiB",
        "pandas s"], [[fmt, f"{r['datapolis']['peak'] / mib:,.0f}",
                       f"{r['datapolis']['idle'] / mib:,.0f}",
                       f"{r['datapolis']['seconds']:,.1f}",
                       f"{r['datapolis']['bytes'] / 1e6:,.0f}",
                       f"{r['pandas']['peak'] / mib:,.0f}", f"{r['pandas']['seconds']:,.1f}"]
                      for fmt, r in results.items()])
    comparisons = [Comparison(f"peak RSS, {fmt}", r["datapolis"]["peak"] / mib,
                              r["pandas"]["peak"] / mib, "pandas", "MiB",
                              higher_is_better=False) for fmt, r in results.items()]
    print_comparisons(f"Peak RSS of a {args.rows:,}-row download (lower is better)",
                      comparisons)
    write_result("portal_download", {"rows": args.rows, "results": results,
                                     "pyarrow": pa.__version__, "pid": os.getpid()},
                 comparisons)


if __name__ == "__main__":
    main()
