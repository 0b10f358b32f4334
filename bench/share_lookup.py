"""Benchmark: key lookup through the sharing gateway on a 10,000,000-row table, 64 clients.

Three servers answer the same lookups (random keys of one table), one after another:

1. full — `datapolis serve`, `GET /share/v1/{resource}/records/{key}` signed with HMAC-SM3:
   signature and nonce check, the app's grant, row scope and items, de-identification (the
   name is masked), quota/rate admission and a call record to the meter.
2. bare — the same server with the bench-only setting `share_bench_bare`:
   `GET /share/bench/{resource}/records/{key}` runs the same warehouse query and nothing else.
   Goal: full >= 80 % of bare's throughput.
3. datasette — Datasette (pinned in bench/peers/datasette.txt, `make bench-peers`) serving the
   same table copied into SQLite with the key as primary key: `/bench/czrk_bench/{key}.json`.

The load generator is asyncio over raw keep-alive HTTP/1.1 sockets in one process (a few tens
of microseconds per call, signing included), so the server, not the client, is measured; its
CPU time is reported beside the wall time to show it.

With `--index` the warehouse table gets a DuckDB ART index on its key first (without, any index
is dropped): a point lookup then costs about 2 ms instead of a 10M-row scan, so the gateway's
own overhead weighs more in the ratio. Datasette's SQLite copy always has its primary key.

    .venv/bin/python bench/share_lookup.py [--rows 10000000] [--clients 64] [--seconds 20]
                                           [--index]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx2 as httpx

from bench._common import Comparison, console, print_comparisons, print_rows, write_result
from bench.share_load import Server, free_port
from datapolis.registry import migrate
from datapolis.registry.db import open_registry
from datapolis.sharing.gateway.client import sign
from datapolis.warehouse import DuckDBEngine
from tests.sharing.metering import world as share_world

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench" / "share_lookup"
DATASETTE = ROOT / "var" / "bench" / "venvs" / "datasette" / "bin" / "datasette"


@dataclass
class Load:
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    client_cpu: float = 0.0

    @property
    def calls(self) -> int:
        return sum(self.statuses.values())

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else 0.0

    def summary(self) -> dict[str, Any]:
        return {"calls": self.calls, "seconds": round(self.seconds, 2),
                "calls_per_second": round(self.calls / self.seconds, 1),
                "p50_ms": round(self.percentile(0.50), 2),
                "p99_ms": round(self.percentile(0.99), 2),
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "transport_errors": self.errors,
                "client_cpu_share": round(self.client_cpu / self.seconds, 2)}


async def _call(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                request: bytes) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, chunked = 0, False
    for line in head.split(b"\r\n"):
        lowered = line.lower()
        if lowered.startswith(b"content-length:"):
            length = int(line[15:])
        elif lowered.startswith(b"transfer-encoding:") and b"chunked" in lowered:
            chunked = True
    if chunked:  # Datasette streams its JSON
        while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")
    elif length:
        await reader.readexactly(length)
    return status


async def run_load(port: int, make_request: Any, *, clients: int, seconds: float,
                   warmup: float = 3.0) -> Load:
    """`clients` keep-alive connections calling back to back; the first `warmup` seconds
    are not counted."""
    load = Load()
    started = time.perf_counter()
    counted_from, deadline = started + warmup, started + warmup + seconds
    rng = random.Random(11)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while (now := time.perf_counter()) < deadline:
                request = make_request(rng)
                try:
                    status = await _call(reader, writer, request)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    load.errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                if now >= counted_from:
                    load.latencies.append(time.perf_counter() - now)
                    load.statuses[status] = load.statuses.get(status, 0) + 1
        finally:
            writer.close()

    cpu = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.gather(*(worker() for _ in range(clients)))
    after = resource.getrusage(resource.RUSAGE_SELF)
    load.seconds = time.perf_counter() - counted_from
    load.client_cpu = ((after.ru_utime + after.ru_stime) - (cpu.ru_utime + cpu.ru_stime)) * (
        seconds / (seconds + warmup))
    return load


def merged(runs: list[Load]) -> Load:
    """One Load of several runs: calls and latencies pooled, time summed."""
    total = Load()
    for run in runs:
        for status, count in run.statuses.items():
            total.statuses[status] = total.statuses.get(status, 0) + count
        total.latencies += run.latencies
        total.errors += run.errors
        total.seconds += run.seconds
        total.client_cpu += run.client_cpu
    return total


def request_bytes(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in
                                                         headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def world(rows: int) -> share_world.World:
    """The home with the 10M-row table, built once and kept (its marker names the size)."""
    home = WORK / f"home-{rows}"
    marker = home / "built"
    url = f"sqlite:///{home / 'registry.sqlite'}"
    if marker.exists():
        code, key, secret = marker.read_text().split("\n")[:3]
        registry = open_registry(url)  # migrations may have landed since it was built
        try:
            migrate.upgrade(registry)
        finally:
            registry.close()
        return share_world.World(home=home, database_url=url, resource_code=code, app_key=key,
                                 secret=secret, rows=rows)
    home.mkdir(parents=True, exist_ok=True)
    console.print(f"building a {rows:,}-row table and its grant in {home} ...")
    built = share_world.build(home, url, rows=rows)
    marker.write_text(f"{built.resource_code}\n{built.app_key}\n{built.secret}\n")
    return built


def sqlite_copy(built: share_world.World) -> Path:
    """The same table in SQLite, the key as primary key, for Datasette."""
    target = WORK / f"bench-{built.rows}.db"
    if target.exists():
        return target
    console.print(f"copying the table into {target} ...")
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    engine = DuckDBEngine(built.home / "warehouse.duckdb", read_only=True)
    db = sqlite3.connect(partial)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("CREATE TABLE czrk_bench (lsh TEXT PRIMARY KEY, xb TEXT, csrq TEXT, "
                   "xzqh_dm TEXT, xm TEXT)")
        for batch in engine.query_batches(f"SELECT lsh, xb, csrq, xzqh_dm, xm FROM "
                                          f"{share_world.TABLE} ORDER BY lsh", batch_size=200_000):
            db.executemany("INSERT INTO czrk_bench VALUES (?, ?, ?, ?, ?)",
                           zip(*(c.to_pylist() for c in batch.columns), strict=True))
        db.commit()
    finally:
        db.close()
        engine.close()
    partial.replace(target)
    return target


def key_index(built: share_world.World, wanted: bool) -> None:
    """Create or drop the ART index on the table's key (the server is not running)."""
    engine = DuckDBEngine(built.home / "warehouse.duckdb")
    try:
        if wanted:
            engine.execute(f"CREATE INDEX IF NOT EXISTS bench_key ON {share_world.TABLE} (lsh)")
        else:
            schema = share_world.TABLE.split(".")[0]
            engine.execute(f"DROP INDEX IF EXISTS {schema}.bench_key")
    finally:
        engine.close()


def wait_for(url: str, timeout: float = 120.0) -> None:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=15.0, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--index", action="store_true",
                        help="an ART index on the warehouse table's key")
    args = parser.parse_args()
    built = world(args.rows)
    key_index(built, args.index)
    code = quote(built.resource_code, safe="/")

    def key(rng: random.Random) -> str:
        return built.key(rng.randrange(built.rows))

    def full(rng: random.Random) -> bytes:
        path = f"/share/v1/{code}/records/{key(rng)}"
        return request_bytes(path, sign("GET", path, app_key=built.app_key,
                                        secret=built.secret))

    def bare(rng: random.Random) -> bytes:
        return request_bytes(f"/share/bench/{code}/records/{key(rng)}", {})

    # The machine is shared: full and bare alternate, round by round, so both see the same
    # neighbours; the ratio is taken per round and its median reported.
    loads: dict[str, list[Load]] = {"full": [], "bare": []}
    log = WORK / "serve.log"
    server = Server(built, free_port(), True, log)
    server.start()
    try:
        for round_ in range(args.rounds):
            order = (("full", full), ("bare", bare))
            for name, make in order if round_ % 2 == 0 else order[::-1]:
                console.print(f"round {round_ + 1}, {name}: {args.clients} clients for "
                              f"{args.seconds:.0f} s ...")
                loads[name].append(asyncio.run(run_load(server.port, make, clients=args.clients,
                                                        seconds=args.seconds)))
    finally:
        server.stop()
    results = {name: merged(runs).summary() for name, runs in loads.items()}
    round_ratios = [f.calls / f.seconds / (b.calls / b.seconds)
                    for f, b in zip(loads["full"], loads["bare"], strict=True)]
    results["full"]["ratio_to_bare_by_round"] = [round(r, 3) for r in round_ratios]

    if DATASETTE.exists():
        db = sqlite_copy(built)
        port = free_port()
        with (WORK / "datasette.log").open("ab") as out:
            peer = subprocess.Popen([str(DATASETTE), "serve", "-i", str(db), "--port",
                                     str(port), "--setting", "max_returned_rows", "1000"],
                                    stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for(f"http://127.0.0.1:{port}/-/versions.json")

            def datasette(rng: random.Random) -> bytes:
                return request_bytes(f"/{db.stem}/czrk_bench/{key(rng)}.json", {})

            console.print(f"datasette: {args.clients} clients for {args.seconds:.0f} s ...")
            results["datasette"] = asyncio.run(run_load(
                port, datasette, clients=args.clients, seconds=args.seconds * args.rounds
            )).summary()
        finally:
            peer.terminate()
            peer.wait(timeout=30)
    else:
        console.print(f"[yellow]no Datasette at {DATASETTE}: run `make bench-peers`[/]")

    rows = [[name, f"{r['calls_per_second']:,.0f}", f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}",
             str(r["statuses"]), str(r["transport_errors"]), f"{r['client_cpu_share']:.2f}"]
            for name, r in results.items()]
    indexed = "with" if args.index else "without"
    print_rows(f"key lookup, {args.rows:,} rows, {args.clients} clients, {indexed} key index",
               ["server", "calls/s", "p50 ms", "p99 ms", "statuses", "errors",
                "client CPU (cores)"], rows)
    comparisons = [
        Comparison("throughput", results["full"]["calls_per_second"],
                   results["bare"]["calls_per_second"], "bare endpoint", "calls/s",
                   note=f"goal >= 0.8x; median of rounds {statistics.median(round_ratios):.2f}x"),
        Comparison("p99 latency", results["full"]["p99_ms"], results["bare"]["p99_ms"],
                   "bare endpoint", "ms", higher_is_better=False)]
    if "datasette" in results:
        comparisons += [
            Comparison("throughput", results["full"]["calls_per_second"],
                       results["datasette"]["calls_per_second"], "Datasette", "calls/s"),
            Comparison("p99 latency", results["full"]["p99_ms"], results["datasette"]["p99_ms"],
                       "Datasette", "ms", higher_is_better=False)]
    print_comparisons("full gateway path vs bare endpoint and Datasette", comparisons)
    name = "share_lookup_indexed" if args.index else "share_lookup"
    write_result(name, {"rows": args.rows, "clients": args.clients, "seconds": args.seconds,
                        "rounds": args.rounds,
                        "median_ratio_to_bare": round(statistics.median(round_ratios), 3),
                        "key_index": args.index, "load_average": os.getloadavg(),
                        "results": results}, comparisons)


if __name__ == "__main__":
    main()
